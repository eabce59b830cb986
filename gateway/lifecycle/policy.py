"""A vendor's clock policy: rules/<vendor>.toml [clocks] plus [vendors.<name>] from the config, typed once.

The seeds' promises live in the rule files as data; this module only reads them. A missing or malformed
key is a configuration error that names the file and the key (`PolicyError`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gateway.config import Config, HoursSection, VendorSection
from gateway.lifecycle.calendar import Calendar
from gateway.rules import VendorRule

PRIORITY_ALIASES = {"emergent": "emergency", "urgent": "emergency", "critical": "emergency", "normal": "medium"}


class PolicyError(ValueError):
    """A [clocks] value is invalid; the message names the rule file and key."""


@dataclass(frozen=True)
class Cadence:
    every_hours: float | None
    business: bool
    resolve_hours: float | None
    resolve_business: bool


@dataclass(frozen=True)
class AfterHours:
    calendar: Calendar
    response_minutes: int
    emergency_patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class VendorPolicy:
    vendor: str
    display_name: str
    calendar: Calendar
    ack_hours: float | None
    ack_business: bool
    update_every_hours: float | None       # the default cadence when no priority table applies
    update_business: bool
    updates_start_on: str                  # "ack" or "progress" (ID.me owes updates once it reached the user)
    contact_attempt_hours: tuple[float, ...]
    unreachable_close_hours: float | None
    no_response_close_hours: float | None
    agent_reminder_hours: tuple[float, ...]
    after_hours_email_priority: str | None
    phone_priorities: tuple[str, ...]
    default_priority: str | None
    priorities: dict[str, Cadence] = field(default_factory=dict)
    after_hours: AfterHours | None = None
    settings: VendorSection = field(default_factory=VendorSection)

    def cadence(self, priority: str | None) -> Cadence:
        if self.priorities:
            found = self.priorities.get(normalize_priority(priority) or "")
            if found is not None:
                return found
            fallback = self.priorities.get(self.default_priority or "")
            if fallback is not None:
                return fallback
        return Cadence(self.update_every_hours, self.update_business, None, False)

    def known_priority(self, priority: str | None) -> bool:
        return not self.priorities or normalize_priority(priority) in self.priorities


def normalize_priority(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip().lower()
    return PRIORITY_ALIASES.get(v, v)


def _num(table: dict[str, Any], key: str, where: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise PolicyError(f"{where}.{key}: expected a non-negative number, got {value!r}")
    return float(value)


def _calendar(table: dict[str, Any], where: str, *, hours_key: str = "business_hours") -> Calendar:
    try:
        return Calendar.from_settings(
            timezone=str(table.get("timezone", "UTC")), hours=str(table.get(hours_key, "00:00-23:59")),
            days=list(table.get("business_days", ["mon", "tue", "wed", "thu", "fri"])),
            holidays_country=str(table.get("holidays_country", "")),
            holidays_subdiv=str(table.get("holidays_subdiv", "")),
            closures=[str(c) for c in table.get("closures", [])],
            always_open=table.get("calendar", "business") == "24x7")
    except Exception as exc:
        raise PolicyError(f"{where}: invalid calendar: {exc}") from None


def desk_calendar(hours: HoursSection) -> Calendar:
    """The support desk's own hours: agent-facing reminders wait for them."""
    return Calendar.from_settings(timezone=hours.timezone, hours=hours.hours, days=hours.days,
                                  holidays_country=hours.holidays_country, closures=hours.closures)


def load_policy(rule: VendorRule, config: Config) -> VendorPolicy:
    c = rule.clocks
    where = f"{rule.source}: clocks"
    priorities: dict[str, Cadence] = {}
    for name, spec in (c.get("priorities") or {}).items():
        w = f"{where}.priorities.{name}"
        priorities[name.lower()] = Cadence(_num(spec, "update_every_hours", w),
                                           bool(spec.get("update_business_hours", True)),
                                           _num(spec, "resolve_within_hours", w),
                                           bool(spec.get("resolve_business_hours", True)))
    after = c.get("after_hours")
    after_hours = None
    if isinstance(after, dict):
        after_hours = AfterHours(_calendar(after, f"{where}.after_hours"),
                                 int(after.get("response_minutes", 30)),
                                 tuple(re.compile(p, re.I) for p in after.get("emergency_patterns", [])))
    settings = config.vendor(rule.name)
    start_on = str(c.get("updates_start_on", "ack"))
    if start_on not in ("ack", "progress"):
        raise PolicyError(f"{where}.updates_start_on: expected 'ack' or 'progress', got {start_on!r}")
    return VendorPolicy(
        vendor=rule.name, display_name=rule.display_name, calendar=_calendar(c, where),
        ack_hours=_num(c, "ack_expected_hours", where), ack_business=bool(c.get("ack_business_hours", False)),
        update_every_hours=_num(c, "update_every_hours", where),
        update_business=bool(c.get("update_business_hours", False)), updates_start_on=start_on,
        contact_attempt_hours=tuple(float(h) for h in c.get("contact_attempt_hours", [])),
        unreachable_close_hours=_num(c, "unreachable_close_hours", where),
        no_response_close_hours=_num(c, "no_response_close_hours", where),
        agent_reminder_hours=tuple(float(h) for h in c.get("agent_reminder_hours", [])),
        after_hours_email_priority=normalize_priority(c.get("after_hours_email_priority")),
        phone_priorities=tuple(normalize_priority(p) or "" for p in c.get("phone_priorities", [])),
        default_priority=normalize_priority(settings.default_priority or c.get("default_priority")),
        priorities=priorities, after_hours=after_hours, settings=settings)


def check_policies(rules: dict[str, VendorRule], config: Config) -> list[str]:
    """Every vendor's [clocks] and the desk hours, loaded once: the problems as "file: key: message" lines, for
    `mailgate check` and service start-up (an invalid clock policy must refuse to start, naming the key)."""
    problems = []
    for rule in rules.values():
        try:
            load_policy(rule, config)
        except PolicyError as exc:
            problems.append(str(exc))
    try:
        desk_calendar(config.desk_hours)
    except Exception as exc:
        problems.append(f"{config.source_file}: desk_hours: {exc}")
    return problems
