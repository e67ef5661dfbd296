"""Sentence-level sentiment rolled up to a record label and score."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cxloop.insight.text import sentiment_en, sentiment_ja
from cxloop.insight.text._tokens import Columns, token_columns
from cxloop.insight.text.sentences import sentence_spans, split_sentences

Label = Literal["very_negative", "negative", "neutral", "positive", "very_positive", "mixed"]

# Record-level cut points on the [-1, 1] score. 0.1 keeps one faint word ("ok") neutral;
# 0.75 needs an intensified or repeated strong word for "very".
NEUTRAL_BAND = 0.1
VERY = 0.75
# A record is "mixed" when it has a sentence at least this positive and one this negative.
MIXED_STRENGTH = 0.45
# Sentences without evaluative words still count, a little, so that one "great" among
# ten factual sentences is not read as an outright rave.
_SILENT_WEIGHT = 0.25


@dataclass(frozen=True, slots=True)
class SentenceSentiment:
    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: Label
    score: float
    sentences: tuple[SentenceSentiment, ...] = ()


def label_for(score: float) -> Label:
    """Label of a score in [-1, 1] (never ``mixed``: that needs the sentences)."""
    if score >= VERY:
        return "very_positive"
    if score >= NEUTRAL_BAND:
        return "positive"
    if score <= -VERY:
        return "very_negative"
    if score <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def rollup(sentences: Sequence[SentenceSentiment]) -> Sentiment:
    """Combine sentence scores into the record's label and score."""
    if not sentences:
        return Sentiment("neutral", 0.0, ())
    weights = [1.0 if s.score else _SILENT_WEIGHT for s in sentences]
    score = sum(w * s.score for w, s in zip(weights, sentences, strict=True)) / sum(weights)
    score = max(-1.0, min(1.0, score))
    strongest = max(s.score for s in sentences)
    weakest = min(s.score for s in sentences)
    label: Label
    if strongest >= MIXED_STRENGTH and weakest <= -MIXED_STRENGTH:
        label = "mixed"
    else:
        label = label_for(score)
    return Sentiment(label, round(score, 4), tuple(sentences))


def lexicon_sentence_score(text: str, language: str) -> float:
    """Fast polarity of one sentence: Japanese lexicon for ``ja``, VADER+CX otherwise."""
    if language == "ja":
        return sentiment_ja.score_sentence(text)
    return sentiment_en.score_sentence(text)


def score_sentences(
    text: str, language: str, tokens: Columns | None = None
) -> list[SentenceSentiment]:
    """Split ``text`` and score each sentence with the lexicon.

    For Japanese, pass the tokens of the whole text if you have them: tokenizing once and
    slicing per sentence halves the cost when themes need the same tokens.
    """
    out = []
    if language == "ja":
        cols = tokens if tokens is not None else token_columns(text)
        starts = cols.starts
        lexicon = sentiment_ja.default_lexicon()
        for start, end in sentence_spans(text):
            a = bisect_left(starts, start)
            b = bisect_left(starts, end, a)
            score = sentiment_ja.score_span(cols, a, b, lexicon)
            out.append(SentenceSentiment(text[start:end], start, end, round(score, 4)))
        return out
    for s in split_sentences(text):
        score = sentiment_en.score_sentence(s.text)
        out.append(SentenceSentiment(s.text, s.start, s.end, round(score, 4)))
    return out


def analyze_sentiment(text: str, language: str, tokens: Columns | None = None) -> Sentiment:
    """Lexicon-based sentiment of a whole record (the fast mode)."""
    return rollup(score_sentences(text, language, tokens))
