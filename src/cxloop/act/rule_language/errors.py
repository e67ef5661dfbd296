"""The error raised for a rule that cannot be parsed or type-checked."""

from __future__ import annotations

import unicodedata


def _display_width(text: str) -> int:
    # Full-width (CJK) characters take two terminal columns; the caret must line up under them.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class RuleSyntaxError(ValueError):
    """A rule condition is malformed, names an unknown field, or mixes types.

    ``line`` and ``column`` are 1-based; ``excerpt`` is the offending source line with a caret
    under the position.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str,
        offset: int,
        rule_id: str | None = None,
        hint: str | None = None,
    ):
        self.message = message
        self.hint = hint
        self.source = source
        self.offset = max(0, min(offset, len(source)))
        self.rule_id = rule_id
        before = source[: self.offset]
        self.line = before.count("\n") + 1
        line_start = before.rfind("\n") + 1
        self.column = self.offset - line_start + 1
        line_end = source.find("\n", line_start)
        line_text = source[line_start : line_end if line_end != -1 else len(source)]
        caret_pad = " " * _display_width(source[line_start : self.offset])
        self.excerpt = f"  {line_text}\n  {caret_pad}^"
        super().__init__(str(self))

    @property
    def location(self) -> str:
        if "\n" in self.source:
            return f"line {self.line}, column {self.column}"
        return f"column {self.column}"

    def __str__(self) -> str:
        prefix = f"rule {self.rule_id!r}: " if self.rule_id else ""
        hint = f"; {self.hint}" if self.hint else ""
        return f"{prefix}{self.message} at {self.location}{hint}\n{self.excerpt}"

    def with_rule_id(self, rule_id: str) -> RuleSyntaxError:
        return RuleSyntaxError(
            self.message, source=self.source, offset=self.offset, rule_id=rule_id
        )
