"""English sentence polarity: VADER with customer-experience vocabulary added."""

from __future__ import annotations

from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# Words VADER does not know or scores as neutral but that are clearly evaluative in
# customer feedback (values on VADER's -4..4 scale).
CX_LEXICON: dict[str, float] = {
    "rude": -2.5,
    "unhelpful": -2.0,
    "unprofessional": -2.2,
    "unresponsive": -2.0,
    "overpriced": -2.0,
    "overcharged": -2.2,
    "pricey": -1.0,
    "expensive": -1.0,
    "slow": -1.3,
    "late": -1.2,
    "delayed": -1.5,
    "waited": -1.0,
    "waiting": -0.8,
    "wait": -0.5,
    "cold": -0.6,
    "stale": -1.8,
    "bland": -1.8,
    "tasteless": -2.0,
    "soggy": -1.8,
    "greasy": -1.3,
    "undercooked": -2.0,
    "overcooked": -1.8,
    "dirty": -2.0,
    "filthy": -2.8,
    "smelly": -1.8,
    "noisy": -1.3,
    "cramped": -1.3,
    "broken": -1.8,
    "broke": -1.8,
    "defective": -2.2,
    "faulty": -2.0,
    "crashes": -1.8,
    "crashed": -1.8,
    "glitchy": -1.8,
    "buggy": -1.8,
    "flimsy": -1.8,
    "cheaply": -1.2,
    "useless": -2.2,
    "worthless": -2.5,
    "junk": -2.2,
    "mediocre": -1.5,
    "disappointing": -2.2,
    "disappointment": -2.2,
    "refund": -0.8,
    "return": -0.3,
    "returned": -0.8,
    "cancel": -0.8,
    "unsubscribe": -0.8,
    "waste": -2.0,
    "wasted": -2.0,
    "poorly": -2.0,
    "worst": -3.2,
    "delicious": 2.7,
    "tasty": 2.2,
    "yummy": 2.2,
    "fresh": 1.3,
    "friendly": 2.2,
    "attentive": 2.0,
    "courteous": 2.0,
    "polite": 1.8,
    "prompt": 1.5,
    "quick": 1.0,
    "fast": 1.0,
    "clean": 1.5,
    "spotless": 2.2,
    "cozy": 1.8,
    "reasonable": 1.3,
    "affordable": 1.5,
    "recommend": 2.0,
    "recommended": 2.0,
    "works": 1.0,
    "worked": 0.8,
    "sturdy": 1.5,
    "reliable": 1.8,
    "helpful": 2.0,
    "knowledgeable": 1.8,
    "seamless": 1.8,
    "intuitive": 1.8,
    "comfortable": 1.8,
    "loved": 2.9,
    "impressed": 2.2,
}


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(CX_LEXICON)
    return analyzer


def score_sentence(text: str) -> float:
    """VADER compound score of one English sentence, in [-1, 1]."""
    return float(_analyzer().polarity_scores(text)["compound"])
