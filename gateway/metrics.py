"""Prometheus metrics (prometheus-client). Labels carry categories only, never values from mail.

Two kinds:
- in-process counters and gauges that the parts of the gateway record into (messages by outcome, events,
  IMAP reconnects, the last mailbox check, ...);
- store-derived families (`StoreFacts`): sends, failed send attempts and scrub findings are counted from the
  durable rows themselves (outbox rows and their attempts; audit entries whose detail carries a
  {"categories": {name: count}} object), so they are exact, survive restarts, and need no call from the
  sender or the scrubber. gateway/health.py refreshes them (and the outbox/deadline gauges) on every scrape.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES = Counter("mailgate_messages_total", "Inbound messages by outcome", ["outcome"], registry=REGISTRY)
EVENTS = Counter("mailgate_events_total", "Classified events by vendor and type", ["vendor", "event"],
                 registry=REGISTRY)
OUTBOX_DEPTH = Gauge("mailgate_outbox_depth", "Outbox rows waiting to leave", registry=REGISTRY)
OUTBOX_OLDEST_AGE = Gauge("mailgate_outbox_oldest_age_seconds", "Age of the oldest waiting outbox row",
                          registry=REGISTRY)
DEADLINES_OVERDUE = Gauge("mailgate_deadlines_overdue", "Deadlines past due and not yet handled", registry=REGISTRY)
IMAP_RECONNECTS = Counter("mailgate_imap_reconnects_total", "IMAP reconnections", registry=REGISTRY)
LAST_MAILBOX_CHECK = Gauge("mailgate_last_mailbox_check_timestamp_seconds",
                           "Unix time of the last successful mailbox check", registry=REGISTRY)
ZENDESK_CALLS = Counter("mailgate_zendesk_calls_total", "Zendesk API calls by result", ["result"],
                        registry=REGISTRY)
QUARANTINED = Counter("mailgate_quarantined_total", "Items set aside, by reason", ["reason"], registry=REGISTRY)


class StoreFacts(Collector):
    """Counters read from the store at scrape time. `update()` is called by the health server's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: dict[str, int] = {}
        self.send_failures: dict[str, int] = {}
        self.scrub_findings: dict[str, int] = {}

    def update(self, *, sent: dict[str, int], send_failures: dict[str, int],
               scrub_findings: dict[str, int]) -> None:
        with self._lock:
            self.sent, self.send_failures, self.scrub_findings = sent, send_failures, scrub_findings

    def collect(self) -> Iterator[CounterMetricFamily]:
        with self._lock:
            families = [
                ("mailgate_sent", "Messages that left, by outbox kind", "kind", self.sent),
                ("mailgate_send_failures", "Failed send attempts (retried or dead-lettered), by outbox kind",
                 "kind", self.send_failures),
                ("mailgate_scrub_findings", "Items scrubbed from outgoing mail, by category (counts only)",
                 "category", self.scrub_findings),
            ]
        for name, doc, label, values in families:
            family = CounterMetricFamily(name, doc, labels=[label])
            for key, value in sorted(values.items()):
                family.add_metric([key], value)
            yield family


STORE_FACTS = StoreFacts()
REGISTRY.register(STORE_FACTS)
