"""Japanese tokens with character offsets, shared by sentiment, themes and discovery."""

from __future__ import annotations

from functools import lru_cache
from itertools import accumulate, repeat
from operator import sub
from typing import NamedTuple

import fugashi


class Token(NamedTuple):
    """One morpheme. A tuple, not a frozen dataclass: tokens are built by the million."""

    surface: str
    lemma: str  # UniDic lemma, normalised spelling (e.g. 無い for ない, 為る for する)
    pos1: str
    pos2: str
    start: int
    end: int


class Columns(NamedTuple):
    """A text's tokens column by column: what the hot paths read, built without a Python
    step per token (building a tuple per token costs more than all the scoring)."""

    surfaces: list[str]
    lemmas: list[str]
    pos: list[str]  # pos1-pos2, e.g. 助詞-接続助詞; 副詞- when there is no pos2
    starts: list[int]
    ends: list[int]


def split_pos(pos: str) -> tuple[str, str]:
    """``(pos1, pos2)`` of a :class:`Columns` part of speech, with ``*`` for no pos2."""
    pos1, _, pos2 = pos.partition("-")
    return pos1, pos2 or "*"


# MeCab prints three tab-ended fields per morpheme and nothing else: the surface with the
# whitespace MeCab skipped before it (%M), the lemma, and pos1-pos2. The skipped
# whitespace makes offsets a running sum of lengths, and fixed-width records let the
# columns be cut with slices. B and E fence the output because fugashi strips it (which
# would eat leading whitespace). Unknown words have no lemma feature: their surface
# stands in, as in UniDic's own unk format.
_FIELDS = 3
_ARGS = (
    r'-O "" --node-format=%M\\t%f[7]\\t%f[0]-%f[1]\\t '
    r"--unk-format=%M\\t%m\\t%f[0]-%f[1]\\t --bos-format=B --eos-format=E"
)
_BLANKS = str.maketrans("\t\0", "  ")
_SKIPPED = " \t\n\x0b"  # the only characters MeCab drops (its SPACE class)


@lru_cache(maxsize=1)
def _tagger() -> fugashi.Tagger:
    # One tagger per process: building it loads the dictionary (~50 ms).
    return fugashi.Tagger(_ARGS)


def tokenize_ja(text: str) -> list[Token]:
    """Tokenize Japanese (or mixed) text; offsets index into ``text``."""
    cols = token_columns(text)
    return [
        Token(surface, lemma, *split_pos(pos), start, end)
        for surface, lemma, pos, start, end in zip(*cols, strict=True)
    ]


def token_columns(text: str) -> Columns:
    """:func:`tokenize_ja` as columns, for hot paths."""
    if "\t" in text or "\0" in text:
        # A tab is whitespace to MeCab but our field separator, and MeCab stops at NUL;
        # a space is the same length, so the offsets still index into ``text``.
        return token_columns(text.translate(_BLANKS))
    fields = _tagger().parse(text)[1:-2].split("\t")  # the last tab too
    padded = fields[0::_FIELDS]
    if not padded[-1]:
        return Columns([], [], [], [], [])
    # The same string back when there is nothing to strip; U+3000 and the like are tokens.
    surfaces = list(map(str.lstrip, padded, repeat(_SKIPPED)))
    ends = list(accumulate(map(len, padded)))
    starts = list(map(sub, ends, map(len, surfaces)))
    cols = Columns(surfaces, fields[1::_FIELDS], fields[2::_FIELDS], starts, ends)
    if text[starts[-1] : ends[-1]] != surfaces[-1]:  # never trust offsets blindly
        return _realign(text, cols)
    return cols


def _realign(text: str, cols: Columns) -> Columns:
    """Offsets by searching each surface, for input MeCab did not echo character for character."""
    starts, ends = [], []
    pos = 0
    for surface in cols.surfaces:
        start = text.find(surface, pos)
        if start < 0:
            start = pos
        pos = start + len(surface)
        starts.append(start)
        ends.append(pos)
    return cols._replace(starts=starts, ends=ends)
