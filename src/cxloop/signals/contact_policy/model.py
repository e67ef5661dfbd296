"""Contact policy: the rules, the decision, and the pieces shared by both engines."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

# Reason codes, in the order the rules are evaluated (see ``engine.decide``). The index
# of a code in this tuple is its integer code in a ``WavePlan``.
SENT = "sent"
DEFERRED = "deferred_quiet_hours"
OPTED_OUT = "opted_out"
UNSUBSCRIBED = "unsubscribed"
SENSITIVITY = "sensitivity_rule"
FREQUENCY_CAP = "frequency_cap"
MIN_GAP = "min_gap"
NOT_SAMPLED = "not_sampled"
REASON_CODES: tuple[str, ...] = (
    SENT,
    DEFERRED,
    OPTED_OUT,
    UNSUBSCRIBED,
    SENSITIVITY,
    FREQUENCY_CAP,
    MIN_GAP,
    NOT_SAMPLED,
)

_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class Invitation:
    """A candidate survey invitation; ``send_at`` must be timezone-aware."""

    customer_id: int
    survey_id: str
    program: str
    send_at: datetime
    wave: str = ""


@dataclass(frozen=True)
class CustomerFacts:
    """What the policy needs to know about one customer."""

    customer_id: int
    time_zone: str
    opted_out: bool = False
    unsubscribed: bool = False
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SentInvitation:
    """An invitation that was actually sent to the customer."""

    sent_at: datetime
    survey_id: str


@dataclass(frozen=True)
class FrequencyCap:
    """At most ``max_invitations`` in any rolling ``window_days``; global if no survey."""

    max_invitations: int
    window_days: int
    survey_id: str | None = None

    def __post_init__(self) -> None:
        if self.max_invitations < 1 or self.window_days < 1:
            raise ValueError("a frequency cap needs max_invitations >= 1 and window_days >= 1")

    def applies_to(self, survey_id: str) -> bool:
        return self.survey_id is None or self.survey_id == survey_id

    @property
    def reason(self) -> str:
        scope = "global" if self.survey_id is None else f"survey {self.survey_id}"
        return f"frequency cap: {self.max_invitations} per {self.window_days} days ({scope})"


@dataclass(frozen=True)
class QuietHours:
    """Local hours in which nothing is sent; ``start > end`` crosses midnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("quiet hours need different start and end")

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class SensitivityRule:
    """Suppress a segment (``attribute`` equal to one of ``values``) for a date range.

    ``start`` and ``end`` are inclusive dates in the customer's local time. An empty
    ``programs`` means the rule applies to every program.
    """

    name: str
    attribute: str
    values: tuple[str, ...]
    start: date
    end: date
    reason: str
    programs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("a sensitivity rule needs at least one value")
        if self.end < self.start:
            raise ValueError("a sensitivity rule ends before it starts")

    def applies_to(self, program: str) -> bool:
        return not self.programs or program in self.programs

    def active_on(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def text(self) -> str:
        if len(self.values) == 1:
            segment = f"{self.attribute} = {self.values[0]}"
        else:
            segment = f"{self.attribute} in {{{', '.join(self.values)}}}"
        return (
            f'sensitivity rule "{self.name}" ({segment}, '
            f"{self.start.isoformat()}..{self.end.isoformat()}): {self.reason}"
        )


@dataclass(frozen=True)
class ContactPolicy:
    """Everything that decides whether and when an invitation goes out."""

    caps: tuple[FrequencyCap, ...] = ()
    min_days_between: int | None = None
    quiet_hours: QuietHours | None = None
    sample_percent: float = 100.0
    sensitivity_rules: tuple[SensitivityRule, ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 <= self.sample_percent <= 100.0:
            raise ValueError("sample_percent must be within 0..100")
        if self.min_days_between is not None and self.min_days_between < 1:
            raise ValueError("min_days_between must be at least 1")

    @property
    def min_gap_reason(self) -> str:
        return f"minimum gap: {self.min_days_between} days between invitations"

    @property
    def not_sampled_reason(self) -> str:
        return f"not sampled ({self.sample_percent:g} %)"


@dataclass(frozen=True)
class Decision:
    """The outcome for one invitation; ``send_at`` (UTC) is None when suppressed."""

    status: Literal["sent", "suppressed"]
    reason_code: str
    reason: str
    send_at: datetime | None


def deferred_reason(quiet: QuietHours, zone_label: str) -> str:
    return f"quiet hours {quiet.label} ({zone_label}): deferred to {quiet.end:%H:%M} local"


def defer_for_quiet_hours(
    send_at: datetime, tz: tzinfo, quiet: QuietHours | None
) -> tuple[datetime, bool]:
    """Move ``send_at`` to the end of the quiet hours if it falls inside them (UTC out)."""
    utc = send_at.astimezone(UTC)
    local = utc.astimezone(tz)
    if quiet is None or not quiet.contains(local.time()):
        return utc, False
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += timedelta(days=1)
    # Combining with the zone (not adding hours) lands on the wall-clock end time even
    # when a DST change happens during the night.
    return datetime.combine(day, quiet.end, tzinfo=tz).astimezone(UTC), True


def sample_salt(survey_id: str, wave: str) -> int:
    """64-bit salt so each survey and wave draws its own independent sample."""
    digest = hashlib.blake2b(f"{survey_id}\x1f{wave}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _mix64(x: int) -> int:
    # SplitMix64 finaliser: a fast, well-mixed bijection on 64-bit integers that the
    # NumPy engine reproduces bit for bit.
    z = (x + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def sample_draw(customer_id: int, salt: int) -> float:
    """Uniform draw in [0, 1) fixed by customer, survey and wave."""
    return (_mix64((customer_id & _MASK64) ^ salt) >> 11) / float(1 << 53)


def is_sampled(draw: float, percent: float) -> bool:
    return draw * 100.0 < percent
