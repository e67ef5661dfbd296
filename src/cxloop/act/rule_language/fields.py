"""The record fields a rule may name, their types, and which record kinds carry them.

A record is a plain ``dict`` (see docs/rules.md for the exact shape). A missing key and
``None`` both mean "no value".
"""

from __future__ import annotations

from enum import Enum


class FieldType(Enum):
    NUMBER = "number"
    TEXT = "text"
    TEXT_LIST = "list of text"
    ANY = "any"  # segment.* / attributes.*: free-form, checked against the value at run time


RECORD_KINDS: frozenset[str] = frozenset({"response", "feedback", "digital_session", "metric"})
SENTIMENT_LABELS: frozenset[str] = frozenset(
    {"very_negative", "negative", "neutral", "positive", "very_positive"}
)

_SURVEY = frozenset({"response"})
_RATED = frozenset({"response", "feedback"})
_TEXTUAL = frozenset({"response", "feedback"})
_DIGITAL = frozenset({"digital_session"})

# name -> (type, kinds of record that carry it). The kinds feed the loop guard only; matching
# never relies on them, so a record that carries an unexpected field is still evaluated exactly.
FIELDS: dict[str, tuple[FieldType, frozenset[str]]] = {
    "kind": (FieldType.TEXT, RECORD_KINDS),
    "nps": (FieldType.NUMBER, _SURVEY),
    "csat": (FieldType.NUMBER, _SURVEY),
    "ces": (FieldType.NUMBER, _SURVEY),
    "rating": (FieldType.NUMBER, _RATED),
    "rating_scale": (FieldType.NUMBER, _RATED),
    "sentiment": (FieldType.TEXT, _TEXTUAL),
    "sentiment_score": (FieldType.NUMBER, _TEXTUAL),
    "theme": (FieldType.TEXT_LIST, _TEXTUAL),
    "text": (FieldType.TEXT, _TEXTUAL),
    "language": (FieldType.TEXT, _TEXTUAL),
    "source": (FieldType.TEXT, RECORD_KINDS),
    "touchpoint": (FieldType.TEXT, RECORD_KINDS),
    "org_unit": (FieldType.TEXT, RECORD_KINDS),
    "dxs": (FieldType.NUMBER, _DIGITAL),
    "signals": (FieldType.TEXT_LIST, _DIGITAL),
}

# Fields whose sub-keys are free-form: ``segment.tier``, ``attributes.plan``.
NESTED: frozenset[str] = frozenset({"segment", "attributes"})
METRIC_KINDS: frozenset[str] = frozenset({"metric"})

# Literal values checked at parse time so a typo fails loudly instead of never matching.
ENUMS: dict[str, frozenset[str]] = {"kind": RECORD_KINDS, "sentiment": SENTIMENT_LABELS}


def all_field_names() -> list[str]:
    return sorted([*FIELDS, *(f"{n}.<key>" for n in NESTED), "metric(<name>)"])
