"""Match texts against a theme taxonomy, returning scores and character spans."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cxloop.insight.text._tokens import Token, tokenize_ja
from cxloop.insight.text.taxonomy import Taxonomy, Theme

# A single term is weaker evidence than a multi-word phrase written by the taxonomy's author.
_TERM_WEIGHT = 0.7
_PHRASE_WEIGHT = 1.0
_EN_SUFFIX = r"(?:s|es|ed|d|ing|ly)?"


@dataclass(frozen=True, slots=True)
class ThemeHit:
    id: str
    name: str
    score: float  # in (0, 1): 1 - exp(-evidence)
    spans: tuple[tuple[int, int], ...]  # (start, end) into the analysed text
    parent: str | None = None


@dataclass(frozen=True)
class _CompiledTheme:
    theme: Theme
    latin: re.Pattern[str] | None  # terms and phrases of Latin-script languages
    ja_lemmas: dict[tuple[str, ...], float]  # lemma sequence -> weight
    ja_literals: tuple[str, ...]  # phrases also found by plain substring search


def _latin_pattern(theme: Theme) -> re.Pattern[str] | None:
    parts: list[str] = []
    for lang, words in theme.terms.items():
        if lang != "ja":
            parts += [re.escape(w) + _EN_SUFFIX for w in words]
    for lang, words in theme.phrases.items():
        if lang != "ja":
            parts += [r"\s+".join(re.escape(p) for p in w.split()) + _EN_SUFFIX for w in words]
    if not parts:
        return None
    # Longest alternatives first so "customer service" wins over "service".
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(parts) + r")(?![\w'])", re.IGNORECASE)


def _lemma_key(text: str) -> tuple[str, ...]:
    return tuple(t.lemma for t in tokenize_ja(text) if t.pos1 != "補助記号")


class ThemeMatcher:
    """Compiled form of a taxonomy; build once and reuse (compiling tokenises every term)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        compiled: list[_CompiledTheme] = []
        for theme in taxonomy.themes:
            ja_lemmas: dict[tuple[str, ...], float] = {}
            for word in theme.terms.get("ja", ()):
                key = _lemma_key(word)
                if key:
                    ja_lemmas.setdefault(key, _TERM_WEIGHT)
            for phrase in theme.phrases.get("ja", ()):
                key = _lemma_key(phrase)
                if key:
                    ja_lemmas[key] = _PHRASE_WEIGHT
            compiled.append(
                _CompiledTheme(
                    theme, _latin_pattern(theme), ja_lemmas, tuple(theme.phrases.get("ja", ()))
                )
            )
        self._compiled = compiled
        self._max_len = max((len(k) for c in compiled for k in c.ja_lemmas), default=1)

    def match(
        self, text: str, language: str = "en", tokens: Sequence[Token] | None = None
    ) -> list[ThemeHit]:
        """Themes found in ``text``, highest score first. Japanese uses lemmas and literals."""
        hits: list[ThemeHit] = []
        if language == "ja":
            tokens = tokens if tokens is not None else tokenize_ja(text)
            lemmas = [t.lemma for t in tokens]
        for c in self._compiled:
            found: dict[tuple[int, int], float] = {}
            if c.latin is not None:
                for m in c.latin.finditer(text):
                    found[m.span()] = _PHRASE_WEIGHT if " " in m.group() else _TERM_WEIGHT
            if language == "ja" and tokens is not None:
                self._match_ja(c, text, tokens, lemmas, found)
            if found:
                spans = _drop_nested(sorted(found))
                evidence = sum(found[s] for s in spans)
                hits.append(
                    ThemeHit(
                        c.theme.id,
                        c.theme.display_name(language),
                        round(1.0 - math.exp(-evidence), 4),
                        tuple(spans),
                        c.theme.parent,
                    )
                )
        hits.sort(key=lambda h: (-h.score, h.id))
        return hits

    def _match_ja(
        self,
        c: _CompiledTheme,
        text: str,
        tokens: Sequence[Token],
        lemmas: list[str],
        found: dict[tuple[int, int], float],
    ) -> None:
        for i in range(len(tokens)):
            for size in range(min(self._max_len, len(tokens) - i), 0, -1):
                weight = c.ja_lemmas.get(tuple(lemmas[i : i + size]))
                if weight is not None:
                    found[(tokens[i].start, tokens[i + size - 1].end)] = weight
                    break
        for literal in c.ja_literals:
            start = text.find(literal)
            while start >= 0:
                found[(start, start + len(literal))] = _PHRASE_WEIGHT
                start = text.find(literal, start + 1)


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
