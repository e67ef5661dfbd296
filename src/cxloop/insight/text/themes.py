"""Match texts against a theme taxonomy, returning scores and character spans."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress

from cxloop.insight.text._tokens import Columns, token_columns, tokenize_ja
from cxloop.insight.text.taxonomy import Taxonomy, Theme

# A single term is weaker evidence than a multi-word phrase written by the taxonomy's author.
_TERM_WEIGHT = 0.7
_PHRASE_WEIGHT = 1.0


@dataclass(frozen=True, slots=True)
class ThemeHit:
    id: str
    name: str
    score: float  # in (0, 1): 1 - exp(-evidence)
    spans: tuple[tuple[int, int], ...]  # (start, end) into the analysed text
    parent: str | None = None


_EN_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
_EN_SUFFIXES = ("", "s", "es", "ed", "d", "ing", "ly")
# Both languages become a sequence of units (lower-cased words, or UniDic lemmas) that
# is looked up in one index; a key is a tuple of units, a value the themes it evidences.
_Index = dict[tuple[str, ...], list[tuple[int, float]]]


def _en_units(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _EN_WORD.finditer(text.lower())]


def _sizes(index: _Index) -> dict[str, tuple[int, ...]]:
    """First unit -> the key lengths starting with it, longest first."""
    sizes: dict[str, set[int]] = {}
    for key in index:
        sizes.setdefault(key[0], set()).add(len(key))
    return {first: tuple(sorted(n, reverse=True)) for first, n in sizes.items()}


def _lemma_key(text: str) -> tuple[str, ...]:
    return tuple(t.lemma for t in tokenize_ja(text) if t.pos1 != "補助記号")


def _add(index: _Index, key: tuple[str, ...], theme: int, weight: float) -> None:
    entries = index.setdefault(key, [])
    for i, (other, w) in enumerate(entries):
        if other == theme:
            entries[i] = (theme, max(w, weight))
            return
    entries.append((theme, weight))


class ThemeMatcher:
    """Compiled form of a taxonomy; build once and reuse (compiling tokenises every term)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._themes: tuple[Theme, ...] = taxonomy.themes
        self._latin: _Index = {}
        self._ja: _Index = {}
        self._ja_literals: list[tuple[str, int]] = []
        for n, theme in enumerate(self._themes):
            for kind, weight in (("terms", _TERM_WEIGHT), ("phrases", _PHRASE_WEIGHT)):
                for lang, words in getattr(theme, kind).items():
                    for word in words:
                        if lang == "ja":
                            self._add_ja(word, n, weight, literal=kind == "phrases")
                        else:
                            self._add_latin(word, n, weight)
        self._latin_sizes = _sizes(self._latin)
        self._ja_sizes = _sizes(self._ja)
        # One regex pass for all verbatim Japanese phrases instead of a find() per phrase.
        self._ja_literal_themes: dict[str, list[int]] = {}
        for literal, n in self._ja_literals:
            self._ja_literal_themes.setdefault(literal, []).append(n)
        ordered = sorted(self._ja_literal_themes, key=len, reverse=True)
        self._ja_literal_re = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def _add_latin(self, word: str, theme: int, weight: float) -> None:
        units = tuple(u for u, _, _ in _en_units(word))
        if not units:
            return
        weight = _PHRASE_WEIGHT if len(units) > 1 else weight
        for suffix in _EN_SUFFIXES:  # cheap inflection: plural, past, -ing on the last word
            _add(self._latin, units[:-1] + (units[-1] + suffix,), theme, weight)

    def _add_ja(self, word: str, theme: int, weight: float, *, literal: bool) -> None:
        key = _lemma_key(word)
        if key:
            _add(self._ja, key, theme, weight)
        if literal:
            # Phrases are also found verbatim, in case the tokenizer splits them differently.
            self._ja_literals.append((word, theme))

    def match(
        self, text: str, language: str = "en", tokens: Columns | None = None
    ) -> list[ThemeHit]:
        """Themes found in ``text``, highest score first. Japanese uses lemmas and literals."""
        found: dict[int, dict[tuple[int, int], float]] = {}
        units = _en_units(text)
        for i, size, entries in _scan([u for u, _, _ in units], self._latin, self._latin_sizes):
            _found(found, entries, (units[i][1], units[i + size - 1][2]))
        if language == "ja":
            cols = tokens if tokens is not None else token_columns(text)
            for i, size, entries in _scan(cols.lemmas, self._ja, self._ja_sizes):
                _found(found, entries, (cols.starts[i], cols.ends[i + size - 1]))
            if self._ja_literal_re is not None:
                for m in self._ja_literal_re.finditer(text):
                    for n in self._ja_literal_themes[m.group()]:
                        found.setdefault(n, {})[m.span()] = _PHRASE_WEIGHT
        hits = []
        for n, spans_found in found.items():
            theme = self._themes[n]
            spans = _drop_nested(sorted(spans_found))
            evidence = sum(spans_found[s] for s in spans)
            hits.append(
                ThemeHit(
                    theme.id,
                    theme.display_name(language),
                    round(1.0 - math.exp(-evidence), 4),
                    tuple(spans),
                    theme.parent,
                )
            )
        hits.sort(key=lambda h: (-h.score, h.id))
        return hits


def _scan(
    words: Sequence[str], index: _Index, sizes: dict[str, tuple[int, ...]]
) -> list[tuple[int, int, list[tuple[int, float]]]]:
    """``(position, length, entries)`` of the longest key starting at each unit."""
    out = []
    count = len(words)
    # Most units start no key: find the few that do without a Python step per unit.
    for i in compress(range(count), map(sizes.__contains__, words)):
        for size in sizes[words[i]]:
            if i + size <= count:
                entries = index.get(tuple(words[i : i + size]))
                if entries is not None:
                    out.append((i, size, entries))
                    break
    return out


def _found(
    found: dict[int, dict[tuple[int, int], float]],
    entries: list[tuple[int, float]],
    span: tuple[int, int],
) -> None:
    """Every theme listed under a matched key gets the span."""
    for theme, weight in entries:
        found.setdefault(theme, {})[span] = weight


def _drop_nested(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Keep the longest of overlapping spans so one mention counts once."""
    kept: list[tuple[int, int]] = []
    for span in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if kept and span[0] < kept[-1][1]:
            if span[1] - span[0] > kept[-1][1] - kept[-1][0]:
                kept[-1] = span
            continue
        kept.append(span)
    return kept
