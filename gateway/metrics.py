"""Prometheus metrics (prometheus-client). Labels carry categories only, never values from mail.

Every part of the gateway records into these objects; gateway/health.py serves them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES = Counter("mailgate_messages_total", "Inbound messages by outcome", ["outcome"], registry=REGISTRY)
EVENTS = Counter("mailgate_events_total", "Classified events by vendor and type", ["vendor", "event"],
                 registry=REGISTRY)
OUTBOX_DEPTH = Gauge("mailgate_outbox_depth", "Outbox rows waiting to leave", registry=REGISTRY)
OUTBOX_OLDEST_AGE = Gauge("mailgate_outbox_oldest_age_seconds", "Age of the oldest waiting outbox row",
                          registry=REGISTRY)
SEND_FAILURES = Counter("mailgate_send_failures_total", "Failed send attempts by kind", ["kind"],
                        registry=REGISTRY)
SENT = Counter("mailgate_sent_total", "Messages that left, by outbox kind", ["kind"], registry=REGISTRY)
SCRUB_FINDINGS = Counter("mailgate_scrub_findings_total", "Scrubbed items by category", ["category"],
                         registry=REGISTRY)
DEADLINES_OVERDUE = Gauge("mailgate_deadlines_overdue", "Deadlines past due and not yet handled", registry=REGISTRY)
IMAP_RECONNECTS = Counter("mailgate_imap_reconnects_total", "IMAP reconnections", registry=REGISTRY)
LAST_MAILBOX_CHECK = Gauge("mailgate_last_mailbox_check_timestamp_seconds",
                           "Unix time of the last successful mailbox check", registry=REGISTRY)
ZENDESK_CALLS = Counter("mailgate_zendesk_calls_total", "Zendesk API calls by result", ["result"],
                        registry=REGISTRY)
QUARANTINED = Counter("mailgate_quarantined_total", "Items set aside, by reason", ["reason"], registry=REGISTRY)
