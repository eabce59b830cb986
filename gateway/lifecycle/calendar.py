"""Business-hours arithmetic in a vendor's (or the desk's) calendar.

Libraries: `holidays` (pinned 0.108) for public holidays and the stdlib `zoneinfo` for time zones and DST.
The arithmetic itself (adding N business hours, the next opening) is a short walk over open intervals: the
PyPI packages that do it (businesstimedelta, business-calendar) are unmaintained or lack time zones, so this
module keeps it small and tested instead. All inputs and outputs are aware datetimes; UTC in, UTC out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_DAYS = 366 * 2  # a calendar with no open day at all would loop forever; fail loudly instead


@lru_cache(maxsize=64)
def _holiday_dates(country: str, subdiv: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdiv or None, years=year).keys())


def _hhmm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


@dataclass(frozen=True)
class Calendar:
    """Open hours of one party. `always_open` models 24x7x365 (ID.me member support, OffSite's emergency
    cadence which runs "regardless of business hours")."""

    timezone: str = "UTC"
    start: time = time(0, 0)
    end: time = time(23, 59)
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    holidays_country: str = ""
    holidays_subdiv: str = ""
    closures: frozenset[date] = field(default_factory=frozenset)
    always_open: bool = False

    @classmethod
    def from_settings(cls, *, timezone: str, hours: str = "00:00-23:59", days: list[str] | None = None,
                      holidays_country: str = "", holidays_subdiv: str = "", closures: list[str] | None = None,
                      always_open: bool = False) -> Calendar:
        start, end = (_hhmm(p) for p in hours.split("-"))
        wanted = days if days is not None else list(_DAY_NAMES[:5])
        ZoneInfo(timezone)  # raises for an unknown zone: a configuration error, caught where it is loaded
        return cls(timezone=timezone, start=start, end=end,
                   days=tuple(_DAY_NAMES.index(d.lower()) for d in wanted),
                   holidays_country=holidays_country, holidays_subdiv=holidays_subdiv,
                   closures=frozenset(date.fromisoformat(c) for c in (closures or [])), always_open=always_open)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # -- days ---------------------------------------------------------------------------------------------
    def is_business_day(self, day: date) -> bool:
        if self.always_open:
            return True
        if day.weekday() not in self.days or day in self.closures:
            return False
        return not (self.holidays_country and day in _holiday_dates(self.holidays_country, self.holidays_subdiv,
                                                                      day.year))

    def _window(self, day: date) -> tuple[datetime, datetime]:
        """The open interval of a business day, as aware local datetimes (DST handled by zoneinfo)."""
        return (datetime.combine(day, self.start, self.tz), datetime.combine(day, self.end, self.tz))

    # -- instants -----------------------------------------------------------------------------------------
    def is_open(self, when: datetime) -> bool:
        if self.always_open:
            return True
        local = when.astimezone(self.tz)
        if not self.is_business_day(local.date()):
            return False
        opens, closes = self._window(local.date())
        return opens <= local < closes

    def _windows(self, day: date, step: int) -> Iterator[tuple[datetime, datetime]]:
        """The open windows of business days from `day` on, forwards (step 1) or backwards (step -1)."""
        for _ in range(_MAX_DAYS):
            if self.is_business_day(day):
                yield self._window(day)
            day += timedelta(days=step)

    def next_open(self, when: datetime) -> datetime:
        """`when` itself if open, else the next opening."""
        if self.is_open(when):
            return when.astimezone(UTC)
        local = when.astimezone(self.tz)
        for opens, _closes in self._windows(local.date(), 1):
            if local < opens:
                return opens.astimezone(UTC)
        raise ValueError(f"calendar {self.timezone} has no open hours within {_MAX_DAYS} days")

    def last_open_before(self, when: datetime) -> datetime | None:
        """The latest open minute not after `when`, or None within the search span."""
        if self.is_open(when):
            return when.astimezone(UTC)
        local = when.astimezone(self.tz)
        for _opens, closes in self._windows(local.date(), -1):
            if closes <= local:
                return (closes - timedelta(minutes=1)).astimezone(UTC)
        return None

    def add_hours(self, start: datetime, hours: float, *, business: bool = True) -> datetime:
        """`start` + `hours` of open time (or of wall-clock time when `business` is False or 24x7)."""
        if not business or self.always_open:
            return (start + timedelta(hours=hours)).astimezone(UTC)
        remaining = timedelta(hours=hours)
        cursor = self.next_open(start).astimezone(self.tz)
        for _ in range(_MAX_DAYS * 2):
            _, closes = self._window(cursor.date())
            available = closes - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(UTC)
            remaining -= available
            cursor = self.next_open(closes + timedelta(seconds=1)).astimezone(self.tz)
        raise ValueError("business-hours addition did not converge")

    def business_hours_between(self, start: datetime, end: datetime) -> float:
        """Open hours between two instants (for reports: how late a vendor is, in its own hours)."""
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds() / 3600
        total = timedelta()
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            if self.is_business_day(day):
                opens, closes = self._window(day)
                lo, hi = max(opens, start), min(closes, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600
