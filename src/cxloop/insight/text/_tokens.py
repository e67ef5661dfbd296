"""Japanese tokens with character offsets, shared by sentiment, themes and discovery."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import fugashi


@dataclass(frozen=True, slots=True)
class Token:
    surface: str
    lemma: str  # UniDic lemma, normalised spelling (e.g. 無い for ない)
    base: str  # dictionary form in the spelling used in the text (e.g. ない)
    pos1: str
    pos2: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _tagger() -> fugashi.Tagger:
    # One tagger per process: building it loads the dictionary (~50 ms).
    return fugashi.Tagger()


def tokenize_ja(text: str) -> list[Token]:
    """Tokenize Japanese (or mixed) text; offsets index into ``text``."""
    tokens: list[Token] = []
    pos = 0
    for word in _tagger()(text):
        surface = word.surface
        start = text.find(surface, pos)
        if start < 0:  # MeCab normalises nothing we rely on, but never trust offsets blindly
            start = pos
        end = start + len(surface)
        pos = end
        feature = word.feature
        lemma = feature.lemma or surface
        base = feature.orthBase or surface
        tokens.append(
            Token(surface, lemma, base, feature.pos1 or "", feature.pos2 or "", start, end)
        )
    return tokens
