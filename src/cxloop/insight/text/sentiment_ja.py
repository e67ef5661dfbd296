"""Japanese sentence polarity from a lemma lexicon, with negation and CX phrasing rules."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from cxloop.insight.text._tokens import Token, tokenize_ja

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


def build_lexicon(entries: Mapping[str, float]) -> JaLexicon:
    """Tokenise each entry so that any inflection of it matches on lemmas."""
    phrases: dict[tuple[str, ...], float] = {}
    for word, value in entries.items():
        key = tuple(t.lemma for t in tokenize_ja(word) if t.pos1 != "補助記号")
        if key:
            phrases[key] = float(value)
    return JaLexicon(
        phrases, max((len(k) for k in phrases), default=1), frozenset(k[0] for k in phrases)
    )


@lru_cache(maxsize=1)
def default_lexicon() -> JaLexicon:
    raw = (
        resources.files("cxloop.insight.text").joinpath("data/ja_polarity.json").read_text("utf-8")
    )
    return build_lexicon(json.loads(raw)["entries"])


def _negated(tokens: Sequence[Token], j: int) -> tuple[bool, int]:
    """Whether the words ending before index ``j`` are negated; returns the scan end too."""
    flips = 0
    k = j
    while k < len(tokens) and k < j + 6:
        tok = tokens[k]
        if tok.lemma in _NEGATORS:
            flips += 1
        elif not (
            tok.pos1 in _BRIDGE_POS or tok.lemma in _BRIDGE_LEMMAS or tok.pos2 == "非自立可能"
        ):
            break
        k += 1
    return flips % 2 == 1, k


def score_tokens(tokens: Sequence[Token], lexicon: JaLexicon | None = None) -> float:
    """Polarity of one Japanese sentence in (-1, 1); 0 when no evaluative word is found."""
    lex = lexicon or default_lexicon()
    lemmas = [t.lemma for t in tokens]
    total = 0.0
    weight = 1.0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.lemma in _CONTRAST and tok.pos2 == "接続助詞":
            # What follows 「が・けど」 is what the writer stresses: damp what came before.
            total *= 0.6
        value, n = 0.0, 0
        sizes = range(min(lex.max_len, len(tokens) - i), 0, -1) if tok.lemma in lex.firsts else ()
        for size in sizes:
            hit = lex.phrases.get(tuple(lemmas[i : i + size]))
            if hit is not None:
                value, n = hit, size
                break
        if n == 0:
            n = 1
            if tok.lemma in _PATTERN_LEMMAS:
                value = _pattern_value(tokens, i)
        if value:
            value *= _modifier(tokens, i)
            negated, _ = _negated(tokens, i + n)
            if negated:
                # 「悪くない」 is faint praise, 「良くない」 is a real complaint.
                value = -0.8 * value if value > 0 else -0.5 * value
            elif i + n < len(tokens) and tokens[i + n].lemma == "過ぎる":
                value = value * 1.3 if value >= 2 else -abs(value) * 1.3
                n += 1  # the 過ぎる is consumed here, not scored again as a pattern
            total += value * weight
        i += n
    total += _repeat_intent(lemmas)
    return total / math.sqrt(total * total + _ALPHA)


def _modifier(tokens: Sequence[Token], i: int) -> float:
    if i > 0 and tokens[i - 1].lemma in _INTENSIFIERS:
        return 1.4
    if i > 0 and tokens[i - 1].lemma in _DOWNTONERS:
        return 0.7
    return 1.0


def _pattern_value(tokens: Sequence[Token], i: int) -> float:
    """Constructions that carry polarity without an evaluative word of their own."""
    tok = tokens[i]
    prev = tokens[i - 1] if i > 0 else None
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if tok.lemma == "過ぎる" and prev is not None and prev.pos1 in {"形容詞", "形状詞", "動詞"}:
        return -1.5  # 多すぎる, 濃すぎる: excess is a complaint unless the word says otherwise
    if tok.lemma == "欲しい":
        return -1.5 if nxt is not None and nxt.lemma == "た" else -1.0  # 〜て欲しい: unmet need
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
    penalty = 0.0
    for i, tok in enumerate(tokens):
        if tok.lemma != "良い" or i == 0:
            continue
        prev = tokens[i - 1]
        if prev.lemma in _CONDITIONALS and prev.pos1 == "助詞" or prev.surface == "たら":
            penalty -= 3.5  # cancels the +2 of 良い and leaves a mild complaint
        elif prev.lemma == "も" and i > 1 and tokens[i - 2].lemma == "て":
            penalty -= 3.0  # 〜ても良い: a suggestion that something should change
    return penalty


def score_sentence(text: str, lexicon: JaLexicon | None = None) -> float:
    """Polarity of one Japanese sentence in (-1, 1)."""
    return score_sentence_tokens(tokenize_ja(text), lexicon)


def score_sentence_tokens(tokens: Sequence[Token], lexicon: JaLexicon | None = None) -> float:
    """As :func:`score_sentence`, for tokens the caller already has."""
    raw = score_tokens(tokens, lexicon)
    penalty = regret_adjust(tokens)
    if not penalty:
        return raw
    # Undo the squash, add the penalty, squash again.
    base = raw * math.sqrt(_ALPHA) / math.sqrt(max(1e-9, 1 - raw * raw))
    total = base + penalty
    return total / math.sqrt(total * total + _ALPHA)
