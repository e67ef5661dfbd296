"""Sentence splitting for Japanese and English feedback."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at Japanese 。！？ (and their half-width forms), at ASCII .!? followed by
# whitespace, or at a line break. Closing quotes and brackets stay with their sentence.
_BOUNDARY = re.compile(
    r"[。！？!?｡]+[」』）)\"']*\s*"
    r"|(?<![A-Z])(?<!\b(?:Mr|Ms|Dr|St|vs|No))\.+[\"')]*(?:\s+|$)"
    r"|\n+"
)


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences with offsets; whitespace-only pieces are dropped."""
    out: list[Sentence] = []
    pos = 0
    for match in _BOUNDARY.finditer(text):
        _add(text, pos, match.end(), out)
        pos = match.end()
    _add(text, pos, len(text), out)
    return out


def _add(text: str, start: int, end: int, out: list[Sentence]) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    s = start + lead
    out.append(Sentence(stripped, s, s + len(stripped)))
