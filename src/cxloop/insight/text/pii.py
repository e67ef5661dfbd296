"""Mask personal data (e-mail, phone, payment card) in free text before it is displayed."""

from __future__ import annotations

import re

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
CARD_MASK = "[card]"

_FULLWIDTH = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
    | {
        "\u2212": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u30fc": "-",
        "\uff70": "-",
        "\u3000": " ",
    }
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# 13-19 digits in groups separated by single spaces or dashes (e.g. 4111 1111 1111 1111).
_CARD = re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])")
_PHONE = re.compile(
    r"(?<![0-9A-Za-z+])(?:"
    r"\+\d{1,3}[ \-.]?(?:\(0?\d{1,4}\)[ \-.]?)?\d{1,4}(?:[ \-.]?\d{2,4}){1,3}"  # +81 90-1234-5678
    r"|\(\d{2,4}\)[ \-.]?\d{2,4}[ \-.]?\d{3,4}"  # (555) 123-4567, (03) 1234-5678
    r"|0\d{1,4}[\-.]\d{1,4}[\-.]\d{3,4}"  # 03-1234-5678, 090-1234-5678, 0120-123-456
    r"|\d{3}[\-.]\d{3}[\-.]\d{4}"  # 555-123-4567
    r"|0[5-9]0\d{8}|0\d{9}"  # 09012345678, 0312345678 written without separators
    r")(?![0-9A-Za-z])"
)


def _fold(text: str) -> str:
    """Map full-width digits, letters and dashes to ASCII, keeping every character's index.

    The fold must be one character for one character so that spans found in the folded
    text can be applied to the original.
    """
    folded = text.translate(_FULLWIDTH)
    if len(folded) != len(text):  # pragma: no cover - the table maps 1:1 by construction
        raise AssertionError("width folding changed the text length")
    return folded


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def find_pii(text: str) -> list[tuple[int, int, str]]:
    """Return non-overlapping ``(start, end, mask)`` spans of personal data in ``text``."""
    folded = _fold(text)
    spans: list[tuple[int, int, str]] = []
    taken = [False] * len(text)

    def claim(start: int, end: int, mask: str) -> None:
        if any(taken[start:end]):
            return
        for i in range(start, end):
            taken[i] = True
        spans.append((start, end, mask))

    for m in _EMAIL.finditer(folded):
        claim(m.start(), m.end(), EMAIL_MASK)
    for m in _CARD.finditer(folded):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            claim(m.start(), m.end(), CARD_MASK)
    for m in _PHONE.finditer(folded):
        if sum(ch.isdigit() for ch in m.group()) >= 9:
            claim(m.start(), m.end(), PHONE_MASK)
    return sorted(spans)


def mask_pii(text: str) -> str:
    """Replace e-mail addresses, phone numbers and Luhn-valid card numbers by placeholders."""
    out: list[str] = []
    pos = 0
    for start, end, mask in find_pii(text):
        out.append(text[pos:start])
        out.append(mask)
        pos = end
    out.append(text[pos:])
    return "".join(out)
