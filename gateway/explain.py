"""`mailgate explain`: how the gateway reads a message, without a store and without Presidio.

The read half of the pipeline (gateway.inbound.analyze) runs on each file and its facts are printed as a
readable block or one JSON object per line. Nothing is written: no state directory, no store. The token key
for our Message-IDs comes from `[gateway] token_key` when configured; otherwise the key lives in the store,
which explain does not open, so it uses a fixed key and says in rule_hits that our tokens were not verified.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config import Config
from gateway.inbound import analyze, facts
from gateway.rules import VendorRule

EXPLAIN_ONLY_KEY = b"explain-only"
UNVERIFIED_HIT = "explain:token_key_not_configured:own_tokens_not_verified"
_ORDER = ("message_id", "in_reply_to", "references", "from", "subject", "date", "vendor", "trusted", "event",
          "vendor_ticket", "zendesk_ticket", "end_user_email", "ticket_numbers", "auto_reply", "out_of_office",
          "bounce", "bounced_message_id", "defects", "rule_hits")


@dataclass
class Explained:
    path: str
    facts: dict[str, object] | None   # None when the file could not be read
    error: str | None = None


def explain_key(config: Config) -> tuple[bytes, bool]:
    """(key, verifiable): the configured token key, else the fixed explain-only key. An empty configured key
    counts as none, as in gateway.msgid.token_key (the service then uses the key kept in the store)."""
    secret = config.gateway.token_key.reveal() if config.gateway.token_key else ""
    return (secret.encode(), True) if secret else (EXPLAIN_ONLY_KEY, False)


def explain_bytes(raw: bytes, rules: dict[str, VendorRule], config: Config, key: bytes,
                  verifiable: bool) -> dict[str, object]:
    f = facts(analyze(raw, rules, config, key))
    if not verifiable:
        f["rule_hits"] = [*_list(f, "rule_hits"), UNVERIFIED_HIT]
    return {k: f[k] for k in _ORDER}


def explain_paths(paths: Iterable[str | Path], rules: dict[str, VendorRule], config: Config) -> Iterator[Explained]:
    """Each path in input order ("-" is standard input); a file that cannot be read comes back with an error
    instead of facts."""
    key, verifiable = explain_key(config)
    for path in paths:
        try:
            raw = sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()
        except OSError as exc:
            yield Explained(str(path), None, exc.strerror or type(exc).__name__)
            continue
        yield Explained(str(path), explain_bytes(raw, rules, config, key, verifiable))


def _printable(text: str) -> str:
    """Lone surrogates (undecodable bytes some parsers keep) would make printing fail: replace them."""
    return text.encode("utf-8", "replace").decode("utf-8")


def to_json(e: Explained) -> str:
    return _printable(json.dumps({"file": e.path, **(e.facts or {})}, ensure_ascii=False))


def _list(f: dict[str, Any], key: str) -> list[Any]:
    value = f.get(key)
    return list(value) if isinstance(value, list) else []


def _flag_list(f: dict[str, object]) -> str:
    flags = [name for name in ("auto_reply", "out_of_office", "bounce") if f.get(name)]
    return ", ".join(flags) if flags else "none"


def render_block(e: Explained) -> str:
    f = e.facts or {}
    tickets = ", ".join(f"{t['system']} {t['number']}" for t in _list(f, "ticket_numbers"))
    refs = " ".join(map(str, _list(f, "references")))
    lines = [
        f"== {e.path}",
        f"  message-id:      {f.get('message_id') or '-'}",
        f"  in-reply-to:     {f.get('in_reply_to') or '-'}",
        f"  references:      {refs or '-'}",
        f"  from:            {f.get('from') or '-'}",
        f"  subject:         {f.get('subject') or '-'}",
        f"  date:            {f.get('date') or '-'}",
        f"  vendor:          {f.get('vendor') or '-'}    trusted: {'yes' if f.get('trusted') else 'no'}",
        f"  event:           {f.get('event')}",
        f"  vendor ticket:   {f.get('vendor_ticket') or '-'}    zendesk ticket: {f.get('zendesk_ticket') or '-'}",
        f"  end user email:  {f.get('end_user_email') or '-'}",
        f"  ticket numbers:  {tickets or '-'}",
        f"  guards:          {_flag_list(f)}",
    ]
    if f.get("bounce"):
        lines.append(f"  bounced msg-id:  {f.get('bounced_message_id') or '-'}")
    if f.get("defects"):
        lines.append(f"  defects:         {', '.join(map(str, _list(f, 'defects')))}")
    lines.append("  why:")
    lines += [f"    {hit}" for hit in _list(f, "rule_hits")]
    return _printable("\n".join(lines))
