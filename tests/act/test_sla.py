from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cxloop.act.sla import BusinessCalendar, business_time_between, due_time, is_overdue

TOKYO = ZoneInfo("Asia/Tokyo")
LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)


def tokyo(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def tokyo_office() -> BusinessCalendar:
    # 2026-11-23 (a Monday) is Labour Thanksgiving Day.
    return BusinessCalendar.from_hours(
        "Asia/Tokyo", {"mon-fri": "09:00-18:00"}, holidays=[date(2026, 11, 23)]
    )


@pytest.fixture
def london_office() -> BusinessCalendar:
    return BusinessCalendar.from_hours("Europe/London", {"mon-fri": "09:00-18:00"})


def test_without_calendar_the_sla_is_elapsed_time():
    start = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    assert due_time(start, 24 * H) == datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    assert business_time_between(start, start + 30 * H) == 30 * H


def test_due_time_within_one_business_day(tokyo_office):
    due = due_time(tokyo(2026, 11, 16, 10, 0), 8 * H, tokyo_office)
    assert due == tokyo(2026, 11, 16, 18, 0)
    assert due.tzinfo is UTC and due.hour == 9


def test_a_full_day_ends_at_closing_not_next_opening(tokyo_office):
    assert due_time(tokyo(2026, 11, 17, 9, 0), 9 * H, tokyo_office) == tokyo(2026, 11, 17, 18, 0)


def test_start_before_opening_counts_from_opening(tokyo_office):
    assert due_time(tokyo(2026, 11, 18, 7, 30), H, tokyo_office) == tokyo(2026, 11, 18, 10, 0)


def test_start_after_closing_counts_from_next_morning(tokyo_office):
    assert due_time(tokyo(2026, 11, 18, 19, 0), H, tokyo_office) == tokyo(2026, 11, 19, 10, 0)


def test_weekend_and_holiday_are_skipped(tokyo_office):
    # Friday 17:00 + 8h: one hour on Friday, Monday is a holiday, seven hours on Tuesday.
    assert due_time(tokyo(2026, 11, 20, 17, 0), 8 * H, tokyo_office) == tokyo(2026, 11, 24, 16, 0)
    # Opened on Saturday: the clock starts on Tuesday morning.
    assert due_time(tokyo(2026, 11, 21, 12, 0), 2 * H, tokyo_office) == tokyo(2026, 11, 24, 11, 0)


def test_without_the_holiday_monday_counts():
    calendar = BusinessCalendar.from_hours("Asia/Tokyo", {"mon-fri": "09:00-18:00"})
    assert due_time(tokyo(2026, 11, 21, 12, 0), 2 * H, calendar) == tokyo(2026, 11, 23, 11, 0)


def test_multi_day_sla(tokyo_office):
    # 24 business hours from Wednesday 12:00: Wed 6h, Thu 9h, Fri 9h -> Friday 18:00.
    assert due_time(tokyo(2026, 11, 18, 12, 0), 24 * H, tokyo_office) == tokyo(2026, 11, 20, 18, 0)


def test_business_hours_follow_local_time_across_the_march_clock_change(london_office):
    # Friday 17:00 GMT + 2 business hours: 1h on Friday, then Monday 09:00-10:00 BST,
    # which is 08:00-09:00 UTC because the clocks went forward on Sunday 29 March.
    due = due_time(london(2026, 3, 27, 17, 0), 2 * H, london_office)
    assert due == london(2026, 3, 30, 10, 0)
    assert due == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def test_round_the_clock_calendar_counts_real_time_over_the_short_day():
    always = BusinessCalendar.from_hours("Europe/London", {"mon-sun": "00:00-24:00"})
    start = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert due_time(start, 24 * H, always) == start + 24 * H
    # Sunday 29 March has only 23 hours in London.
    sunday = business_time_between(london(2026, 3, 29, 0, 0), london(2026, 3, 30, 0, 0), always)
    assert sunday == 23 * H


def test_business_time_between(tokyo_office, london_office):
    assert (
        business_time_between(tokyo(2026, 11, 20, 17, 0), tokyo(2026, 11, 24, 10, 0), tokyo_office)
        == 2 * H
    )
    assert (
        business_time_between(tokyo(2026, 11, 24, 10, 0), tokyo(2026, 11, 20, 17, 0), tokyo_office)
        == -2 * H
    )
    assert (
        business_time_between(london(2026, 3, 27, 17, 0), london(2026, 3, 30, 10, 0), london_office)
        == 2 * H
    )
    # Entirely outside business hours.
    assert business_time_between(
        tokyo(2026, 11, 21, 8, 0), tokyo(2026, 11, 22, 20, 0), tokyo_office
    ) == timedelta(0)


def test_business_time_between_inverts_due_time(tokyo_office):
    start = tokyo(2026, 11, 19, 16, 45)
    for hours in (0.5, 3, 9, 17, 40):
        due = due_time(start, timedelta(hours=hours), tokyo_office)
        assert business_time_between(start, due, tokyo_office) == timedelta(hours=hours)


def test_split_shifts_and_weekend_hours():
    calendar = BusinessCalendar.from_hours(
        "Asia/Tokyo", {"sat": ["10:00-12:00", "13:00-16:00"], "mon-fri": "09:00-18:00"}
    )
    # Saturday 11:00 + 2h: 11-12, lunch, 13-14.
    assert due_time(tokyo(2026, 11, 21, 11, 0), 2 * H, calendar) == tokyo(2026, 11, 21, 14, 0)
    # Saturday 15:00 + 3h: 1h Saturday, Sunday closed, 2h Monday.
    assert due_time(tokyo(2026, 11, 21, 15, 0), 3 * H, calendar) == tokyo(2026, 11, 23, 11, 0)


def test_zero_duration_is_due_immediately(tokyo_office):
    start = tokyo(2026, 11, 21, 3, 0)
    assert due_time(start, timedelta(0), tokyo_office) == start


def test_is_overdue():
    due = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert is_overdue(due, due + timedelta(seconds=1))
    assert not is_overdue(due, due)
    assert not is_overdue(due, tokyo(2026, 11, 20, 17, 59))
    assert is_overdue(datetime(2000, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "call",
    [
        lambda: due_time(datetime(2026, 1, 1), H),
        lambda: is_overdue(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2)),
        lambda: due_time(datetime(2026, 1, 1, tzinfo=UTC), -H),
        lambda: BusinessCalendar.from_hours("Asia/Tokyo", {"mon": "18:00-09:00"}),
        lambda: BusinessCalendar.from_hours("Asia/Tokyo", {"mon": ["09:00-12:00", "11:00-13:00"]}),
        lambda: BusinessCalendar.from_hours("Asia/Tokyo", {"funday": "09:00-18:00"}),
        lambda: BusinessCalendar.from_hours("Asia/Tokyo", {"mon": "09:60-18:00"}),
        lambda: BusinessCalendar.from_hours("Asia/Tokyo", {"mon": "0900"}),
        lambda: BusinessCalendar.from_hours("Asia/Tokyo", {}),
    ],
)
def test_invalid_input_is_rejected(call):
    with pytest.raises(ValueError):
        call()


def test_unknown_time_zone_is_rejected():
    with pytest.raises(LookupError):
        BusinessCalendar.from_hours("Mars/Olympus", {"mon": "09:00-18:00"})


def test_calendar_whose_working_days_are_all_holidays_fails_instead_of_looping():
    sundays = [date(2026, 11, 22) + timedelta(weeks=w) for w in range(53 * 11)]
    calendar = BusinessCalendar.from_hours("Asia/Tokyo", {"sun": "09:00-10:00"}, sundays)
    with pytest.raises(ValueError, match="no business time"):
        due_time(tokyo(2026, 11, 20, 9, 0), H, calendar)


def test_weekday_ranges_may_wrap_around_the_week():
    calendar = BusinessCalendar.from_hours("Asia/Tokyo", {"fri-mon": "09:00-10:00"})
    assert sorted(calendar.hours) == [0, 4, 5, 6]
