"""Language identification: writing system first, then py3langid for Latin and other scripts."""

from __future__ import annotations

import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

_KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_LETTER = re.compile(r"[^\W\d_]")

UNKNOWN = "und"
_ASCII_WORD = re.compile(r"[a-z']+")
_EN_COMMON = frozenset(
    "the a an and or but is was were are be been it its this that i my me we our you your "
    "they them he she his her of to in on for with at by from not no very so too have has "
    "had do did does will would can could there their what when all just".split()
)
# Below this many Han characters (a place or product name) the model guesses Chinese at random.
_MIN_HAN_FOR_MODEL = 8


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _looks_english(text: str) -> bool:
    """Cheap shortcut before the statistical model: ASCII text made of common English words.

    py3langid costs about as much as the whole sentiment step, and most of our Latin-script
    feedback is English; German or French text rarely has a quarter of its words here.
    """
    if not text.isascii():
        return False
    words = _ASCII_WORD.findall(text.lower())
    if len(words) < 4:
        return False
    common = sum(1 for w in words if w in _EN_COMMON)
    return common * 4 >= len(words) and common >= 2


def detect_language(text: str) -> str:
    """Return an ISO 639-1 code (``ja``, ``en``, ...) or ``und`` when there is nothing to judge.

    Kana only occurs in Japanese, so any kana decides ``ja`` without the statistical model,
    which is unreliable on short Japanese texts. Han characters without kana are Japanese
    or Chinese; py3langid decides between them, defaulting to ``ja`` because our users
    write Japanese far more often than Chinese.
    """
    if _KANA.search(text):  # decided before counting letters, which costs more
        return "ja" if _LETTER.search(text) else UNKNOWN  # ゜ and ー are not letters
    letters = _LETTER.findall(text)
    if not letters:
        return UNKNOWN
    han = len(_HAN.findall(text))
    if han and han * 2 >= len(letters):
        if han < _MIN_HAN_FOR_MODEL:
            return "ja"
        lang, _ = _identifier().classify(text)
        return "zh" if lang == "zh" else "ja"
    if _looks_english(text):
        return "en"
    if len(letters) < 3:
        # Two letters carry no signal; treating them as English keeps the lexicon path.
        return "en"
    lang, _ = _identifier().classify(text)
    return str(lang)
