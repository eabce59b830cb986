"""Trust (skeleton; the inbound issue completes it): RFC 8601 Authentication-Results from our own
authserv-ids only."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.parse import ParsedMessage


@dataclass
class TrustVerdict:
    trusted: bool
    method: str | None = None      # "dmarc" or "dkim"
    domain: str | None = None
    authserv_id: str | None = None


def authenticate(parsed: ParsedMessage, authserv_ids: list[str]) -> TrustVerdict:
    from_domain = (parsed.from_addr or "").rsplit("@", 1)[-1]
    for header in parsed.header_values("Authentication-Results"):
        serv = header.split(";", 1)[0].strip().split()[0].lower() if header.strip() else ""
        if serv not in {a.lower() for a in authserv_ids}:
            continue
        if re.search(r"\bdmarc=pass\b", header, re.I):
            return TrustVerdict(True, "dmarc", from_domain, serv)
        m = re.search(r"\bdkim=pass\b[^;]*header\.d=([\w.-]+)", header, re.I)
        if m and (from_domain == m.group(1).lower() or from_domain.endswith("." + m.group(1).lower())):
            return TrustVerdict(True, "dkim", m.group(1).lower(), serv)
    return TrustVerdict(False)
