"""Sentence splitting for Japanese and English feedback."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at Japanese 。！？ (and their half-width forms), at ASCII .!? followed by
# whitespace, or at a line break. Closing quotes and brackets stay with their sentence.
# Every branch starts with a boundary character (the abbreviation checks look back from
# the first dot), which lets the regex engine skip straight to candidates.
_BOUNDARY = re.compile(
    r"[。！？!?｡]+[」』）)\"']*\s*"
    r"|\.(?<![A-Z]\.)(?<!\b(?:Mr|Ms|Dr|St|vs|No)\.)\.*[\"')]*(?:\s+|$)"
    r"|\n+"
)


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences with offsets; whitespace-only pieces are dropped."""
    return [Sentence(text[s:e], s, e) for s, e in sentence_spans(text)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of :func:`split_sentences`, without the objects."""
    out: list[tuple[int, int]] = []
    pos = 0
    for end in [m.end() for m in _BOUNDARY.finditer(text)] + [len(text)]:
        piece = text[pos:end]
        stripped = piece.strip()
        if stripped:
            start = pos + len(piece) - len(piece.lstrip())
            out.append((start, start + len(stripped)))
        pos = end
    return out
