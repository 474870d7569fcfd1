"""The store's opening hours, and time measured in business minutes.

Lead response times count only the minutes the store is open (settings.BUSINESS_HOURS, in the
store time zone): an inquiry sent on Saturday night is not late on Sunday when the store is closed.
Holidays and the other days in settings.BUSINESS_CLOSED_DAYS are closed like a closed weekday.
"""

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from holidays import country_holidays

# One day's opening hours (open, close), or None when closed; Monday first.
WeekHours = list[tuple[time, time] | None]

# Beyond this many days of searching without finding enough open time, give up.
SEARCH_DAYS = 366


class ClosedDays(NamedTuple):
    """Days the store is closed besides its weekly pattern."""

    holidays_of: str | None  # the province whose public holidays close the store, if they do
    dates: frozenset[date] = frozenset()


# A day's hours that run to midnight ("9-24"): the last instant of the day, read as the next midnight.
END_OF_DAY = time.max
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ACCEPTED_FORM = (
    "Write seven days separated by commas, Monday first, each as opening-closing on the 24-hour "
    "clock (9-21, 8:30-17:30, 9-24 to close at midnight) or closed; "
    "for example 9-21,9-21,9-21,9-21,9-21,9-17,closed."
)
CLOCK = re.compile(r"(\d{1,2})(?::(\d{2}))?")


def _parse_clock(value: str, *, closing: bool = False) -> time:
    """ "9", "08:30"; a closing hour may be 24 (midnight, the end of the day)."""
    match = CLOCK.fullmatch(value.strip())
    if match is None:
        raise ValueError(value)
    hour, minute = int(match[1]), int(match[2] or 0)
    if closing and (hour, minute) == (24, 0):
        return END_OF_DAY
    return time(hour, minute)  # ValueError past 23:59


def parse_business_hours(days: list[str]) -> WeekHours:
    """["9-21", ..., "closed"] → [(09:00, 21:00), ..., None]; exactly seven days, Monday first.
    A day open to midnight ("9-24") closes at END_OF_DAY."""
    if len(days) != 7:
        raise ValueError(f"BUSINESS_HOURS needs seven days, Monday first; got {len(days)}. {ACCEPTED_FORM}")
    week: WeekHours = []
    for name, day in zip(DAY_NAMES, days, strict=True):
        day = day.strip().lower()
        if day in ("", "closed"):
            week.append(None)
            continue
        opening, _, closing = day.partition("-")
        try:
            window = (_parse_clock(opening), _parse_clock(closing, closing=True))
        except ValueError:
            raise ValueError(f"BUSINESS_HOURS: {name} {day!r} is not understood. {ACCEPTED_FORM}") from None
        if window[0] >= window[1]:
            raise ValueError(f"BUSINESS_HOURS: {name} {day!r} closes before it opens. {ACCEPTED_FORM}")
        week.append(window)
    return week


def _wall_closing(day: date, closes: time) -> datetime:
    """When a day's hours end on the wall clock: END_OF_DAY is the next day's midnight."""
    if closes == END_OF_DAY:
        return datetime.combine(day + timedelta(days=1), time())
    return datetime.combine(day, closes)


def store_hours() -> WeekHours:
    return parse_business_hours(settings.BUSINESS_HOURS)


def store_zone() -> tzinfo:
    return ZoneInfo(settings.TIME_ZONE)


def store_closed_days() -> ClosedDays:
    listed = settings.BUSINESS_CLOSED_DAYS
    return ClosedDays(
        settings.STORE["province"] if "holidays" in listed else None,
        frozenset(day for day in listed if isinstance(day, date)),
    )


@cache
def _closed_dates(closed: ClosedDays, year: int) -> frozenset[date]:
    """The days of one year the store is closed besides its weekly pattern."""
    dates = {day for day in closed.dates if day.year == year}
    if closed.holidays_of:
        # Canadian stores only: the settings check at start-up that STORE_PROVINCE is a province.
        dates.update(country_holidays("CA", subdiv=closed.holidays_of, years=year))
    return frozenset(dates)


def closed_all_day(day: date, *, closed: ClosedDays | None = None) -> bool:
    """Whether the store is closed on `day` besides its weekly pattern: a holiday, a listed date."""
    closed = store_closed_days() if closed is None else closed
    return day in _closed_dates(closed, day.year)


def store_closed_on(day: date) -> bool:
    """Whether the store does not open at all on `day`: its weekly day off, a holiday, a listed date."""
    return store_hours()[day.weekday()] is None or closed_all_day(day)


def _open_interval(
    day: date, hours: WeekHours, zone: tzinfo, closed: ClosedDays
) -> tuple[datetime, datetime] | None:
    window = hours[day.weekday()]
    if window is None or closed_all_day(day, closed=closed):
        return None
    # zoneinfo resolves each wall-clock time with the offset in force that day (DST-aware).
    return datetime.combine(day, window[0], tzinfo=zone), _wall_closing(day, window[1]).replace(tzinfo=zone)


def next_open_moment(
    at: datetime,
    *,
    hours: WeekHours | None = None,
    zone: tzinfo | None = None,
    closed: ClosedDays | None = None,
) -> datetime:
    """`at` if the store is open then, else the next opening (the store's settings by default)."""
    hours = store_hours() if hours is None else hours
    zone = zone or store_zone()
    closed = store_closed_days() if closed is None else closed
    first_day = at.astimezone(zone).date()
    for offset in range(SEARCH_DAYS):
        interval = _open_interval(first_day + timedelta(days=offset), hours, zone, closed)
        if interval is None:
            continue
        opens, closes = interval
        if at < opens:
            return opens
        if at < closes:
            return at
    raise ValueError("The store is never open: check BUSINESS_HOURS and BUSINESS_CLOSED_DAYS.")


def _seconds(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0.0)


def _elapsed(start: datetime, end: datetime) -> timedelta:
    # Subtracting aware datetimes that share a tzinfo compares wall clocks; UTC gives real time.
    return end.astimezone(UTC) - start.astimezone(UTC)


@cache
def _day_seconds(hours: tuple) -> tuple[float, ...]:
    """Seconds the store is open on each weekday, by the wall clock; Monday first."""
    return tuple(
        _seconds(_wall_closing(date.min, w[1]) - datetime.combine(date.min, w[0])) if w else 0.0
        for w in hours
    )


def _open_seconds_of_day(
    day: date, start: datetime, end: datetime, hours: WeekHours, zone: tzinfo, closed: ClosedDays
) -> float:
    """Real seconds (DST-aware) the store is open on `day` between start and end."""
    interval = _open_interval(day, hours, zone, closed)
    return _seconds(_elapsed(max(start, interval[0]), min(end, interval[1]))) if interval else 0.0


def business_minutes_between(
    start: datetime,
    end: datetime,
    *,
    hours: WeekHours | None = None,
    zone: tzinfo | None = None,
    closed: ClosedDays | None = None,
) -> int:
    """Whole minutes the store was open between two instants (0 when end is not after start).

    The first and the last day count to the second on the real clock; the whole days between them
    count their opening hours by the wall clock, in one step however many there are, less the
    hours of the closed days among them."""
    hours = store_hours() if hours is None else hours
    zone = zone or store_zone()
    closed = store_closed_days() if closed is None else closed
    if end <= start:
        return 0
    first_day, last_day = start.astimezone(zone).date(), end.astimezone(zone).date()
    total = _open_seconds_of_day(first_day, start, end, hours, zone, closed)
    if last_day > first_day:
        total += _open_seconds_of_day(last_day, start, end, hours, zone, closed)
        day_seconds = _day_seconds(tuple(hours))
        weeks, days = divmod((last_day - first_day).days - 1, 7)
        total += weeks * sum(day_seconds)
        total += sum(day_seconds[(first_day.weekday() + 1 + n) % 7] for n in range(days))
        total -= sum(
            day_seconds[day.weekday()]
            for year in range(first_day.year, last_day.year + 1)
            for day in _closed_dates(closed, year)
            if first_day < day < last_day
        )
    return int(total // 60)


def business_moment_before(
    end: datetime,
    minutes: int,
    *,
    hours: WeekHours | None = None,
    zone: tzinfo | None = None,
    closed: ClosedDays | None = None,
) -> datetime | None:
    """The latest instant from which `minutes` business minutes have passed by `end`.

    Anything received at or before it has waited at least that long: this turns "late by business
    minutes" into a plain date comparison the database can index. None if the store is never open.
    """
    hours = store_hours() if hours is None else hours
    zone = zone or store_zone()
    closed = store_closed_days() if closed is None else closed
    remaining = timedelta(minutes=minutes)
    day = end.astimezone(zone).date()
    for _ in range(SEARCH_DAYS):
        interval = _open_interval(day, hours, zone, closed)
        if interval and interval[0] < end:
            close = min(end, interval[1])
            available = _elapsed(interval[0], close)
            if available >= remaining:
                return (close.astimezone(UTC) - remaining).astimezone(zone)
            remaining -= available
        day -= timedelta(days=1)
    return None
