"""One feedback item as sent by the API or read from a file row: parse and validate it."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cxloop.store.models.feedback import FEEDBACK_SOURCES

# Clocks disagree a little; a record this far ahead is still "now".
FUTURE_TOLERANCE = timedelta(minutes=10)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
CUSTOMER_KEYS = ("email", "phone", "crm_id", "external_id", "web_visitor_id")

_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
)
_JA_DATE = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})[時:](\d{1,2})分?(?:(\d{1,2})秒?)?)?$"
)


class Invalid(ValueError):
    """An item that cannot be stored; names the field."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


def parse_when(value: Any) -> datetime:
    """A datetime from ISO 8601, common spreadsheet forms or 2024年5月1日; may be naive."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    m = _JA_DATE.match(text)
    if m:
        y, mo, d, h, mi, sec = (int(p) if p else 0 for p in m.groups())
        try:
            return datetime(y, mo, d, h, mi, sec)
        except ValueError:
            pass
    raise ValueError(
        f"cannot read {text[:40]!r} as a date; use ISO 8601 like 2024-05-01T10:30:00+09:00"
    )


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speaker: str = Field(max_length=40)
    text: str


class FeedbackCreate(BaseModel):
    """One record to store. Give ``text``, or ``turns`` for a transcript."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: str
    text: str | None = None
    turns: list[TurnIn] | None = Field(default=None, max_length=2000)
    external_id: str | None = Field(default=None, max_length=200)
    occurred_at: datetime | None = None
    language: str | None = Field(default=None, max_length=8)
    rating: float | None = None
    rating_scale: int | None = Field(default=None, ge=1, le=100)
    org_unit_id: int | None = None
    org_unit: str | None = Field(default=None, max_length=64, description="org-unit code")
    customer: dict[str, str] = Field(default_factory=dict)
    touchpoint: str | None = Field(default=None, max_length=64)
    channel: str | None = Field(default=None, max_length=32)
    author_email: str | None = Field(default=None, max_length=320)
    author_name: str | None = Field(default=None, max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if v not in FEEDBACK_SOURCES:
            raise ValueError(f"unknown source {v[:40]!r}; use one of {', '.join(FEEDBACK_SOURCES)}")
        return v

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _when(cls, v: Any) -> Any:
        return None if v is None or v == "" else parse_when(v)

    @field_validator("customer")
    @classmethod
    def _customer(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = set(v) - set(CUSTOMER_KEYS)
        if unknown:
            raise ValueError(f"unknown identity {sorted(unknown)[0]!r}; use {CUSTOMER_KEYS}")
        return {k: s.strip() for k, s in v.items() if s and s.strip()}

    def body(self) -> str:
        """The text to store: the transcript turns as JSON when given as turns."""
        if self.turns:
            return json.dumps([t.model_dump() for t in self.turns], ensure_ascii=False)
        return self.text or ""


def validate_item(raw: Any) -> FeedbackCreate:
    """A validated item, or :class:`Invalid` naming the first bad field."""
    if not isinstance(raw, dict):
        raise Invalid(None, "each item must be a JSON object")
    try:
        item = FeedbackCreate.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or None
        msg = first.get("msg", "invalid")
        if first.get("type") == "extra_forbidden":
            msg = "unknown field"
        raise Invalid(loc, str(msg).removeprefix("Value error, ")) from None
    if item.text is not None and item.turns:
        raise Invalid("text", "give text or turns, not both")
    if not item.body().strip() or (item.turns and not any(t.text.strip() for t in item.turns)):
        raise Invalid("turns" if item.turns else "text", "empty")
    return item


def check_when(when: datetime, now: datetime) -> None:
    if when > now + FUTURE_TOLERANCE:
        raise Invalid("occurred_at", f"{when.isoformat()} is in the future")
    if when < EARLIEST:
        raise Invalid("occurred_at", f"{when.isoformat()} is before 1990")
