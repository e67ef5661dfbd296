"""The alert-rule condition language: parse, type-check, compile and index rule conditions.

See docs/rules.md for the language reference and the record shape.
"""

from cxloop.act.rule_language.compiler import normalize_text
from cxloop.act.rule_language.errors import RuleSyntaxError
from cxloop.act.rule_language.fields import RECORD_KINDS, SENTIMENT_LABELS
from cxloop.act.rule_language.parser import parse
from cxloop.act.rule_language.ruleset import Condition, RuleSet, compile_condition, would_loop

__all__ = [
    "RECORD_KINDS",
    "SENTIMENT_LABELS",
    "Condition",
    "RuleSet",
    "RuleSyntaxError",
    "compile_condition",
    "normalize_text",
    "parse",
    "would_loop",
]
