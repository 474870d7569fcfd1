from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leads.business_hours import (
    business_minutes_between,
    business_moment_before,
    next_open_moment,
    parse_business_hours,
)

TORONTO = ZoneInfo("America/Toronto")
# Mon–Fri 9–21, Sat 9–17, Sun closed (the default).
HOURS = parse_business_hours(["9-21"] * 5 + ["9-17", "closed"])


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TORONTO)


def minutes(start, end):
    return business_minutes_between(start, end, hours=HOURS, zone=TORONTO)


def test_minutes_inside_one_open_day():
    assert minutes(at(2026, 3, 2, 10, 0), at(2026, 3, 2, 10, 45)) == 45


def test_after_hours_inquiry_waits_for_the_morning():
    # Monday 22:00 → Tuesday 9:20: only the twenty minutes after opening count.
    assert minutes(at(2026, 3, 2, 22, 0), at(2026, 3, 3, 9, 20)) == 20


def test_weekend_counts_saturday_hours_only():
    # Saturday 16:30 → Monday 9:10: 30 min on Saturday, Sunday closed, 10 min on Monday.
    assert minutes(at(2026, 3, 7, 16, 30), at(2026, 3, 9, 9, 10)) == 40


def test_end_before_start_is_zero():
    assert minutes(at(2026, 3, 2, 11, 0), at(2026, 3, 2, 10, 0)) == 0


def test_dst_spring_forward_night_does_not_add_an_hour():
    # DST starts Sunday 8 March 2026 at 2:00 (closed day): Sat 20:00 → Mon 9:30 is 30 min, not 90.
    assert minutes(at(2026, 3, 7, 20, 0), at(2026, 3, 9, 9, 30)) == 30


def test_dst_counts_real_elapsed_time_when_open_over_the_change():
    # A store open around the clock on Sundays loses the skipped hour on the spring-forward day.
    always_open = parse_business_hours(["0-23:59"] * 7)
    start, end = at(2026, 3, 8, 0, 0), at(2026, 3, 8, 5, 0)
    assert business_minutes_between(start, end, hours=always_open, zone=TORONTO) == 4 * 60


def test_long_spans_match_day_by_day_counting():
    # Six weeks and a bit: whole weeks counted at once must equal the sum of each day.
    start, end = at(2026, 1, 5, 12, 0), at(2026, 2, 19, 15, 0)
    weekly = 5 * 12 * 60 + 8 * 60
    assert minutes(start, end) == minutes(start, at(2026, 2, 16, 12, 0)) + minutes(
        at(2026, 2, 16, 12, 0), end
    )
    assert minutes(at(2026, 1, 5, 0, 0), at(2026, 1, 12, 0, 0)) == weekly


def test_moment_before_is_the_inverse_of_the_clock():
    end = at(2026, 3, 9, 9, 10)  # Monday morning
    moment = business_moment_before(end, 30, hours=HOURS, zone=TORONTO)
    assert moment == at(2026, 3, 7, 16, 40)  # Saturday, 20 minutes before closing
    assert minutes(moment, end) == 30


def test_moment_before_when_never_open_is_none():
    closed = parse_business_hours(["closed"] * 7)
    assert business_moment_before(at(2026, 3, 9, 9, 0), 30, hours=closed, zone=TORONTO) is None


@pytest.mark.parametrize("bad", [["9-21"] * 6, ["21-9"] * 7, ["nine-five"] + ["9-17"] * 6])
def test_malformed_hours_are_refused(bad):
    with pytest.raises(ValueError):
        parse_business_hours(bad)


def test_half_hours_are_understood():
    assert parse_business_hours(["8:30-17:30"] + ["closed"] * 6)[0] == (time(8, 30), time(17, 30))


def test_next_open_moment_moves_a_night_or_weekend_moment_to_the_next_opening():
    def opening(moment):
        return next_open_moment(moment, hours=HOURS, zone=TORONTO)

    assert opening(at(2026, 3, 10, 22, 30)) == at(2026, 3, 11, 9, 0)  # Tuesday night
    assert opening(at(2026, 3, 11, 6, 0)) == at(2026, 3, 11, 9, 0)  # early morning
    assert opening(at(2026, 3, 11, 14, 5)) == at(2026, 3, 11, 14, 5)  # open: unchanged
    assert opening(at(2026, 3, 14, 18, 0)) == at(2026, 3, 16, 9, 0)  # Saturday after 17h
    assert opening(at(2026, 3, 15, 12, 0)) == at(2026, 3, 16, 9, 0)  # closed Sunday


def test_next_open_moment_refuses_a_store_never_open():
    with pytest.raises(ValueError, match="never open"):
        next_open_moment(at(2026, 3, 10, 12, 0), hours=[None] * 7, zone=TORONTO)


def _minutes_day_by_day(start: datetime, end: datetime) -> int:
    """The plain definition: each day's open interval, clipped to the span, on the real clock."""
    total, day = timedelta(), start.astimezone(TORONTO).date()
    while day <= end.astimezone(TORONTO).date():
        if window := HOURS[day.weekday()]:
            opens = datetime.combine(day, window[0], tzinfo=TORONTO)
            closes = datetime.combine(day, window[1], tzinfo=TORONTO)
            low, high = max(start, opens).astimezone(UTC), min(end, closes).astimezone(UTC)
            total += max(high - low, timedelta())
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)


@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    length=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
)
def test_any_span_counts_the_same_as_day_by_day(start, length):
    start = start.replace(tzinfo=TORONTO)
    assert minutes(start, start + length) == _minutes_day_by_day(start, start + length)
