"""Operator alerts: recorded in the audit log, logged, and mailed to [gateway] alert_address when set.
Alert text must never carry PHI: callers pass categories, ids and counts, never message content."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate

from gateway.config import Config
from gateway.msgid import make_message_id
from gateway.store import Store

log = logging.getLogger("mailgate.alerts")


def raise_alert(store: Store, config: Config, key: bytes, *, kind: str, text: str, dedupe: str,
                escalation_id: int | None = None) -> None:
    """Raise an alert once per `dedupe` key."""
    store.audit(actor="gateway", action=f"alert:{kind}", target=str(escalation_id or ""), cause_ref=dedupe,
                detail={"text": text})
    log.warning("alert", extra={"alert": kind, "escalation_id": escalation_id})
    if not config.gateway.alert_address:
        return
    msg = EmailMessage()
    msg["From"] = config.gateway.address
    msg["To"] = config.gateway.alert_address
    msg["Subject"] = f"[mailgate alert] {kind}"
    msg["Date"] = formatdate(localtime=False)
    msg["Auto-Submitted"] = "auto-generated"
    domain = config.gateway.address.split("@", 1)[1]
    mid = make_message_id(key, None, domain)
    msg["Message-ID"] = mid
    msg.set_content(text)
    store.enqueue(kind="alert", dedupe_key=f"alert:{dedupe}", message_id=mid, mail_from=config.gateway.address,
                  recipients=[config.gateway.alert_address], content=bytes(msg), escalation_id=escalation_id)
