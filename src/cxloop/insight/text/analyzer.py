"""The Analyzer protocol and its backends: fast (lexicon), accurate and precise (e5 vectors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from cxloop.insight.text._tokens import token_columns
from cxloop.insight.text.language import detect_language
from cxloop.insight.text.model import E5Sentiment
from cxloop.insight.text.sentiment import (
    SentenceSentiment,
    Sentiment,
    analyze_sentiment,
    rollup,
    score_sentences,
)
from cxloop.insight.text.taxonomy import Taxonomy, default_taxonomy
from cxloop.insight.text.themes import ThemeHit, ThemeMatcher

Mode = Literal["fast", "accurate", "precise"]
MODES: tuple[Mode, ...] = ("fast", "accurate", "precise")
# The classifier was trained on English; elsewhere it only speaks where the native
# lexicon finds nothing, and then weakly: transferred across languages it is right on
# polarity but poor at telling opinion from fact, so it may lean a silent sentence but
# only tips it out of the neutral band when very sure (|model| > 0.67).
_TRANSFER_WEIGHT = 0.15
_MODEL_LANGUAGES = frozenset({"en"})


@dataclass(frozen=True)
class Analysis:
    language: str
    sentiment: Sentiment
    themes: list[ThemeHit] = field(default_factory=list)


class Analyzer(Protocol):
    mode: str

    def analyze(self, texts: Sequence[str]) -> list[Analysis]: ...


class LexiconAnalyzer:
    """Fast mode: lexicon sentiment and taxonomy matching; thousands of records a second."""

    mode = "fast"

    def __init__(self, taxonomy: Taxonomy | None = None) -> None:
        self.matcher = ThemeMatcher(taxonomy or default_taxonomy())

    def analyze(self, texts: Sequence[str]) -> list[Analysis]:
        out = []
        for text in texts:
            language = detect_language(text)
            tokens = token_columns(text) if language == "ja" else None
            sentiment = analyze_sentiment(text, language, tokens)
            out.append(Analysis(language, sentiment, self.matcher.match(text, language, tokens)))
        return out


class EmbeddingAnalyzer(LexiconAnalyzer):
    """Accurate mode: e5 sentence vectors (8 layers, early exit after 2) + a linear head,
    combined with the lexicon score; precise mode is the same on all 12 layers."""

    mode = "accurate"

    def __init__(
        self, taxonomy: Taxonomy | None = None, sentiment: E5Sentiment | None = None
    ) -> None:
        super().__init__(taxonomy)
        # The encoder itself is loaded once per process on first use (see e5_encoder).
        self.sentiment = sentiment or E5Sentiment.load(self.mode)

    def analyze(self, texts: Sequence[str]) -> list[Analysis]:
        languages = [detect_language(t) for t in texts]
        tokens = [
            token_columns(t) if lang == "ja" else None
            for t, lang in zip(texts, languages, strict=True)
        ]
        lexical = [
            score_sentences(text, lang, toks)
            for text, lang, toks in zip(texts, languages, tokens, strict=True)
        ]
        flat = [(i, s) for i, sentences in enumerate(lexical) for s in sentences]
        # Outside the model's training language the lexicon decides wherever it speaks,
        # so only the sentences it is silent on are worth embedding.
        todo = [
            k for k, (i, s) in enumerate(flat) if languages[i] in _MODEL_LANGUAGES or s.score == 0.0
        ]
        model_scores = np.zeros(len(flat))
        if todo:
            model_scores[todo] = self.sentiment.scores(
                [flat[k][1].text for k in todo], [flat[k][1].score for k in todo]
            )
        per_record: list[list[SentenceSentiment]] = [[] for _ in texts]
        for (i, s), model_score in zip(flat, model_scores, strict=True):
            score = _combine(languages[i], s.score, float(model_score))
            per_record[i].append(SentenceSentiment(s.text, s.start, s.end, round(score, 4)))
        return [
            Analysis(lang, rollup(sentences), self.matcher.match(text, lang, toks))
            for text, lang, toks, sentences in zip(
                texts, languages, tokens, per_record, strict=True
            )
        ]


class PreciseAnalyzer(EmbeddingAnalyzer):
    """Precise mode: as accurate, on all 12 layers and without the early exit."""

    mode = "precise"


def _combine(language: str, lexicon_score: float, model_score: float) -> float:
    if language in _MODEL_LANGUAGES:
        return model_score
    if lexicon_score:
        return lexicon_score
    return _TRANSFER_WEIGHT * model_score


_DEFAULTS: dict[str, Analyzer] = {}


def get_analyzer(mode: Mode = "fast", taxonomy: Taxonomy | None = None) -> Analyzer:
    """Analyzer for ``mode``; analyzers on the default taxonomy are built once per process."""
    factories: dict[str, type[LexiconAnalyzer]] = {
        "fast": LexiconAnalyzer,
        "accurate": EmbeddingAnalyzer,
        "precise": PreciseAnalyzer,
    }
    if mode not in factories:
        raise ValueError(f"unknown analyzer mode {mode!r}: use {', '.join(MODES)}")
    factory = factories[mode]
    if taxonomy is not None:
        return factory(taxonomy)
    if mode not in _DEFAULTS:
        _DEFAULTS[mode] = factory()
    return _DEFAULTS[mode]
