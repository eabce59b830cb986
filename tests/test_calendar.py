"""Business-hours arithmetic: OffSite's 8-17 Central Monday-Friday with US holidays, the desk's 5-17 Pacific,
configured closures, DST, and ID.me's 24x7."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.lifecycle.calendar import Calendar

OFFSITE = Calendar.from_settings(timezone="America/Chicago", hours="08:00-17:00", holidays_country="US")
DESK = Calendar.from_settings(timezone="America/Los_Angeles", hours="05:00-17:00", holidays_country="US")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_four_business_hours_cross_a_weekend_and_a_monday_holiday() -> None:
    # Friday 15 January 2027, 2 pm Central; Monday 18 January is Martin Luther King Jr. Day.
    assert OFFSITE.add_hours(utc(2027, 1, 15, 20, 0), 4) == utc(2027, 1, 19, 15, 0)  # Tuesday 9 am Central


def test_thanksgiving_is_closed_but_the_day_after_is_open() -> None:
    # Wednesday 25 November 2026, 4 pm Central + 2 business hours: Thursday is Thanksgiving.
    assert OFFSITE.add_hours(utc(2026, 11, 25, 22, 0), 2) == utc(2026, 11, 27, 15, 0)


def test_a_configured_closure_is_skipped() -> None:
    closed = Calendar.from_settings(timezone="America/Chicago", hours="08:00-17:00", holidays_country="US",
                                    closures=["2026-11-24"])
    # Monday 23 November 2026, 4 pm Central + 2 h: Tuesday closed, so Wednesday 9 am.
    assert closed.add_hours(utc(2026, 11, 23, 22, 0), 2) == utc(2026, 11, 25, 15, 0)
    assert OFFSITE.add_hours(utc(2026, 11, 23, 22, 0), 2) == utc(2026, 11, 24, 15, 0)


def test_time_starting_after_hours_counts_from_the_next_opening() -> None:
    # Saturday noon: the clock starts Monday 8 am Central (CST, UTC-6); 8 hours later is 4 pm Central.
    assert OFFSITE.add_hours(utc(2026, 11, 21, 18, 0), 8) == utc(2026, 11, 23, 22, 0)


def test_daylight_saving_change_keeps_local_hours() -> None:
    # Friday 6 March 2026, 4 pm CST + 2 business hours: Monday 9 March 9 am CDT (UTC-5) after the change.
    assert OFFSITE.add_hours(utc(2026, 3, 6, 22, 0), 2) == utc(2026, 3, 9, 14, 0)


def test_wall_clock_hours_ignore_business_hours() -> None:
    assert OFFSITE.add_hours(utc(2026, 11, 21, 18, 0), 1, business=False) == utc(2026, 11, 21, 19, 0)
    always = Calendar.from_settings(timezone="America/Chicago", always_open=True)
    assert always.add_hours(utc(2026, 11, 26, 3, 0), 72) == utc(2026, 11, 29, 3, 0)
    assert always.is_open(utc(2026, 12, 25, 3, 0))


@pytest.mark.parametrize(("when", "open_"), [
    (utc(2026, 11, 23, 13, 0), True),    # Monday 5 am Pacific: the desk opens
    (utc(2026, 11, 23, 12, 59), False),
    (utc(2026, 11, 24, 1, 0), False),    # Monday 5 pm Pacific: closed
    (utc(2026, 11, 26, 17, 0), False),   # Thanksgiving
    (utc(2026, 11, 28, 17, 0), False),   # Saturday
])
def test_desk_hours(when: datetime, open_: bool) -> None:
    assert DESK.is_open(when) is open_


def test_next_open_and_last_open_before() -> None:
    friday_night = utc(2026, 11, 21, 3, 0)  # Friday 7 pm Pacific
    assert DESK.next_open(friday_night) == utc(2026, 11, 23, 13, 0)
    assert DESK.last_open_before(friday_night) == utc(2026, 11, 21, 0, 59)  # Friday 4:59 pm Pacific
    assert DESK.next_open(utc(2026, 11, 23, 18, 0)) == utc(2026, 11, 23, 18, 0)


def test_business_hours_between() -> None:
    assert OFFSITE.business_hours_between(utc(2027, 1, 15, 19, 0), utc(2027, 1, 19, 15, 0)) == pytest.approx(5.0)
    assert OFFSITE.business_hours_between(utc(2027, 1, 19, 15, 0), utc(2027, 1, 15, 19, 0)) == 0.0


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(Exception, match="Nowhere"):
        Calendar.from_settings(timezone="Mars/Nowhere")
