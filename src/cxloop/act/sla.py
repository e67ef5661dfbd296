"""SLA clocks: when a case is due, counted in elapsed time or in a unit's business hours.

Business hours are local wall-clock times in the unit's IANA time zone, so "09:00-18:00" keeps
meaning 09:00-18:00 across daylight-saving changes; all inputs and outputs are aware UTC
datetimes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAY_MINUTES = 24 * 60
# A calendar with business hours reaches any duration within a few years unless holidays
# swallow every working day; stop searching there instead of looping forever.
_MAX_DAYS = 366 * 10
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not (0 <= int(minutes or 0) < 60) or not 0 <= value <= _DAY_MINUTES:
        raise ValueError(f"invalid time of day {text!r}; use HH:MM between 00:00 and 24:00")
    return value


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours of an org unit.

    ``hours`` maps a weekday (0 = Monday) to ``(start, end)`` minute-of-day intervals; use
    :meth:`from_hours` to build it from ``"09:00"``-style strings. ``holidays`` are local dates.
    """

    timezone: str
    hours: Mapping[int, tuple[tuple[int, int], ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises for an unknown zone name
        for weekday, intervals in self.hours.items():
            if not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {weekday}")
            previous_end = 0
            for start, end in sorted(intervals):
                if not 0 <= start < end <= _DAY_MINUTES or start < previous_end:
                    raise ValueError(f"invalid or overlapping business hours on weekday {weekday}")
                previous_end = end
        if not any(self.hours.values()):
            raise ValueError("a business calendar needs at least one working interval")

    @classmethod
    def from_hours(
        cls,
        timezone: str,
        hours: Mapping[str, str | Iterable[str]],
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """Build from ``{"mon-fri": "09:00-18:00", "sat": ["10:00-12:00", "13:00-16:00"]}``."""
        table: dict[int, list[tuple[int, int]]] = {}
        for days, spans in hours.items():
            for weekday in _weekday_range(days):
                for span in [spans] if isinstance(spans, str) else spans:
                    start, sep, end = span.partition("-")
                    if not sep:
                        raise ValueError(f"invalid hours {span!r}; use HH:MM-HH:MM")
                    table.setdefault(weekday, []).append((_minutes(start), _minutes(end)))
        return cls(
            timezone,
            {d: tuple(sorted(spans)) for d, spans in table.items()},
            frozenset(holidays),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def intervals_on(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The business intervals of a local date, as UTC instants."""
        if day in self.holidays:
            return
        zone = self.zone
        midnight = datetime.combine(day, time(0), tzinfo=zone)
        for start, end in self.hours.get(day.weekday(), ()):
            yield _at(day, start, midnight, zone), _at(day, end, midnight, zone)


def _at(day: date, minute: int, midnight: datetime, zone: ZoneInfo) -> datetime:
    if minute == _DAY_MINUTES:  # "24:00" is the next local midnight
        nxt = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        return nxt.astimezone(UTC)
    local = midnight.replace(hour=minute // 60, minute=minute % 60)
    return local.astimezone(UTC)


def _weekday_range(text: str) -> list[int]:
    first, _, last = text.lower().partition("-")
    try:
        a = _WEEKDAYS.index(first.strip()[:3])
        b = _WEEKDAYS.index((last or first).strip()[:3])
    except ValueError:
        raise ValueError(f"invalid weekday range {text!r}; use e.g. 'mon-fri' or 'sat'") from None
    return list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return moment.astimezone(UTC)


def _days_from(moment: datetime, calendar: BusinessCalendar) -> Iterator[date]:
    # Earlier local dates cannot matter: their intervals end by local midnight of this one.
    day = moment.astimezone(calendar.zone).date()
    for _ in range(_MAX_DAYS):
        yield day
        day += timedelta(days=1)
    raise ValueError(f"no business time found within {_MAX_DAYS} days; check the holidays")


def due_time(
    start: datetime, duration: timedelta, calendar: BusinessCalendar | None = None
) -> datetime:
    """When an SLA of ``duration`` started at ``start`` falls due (UTC).

    Without a calendar the duration is elapsed time; with one it is business time, so a case
    opened outside business hours starts counting at the next opening.
    """
    start = _utc(start, "start")
    if duration < timedelta(0):
        raise ValueError("an SLA duration cannot be negative")
    if calendar is None or not duration:
        return start + duration
    remaining = duration
    for day in _days_from(start, calendar):
        for open_at, close_at in calendar.intervals_on(day):
            begin = max(open_at, start)
            if close_at <= begin:
                continue
            available = close_at - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
    raise AssertionError("unreachable")  # _days_from raises first


def business_time_between(
    a: datetime, b: datetime, calendar: BusinessCalendar | None = None
) -> timedelta:
    """Business time from ``a`` to ``b`` (negative when ``b`` is earlier); elapsed without a
    calendar."""
    a, b = _utc(a, "a"), _utc(b, "b")
    if calendar is None:
        return b - a
    if b < a:
        return -business_time_between(b, a, calendar)
    total = timedelta(0)
    zone = calendar.zone
    first_day, last_day = a.astimezone(zone).date(), b.astimezone(zone).date()
    for offset in range((last_day - first_day).days + 1):
        day = first_day + timedelta(days=offset)
        for open_at, close_at in calendar.intervals_on(day):
            overlap = min(close_at, b) - max(open_at, a)
            if overlap > timedelta(0):
                total += overlap
    return total


def is_overdue(due: datetime, now: datetime | None = None) -> bool:
    """True once ``now`` (default: the current time) is past ``due``."""
    current = datetime.now(UTC) if now is None else _utc(now, "now")
    return current > _utc(due, "due")
