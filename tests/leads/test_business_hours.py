import re
import runpy
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from holidays import country_holidays
from hypothesis import given
from hypothesis import strategies as st

from dealership.settings import base as base_settings
from leads.business_hours import (
    ClosedDays,
    business_minutes_between,
    business_moment_before,
    next_open_moment,
    parse_business_hours,
)
from leads.models import Lead, LeadStatus
from leads.selectors.leads import response_clock, response_deadlines

TORONTO = ZoneInfo("America/Toronto")
# Mon–Fri 9–21, Sat 9–17, Sun closed (the default).
HOURS = parse_business_hours(["9-21"] * 5 + ["9-17", "closed"])
# Closed on Ontario's public holidays (the default).
ONTARIO = ClosedDays("ON")
ONTARIO_HOLIDAYS = country_holidays("CA", subdiv="ON", years=range(2025, 2030))


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TORONTO)


def minutes(start, end, closed=ONTARIO):
    return business_minutes_between(start, end, hours=HOURS, zone=TORONTO, closed=closed)


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
    """The plain definition: each open day's interval, clipped to the span, on the real clock."""
    total, day = timedelta(), start.astimezone(TORONTO).date()
    while day <= end.astimezone(TORONTO).date():
        if (window := HOURS[day.weekday()]) and day not in ONTARIO_HOLIDAYS:
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


# Christmas 2025 is a Thursday and Boxing Day a Friday, both public holidays in Ontario.
CHRISTMAS_EVE_INQUIRY = at(2025, 12, 24, 20, 50)  # ten minutes before closing


def test_holidays_wait_like_a_closed_weekday():
    assert minutes(CHRISTMAS_EVE_INQUIRY, at(2025, 12, 26, 9, 5)) == 10
    assert minutes(CHRISTMAS_EVE_INQUIRY, at(2025, 12, 27, 9, 5)) == 15
    after_closing = CHRISTMAS_EVE_INQUIRY + timedelta(hours=1)
    assert next_open_moment(after_closing, hours=HOURS, zone=TORONTO, closed=ONTARIO) == at(
        2025, 12, 27, 9, 0
    )


def test_christmas_eve_inquiry_is_not_overdue_on_boxing_day_morning():
    inquiry = Lead(received_at=CHRISTMAS_EVE_INQUIRY, status=LeadStatus.NEW)
    clock = response_clock(inquiry, deadlines=response_deadlines(now=at(2025, 12, 26, 9, 5)))
    assert (clock.minutes, clock.state) == (10, "ok")


def test_good_friday_is_closed_in_ontario():
    # Good Friday is 3 April 2026: Thursday 20:50 → Saturday 9:05 is 10 + 5 minutes.
    assert minutes(at(2026, 4, 2, 20, 50), at(2026, 4, 4, 9, 5)) == 15
    assert business_moment_before(at(2026, 4, 4, 9, 10), 30, hours=HOURS, zone=TORONTO, closed=ONTARIO) == at(
        2026, 4, 2, 20, 40
    )
    assert next_open_moment(at(2026, 4, 3, 12, 0), hours=HOURS, zone=TORONTO, closed=ONTARIO) == at(
        2026, 4, 4, 9, 0
    )


def test_a_listed_date_is_closed():
    closed_on_christmas_eve = ClosedDays(None, frozenset({date(2026, 12, 24)}))
    # Wednesday 20:50 → Friday 9:05, the Thursday closed (Christmas itself is open here).
    assert minutes(at(2026, 12, 23, 20, 50), at(2026, 12, 25, 9, 5), closed=closed_on_christmas_eve) == 15
    assert next_open_moment(
        at(2026, 12, 24, 8, 0), hours=HOURS, zone=TORONTO, closed=closed_on_christmas_eve
    ) == at(2026, 12, 25, 9, 0)


@override_settings(BUSINESS_CLOSED_DAYS=[])
def test_no_closed_days_counts_the_holidays_again():
    assert business_minutes_between(
        CHRISTMAS_EVE_INQUIRY, at(2025, 12, 26, 9, 5), hours=HOURS, zone=TORONTO
    ) == (10 + 12 * 60 + 5)


@override_settings(BUSINESS_CLOSED_DAYS=["holidays", date(2026, 12, 24)])
def test_the_setting_closes_the_holidays_and_the_listed_dates():
    assert (
        business_minutes_between(at(2026, 12, 23, 20, 50), at(2026, 12, 25, 12, 0), hours=HOURS, zone=TORONTO)
        == 10
    )


def test_a_long_span_subtracts_exactly_the_closed_days_in_it():
    # Fourteen weeks from Monday 30 March 2026: Good Friday (3 April), Victoria Day (Monday 18 May)
    # and Canada Day (Wednesday 1 July) are twelve-hour days. Easter Sunday, listed, was closed
    # anyway, and Canada Day listed again is closed once.
    start, end = at(2026, 3, 30, 0, 0), at(2026, 7, 6, 0, 0)
    listed = ClosedDays("ON", frozenset({date(2026, 4, 5), date(2026, 7, 1)}))
    assert minutes(start, end, closed=ClosedDays(None)) == 14 * (5 * 12 + 8) * 60
    assert minutes(start, end, closed=listed) == minutes(start, end, closed=ClosedDays(None)) - 3 * 12 * 60


def _settings_read(monkeypatch, **environment) -> dict:
    """The settings as start-up reads them from this environment."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(base_settings.__file__)


@pytest.mark.parametrize(
    ("value", "closed"),
    [("", []), ("holidays, 2026-12-24", ["holidays", date(2026, 12, 24)]), ("HOLIDAYS", ["holidays"])],
)
def test_the_closed_days_setting_reads_holidays_and_dates(monkeypatch, value, closed):
    assert _settings_read(monkeypatch, BUSINESS_CLOSED_DAYS=value)["BUSINESS_CLOSED_DAYS"] == closed


def test_the_closed_days_setting_defaults_to_the_holidays(monkeypatch):
    monkeypatch.delenv("BUSINESS_CLOSED_DAYS", raising=False)
    assert _settings_read(monkeypatch)["BUSINESS_CLOSED_DAYS"] == ["holidays"]


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"BUSINESS_CLOSED_DAYS": "holidays,christmas"}, "'christmas' is neither \"holidays\" nor a date"),
        ({"BUSINESS_CLOSED_DAYS": "2026-02-30"}, "'2026-02-30' is neither"),
        ({"BUSINESS_CLOSED_DAYS": "holidays", "STORE_PROVINCE": "Ontario"}, "got 'Ontario'"),
    ],
)
def test_a_bad_closed_day_stops_start_up(monkeypatch, environment, message):
    with pytest.raises(ImproperlyConfigured, match=f"^BUSINESS_CLOSED_DAYS: .*{re.escape(message)}"):
        _settings_read(monkeypatch, **environment)


@pytest.mark.parametrize(
    ("value", "day", "words"),
    [
        ("9am-9pm,9-21,9-21,9-21,9-21,9-17,closed", "Monday", "'9am-9pm'"),
        ("9-21,9h-21h,9-21,9-21,9-21,9-17,closed", "Tuesday", "'9h-21h'"),
        ("9-21,9-21,9-21,9-21,9-21,9-17,fermé", "Sunday", "'fermé'"),
        ("9-21,9-21,21-9,9-21,9-21,9-17,closed", "Wednesday", "closes before it opens"),
        ("9-21,9-21,9-21,9-25,9-21,9-17,closed", "Thursday", "'9-25'"),
        ("9-21,9-21,9-21,9-21,9:75-21,9-17,closed", "Friday", "'9:75-21'"),
        ("9-21,9-21,9-21,9-21,9-21,24-24,closed", "Saturday", "'24-24'"),
    ],
)
def test_bad_business_hours_stop_start_up_naming_the_day_and_the_form(monkeypatch, value, day, words):
    with pytest.raises(ImproperlyConfigured) as refused:
        _settings_read(monkeypatch, BUSINESS_HOURS=value)
    message = str(refused.value)
    assert message.startswith(f"BUSINESS_HOURS: {day} ") and words in message
    assert "9-21" in message and "8:30-17:30" in message and "closed" in message


def test_business_hours_of_six_days_stop_start_up(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="^BUSINESS_HOURS needs seven days, Monday first; got 6"):
        _settings_read(monkeypatch, BUSINESS_HOURS="9-21,9-21,9-21,9-21,9-21,9-17")


def test_good_business_hours_are_read_at_start_up(monkeypatch):
    value = "9-21,9-21,9-21,9-21,9-24,8:30-17:30,closed"
    assert _settings_read(monkeypatch, BUSINESS_HOURS=value)["BUSINESS_HOURS"] == value.split(",")


def _late_hours():
    """Thursday to midnight, Friday round the clock, the rest closed."""
    return parse_business_hours(["closed"] * 3 + ["9-24", "0-24", "closed", "closed"])


def test_closing_at_24_is_midnight():
    late_hours = _late_hours()
    thursday = late_hours[3]
    assert thursday[0] == time(9) and parse_business_hours(["9-24:00"] * 7)[3] == thursday

    def late(start, end):
        return business_minutes_between(start, end, hours=late_hours, zone=TORONTO, closed=ClosedDays(None))

    # Thursday 23:50 → Friday 0:10: the last ten minutes of Thursday and the first ten of Friday.
    assert late(at(2026, 3, 12, 23, 50), at(2026, 3, 13, 0, 10)) == 20
    # A whole week counts 15 hours on Thursday and 24 on Friday.
    assert late(at(2026, 3, 9, 0, 0), at(2026, 3, 16, 0, 0)) == (15 + 24) * 60
    assert late(at(2026, 3, 9, 0, 0), at(2026, 3, 30, 0, 0)) == 3 * (15 + 24) * 60
    # Still open at 23:59 on Thursday; thirty open minutes before Friday 0:10 is Thursday 23:40.
    last_minute = at(2026, 3, 12, 23, 59)
    assert next_open_moment(last_minute, hours=late_hours, zone=TORONTO) == last_minute
    moment = business_moment_before(at(2026, 3, 13, 0, 10), 30, hours=late_hours, zone=TORONTO)
    assert moment == at(2026, 3, 12, 23, 40)


def test_the_dashboard_counts_nothing_after_hours_in_a_store_open_to_midnight():
    from dealership.selectors import after_hours

    thursday = date(2026, 3, 12)
    assert not after_hours({"day": thursday, "local_hour": 23}, _late_hours(), ClosedDays(None))
    assert after_hours({"day": thursday, "local_hour": 8}, _late_hours(), ClosedDays(None))
