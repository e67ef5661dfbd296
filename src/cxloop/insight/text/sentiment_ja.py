"""Japanese sentence polarity from a lemma lexicon, with negation and CX phrasing rules."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import compress

from cxloop.insight.text._tokens import Columns, Token, split_pos, token_columns, tokenize_ja

# Lemmas (UniDic) that negate what comes before them: ない, 無い, ず (ません), 無し.
_NEGATORS = frozenset({"ない", "無い", "ず", "ぬ", "無し"})
# Tokens a negation may reach across: 綺麗 で は ない, 満足 でき ませ ん, 美味しい と は 言え ない.
_BRIDGE_POS = frozenset({"助動詞", "助詞", "接尾辞"})
_BRIDGE_LEMMAS = frozenset(
    {"言う", "思う", "感じる", "出来る", "為る", "居る", "有る", "成る", "見る"}
)
_INTENSIFIERS = frozenset(
    {
        "迚も",
        "非常",
        "凄い",
        "大変",
        "本当",
        "かなり",
        "超",
        "最も",
        "実に",
        "大",
        "とっても",
        "一番",
    }
)
_DOWNTONERS = frozenset({"少し", "ちょっと", "やや", "若干", "多少", "些か", "割と"})
_CONDITIONALS = frozenset({"ば", "たら", "と"})
_CONTRAST = frozenset({"が", "けれど", "けど", "けれども", "のに"})
_AGAIN = frozenset({"又", "是非", "再度", "次回"})
_PATTERN_LEMMAS = frozenset({"過ぎる", "欲しい"})  # the heads _pattern_value knows
_REPEAT_VERBS = frozenset(
    {"利用", "泊まる", "来る", "行く", "伺う", "訪れる", "使う", "宿泊", "訪問"}
)
# Squashes a raw lexicon sum into (-1, 1); 4 puts one strong word (±2) at ±0.71.
_ALPHA = 4.0


@dataclass(frozen=True, slots=True)
class JaLexicon:
    """Lexicon entries tokenised to lemma sequences, longest first for greedy matching."""

    phrases: dict[tuple[str, ...], float]
    max_len: int
    firsts: frozenset[str] = frozenset()
    # First lemma -> the entry lengths starting with it, longest first: only those are tried.
    sizes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # Every lemma at which the scorer has something to do; all others are skipped unread.
    triggers: frozenset[str] = frozenset()


def build_lexicon(entries: Mapping[str, float]) -> JaLexicon:
    """Tokenise each entry so that any inflection of it matches on lemmas."""
    phrases: dict[tuple[str, ...], float] = {}
    for word, value in entries.items():
        key = tuple(t.lemma for t in tokenize_ja(word) if t.pos1 != "補助記号")
        if key:
            phrases[key] = float(value)
    sizes: dict[str, set[int]] = {}
    for key in phrases:
        sizes.setdefault(key[0], set()).add(len(key))
    return JaLexicon(
        phrases,
        max((len(k) for k in phrases), default=1),
        frozenset(sizes),
        {first: tuple(sorted(n, reverse=True)) for first, n in sizes.items()},
        frozenset(sizes) | _CONTRAST | _PATTERN_LEMMAS,
    )


@lru_cache(maxsize=1)
def default_lexicon() -> JaLexicon:
    raw = (
        resources.files("cxloop.insight.text").joinpath("data/ja_polarity.json").read_text("utf-8")
    )
    return build_lexicon(json.loads(raw)["entries"])


def _negated(cols: Columns, j: int, stop: int) -> tuple[bool, int]:
    """Whether the words ending before index ``j`` are negated; returns the scan end too."""
    flips = 0
    k = j
    lemmas = cols.lemmas
    while k < stop and k < j + 6:
        pos1, pos2 = split_pos(cols.pos[k])
        if lemmas[k] in _NEGATORS:
            flips += 1
        elif not (pos1 in _BRIDGE_POS or lemmas[k] in _BRIDGE_LEMMAS or pos2 == "非自立可能"):
            break
        k += 1
    return flips % 2 == 1, k


def score_tokens(tokens: Sequence[Token], lexicon: JaLexicon | None = None) -> float:
    """Polarity of one Japanese sentence in (-1, 1); 0 when no evaluative word is found."""
    cols = _columns(tokens)
    return _score(cols, 0, len(cols.lemmas), lexicon or default_lexicon())


def _columns(tokens: Sequence[Token]) -> Columns:
    return Columns(
        [t.surface for t in tokens],
        [t.lemma for t in tokens],
        [f"{t.pos1}-{'' if t.pos2 == '*' else t.pos2}" for t in tokens],
        [t.start for t in tokens],
        [t.end for t in tokens],
    )


def _score(cols: Columns, a: int, b: int, lex: JaLexicon) -> float:
    """:func:`score_tokens` for the sentence that is tokens ``a`` to ``b`` of ``cols``."""
    total = 0.0
    lemmas = cols.lemmas
    triggers, firsts, sizes, phrases = lex.triggers, lex.firsts, lex.sizes, lex.phrases
    skip_to = a  # tokens inside a matched entry are not scored again
    # Most tokens trigger nothing: find the few that do without a Python step per token.
    for i in compress(range(a, b), map(triggers.__contains__, lemmas[a:b])):
        if i < skip_to:
            continue
        lemma = lemmas[i]
        if lemma in _CONTRAST and split_pos(cols.pos[i])[1] == "接続助詞":
            # What follows 「が・けど」 is what the writer stresses: damp what came before.
            total *= 0.6
        value, n = 0.0, 0
        if lemma in firsts:
            for size in sizes[lemma]:
                if i + size <= b:
                    hit = phrases.get(tuple(lemmas[i : i + size]))
                    if hit is not None:
                        value, n = hit, size
                        break
        if n == 0:
            n = 1
            if lemma in _PATTERN_LEMMAS:
                value = _pattern_value(cols, i, a, b)
        if value:
            value *= _modifier(lemmas, i, a)
            negated, _ = _negated(cols, i + n, b)
            if negated:
                # 「悪くない」 is faint praise, 「良くない」 is a real complaint.
                value = -0.8 * value if value > 0 else -0.5 * value
            elif i + n < b and lemmas[i + n] == "過ぎる":
                value = value * 1.3 if value >= 2 else -abs(value) * 1.3
                n += 1  # the 過ぎる is consumed here, not scored again as a pattern
            total += value
        skip_to = i + n
    total += _repeat_intent(lemmas[a:b])
    return total / math.sqrt(total * total + _ALPHA)


def _modifier(lemmas: Sequence[str], i: int, a: int) -> float:
    if i > a and lemmas[i - 1] in _INTENSIFIERS:
        return 1.4
    if i > a and lemmas[i - 1] in _DOWNTONERS:
        return 0.7
    return 1.0


def _pattern_value(cols: Columns, i: int, a: int, b: int) -> float:
    """Constructions that carry polarity without an evaluative word of their own."""
    lemma = cols.lemmas[i]
    if (
        lemma == "過ぎる"
        and i > a
        and split_pos(cols.pos[i - 1])[0] in {"形容詞", "形状詞", "動詞"}
    ):
        return -1.5  # 多すぎる, 濃すぎる: excess is a complaint unless the word says otherwise
    if lemma == "欲しい":
        # 〜て欲しい: an unmet need
        return -1.5 if i + 1 < b and cols.lemmas[i + 1] == "た" else -1.0
    return 0.0


def _repeat_intent(lemmas: Sequence[str]) -> float:
    # 「また利用したい」「ぜひ泊まりたい」: intent to return is the strongest loyalty signal.
    if "たい" in lemmas:
        present = set(lemmas)
        if present & _AGAIN and present & _REPEAT_VERBS:
            return 2.0
    if "リピート" in lemmas:
        return 2.0
    return 0.0


def regret_adjust(tokens: Sequence[Token]) -> float:
    """Penalty for 「〜ば良かった」「〜と良い」 (a wish that was not met), added by the caller."""
    cols = _columns(tokens)
    return _regret(cols, 0, len(cols.lemmas))


def _regret(cols: Columns, a: int, b: int) -> float:
    lemmas = cols.lemmas
    if "良い" not in lemmas[a:b]:
        return 0.0
    penalty = 0.0
    for i in range(a + 1, b):
        if lemmas[i] != "良い":
            continue
        prev = lemmas[i - 1]
        if (
            prev in _CONDITIONALS
            and split_pos(cols.pos[i - 1])[0] == "助詞"
            or cols.surfaces[i - 1] == "たら"
        ):
            penalty -= 3.5  # cancels the +2 of 良い and leaves a mild complaint
        elif prev == "も" and i > a + 1 and lemmas[i - 2] == "て":
            penalty -= 3.0  # 〜ても良い: a suggestion that something should change
    return penalty


def score_sentence(text: str, lexicon: JaLexicon | None = None) -> float:
    """Polarity of one Japanese sentence in (-1, 1)."""
    cols = token_columns(text)
    return score_span(cols, 0, len(cols.lemmas), lexicon)


def score_sentence_tokens(tokens: Sequence[Token], lexicon: JaLexicon | None = None) -> float:
    """As :func:`score_sentence`, for tokens the caller already has."""
    cols = _columns(tokens)
    return score_span(cols, 0, len(cols.lemmas), lexicon)


def score_span(cols: Columns, a: int, b: int, lexicon: JaLexicon | None = None) -> float:
    """As :func:`score_sentence`, for the sentence that is tokens ``a`` to ``b`` of ``cols``
    (tokenizing a whole record once and scoring its sentences as spans is cheapest)."""
    raw = _score(cols, a, b, lexicon or default_lexicon())
    penalty = _regret(cols, a, b)
    if not penalty:
        return raw
    # Undo the squash, add the penalty, squash again.
    base = raw * math.sqrt(_ALPHA) / math.sqrt(max(1e-9, 1 - raw * raw))
    total = base + penalty
    return total / math.sqrt(total * total + _ALPHA)
