"""Trust: is the From domain authenticated by one of OUR mail servers?

Only Authentication-Results headers (RFC 8601) whose authserv-id is in `[trust] authserv_ids` count; anyone
can write such a header with another id, or with ours further down the message. Our boundary MTA adds its
header on top (and should strip look-alikes), so of the headers carrying one of our ids only the topmost one
per id is read: a copy below it may have come with the message.

A sender is trusted when that header says
  * dmarc=pass, for the From domain (header.from, when present, must name it), or
  * dkim=pass for a signing domain (header.d, else the domain of header.i) aligned with the From domain
    in DMARC's relaxed sense: the same organisational domain.
A dmarc result other than pass for the From domain in the same header vetoes a DKIM pass: the verifier that
we trust already looked at alignment and said no.

Organisational domain: the public suffix plus one label, from the public suffix list snapshot bundled with
tldextract (gateway.public_suffix; nothing downloads at run time); a name under no listed suffix keeps its
last two labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.parse import ParsedMessage
from gateway.public_suffix import registrable_domain


@dataclass
class AuthResult:
    method: str                  # "dkim", "dmarc", "spf", ...
    result: str                  # "pass", "fail", "none", ...
    props: dict[str, str] = field(default_factory=dict)   # "header.d" -> "id.me" (ptype.property lowercased)


@dataclass
class AuthResultsHeader:
    authserv_id: str
    version: str | None
    results: list[AuthResult]


@dataclass
class TrustVerdict:
    trusted: bool
    method: str | None = None      # "dmarc" or "dkim"
    domain: str | None = None
    authserv_id: str | None = None
    reason: str = ""               # why not trusted, for rule hits ("no_authres", "dmarc=fail", ...)


def _strip_comments(value: str) -> str:
    """Remove RFC 5322 comments (nested parentheses), leaving quoted strings intact."""
    out: list[str] = []
    depth, in_quote, escaped = 0, False, False
    for ch in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\" and (in_quote or depth):
            escaped = True
            if depth == 0:
                out.append(ch)
            continue
        if in_quote:
            out.append(ch)
            if ch == '"':
                in_quote = False
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            if ch == '"':
                in_quote = True
            out.append(ch)
    return "".join(out)


def _split_outside_quotes(value: str, sep: str) -> list[str]:
    parts, cur, in_quote, escaped = [], [], False, False
    for ch in value:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\" and in_quote:
            cur.append(ch)
            escaped = True
        elif ch == '"':
            in_quote = not in_quote
            cur.append(ch)
        elif ch == sep and not in_quote:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def _tokens(segment: str) -> list[str]:
    """Whitespace-separated tokens, quoted strings kept whole, spaces around '=' dropped ("d = x" -> "d=x")."""
    tokens: list[str] = []
    cur: list[str] = []
    in_quote = escaped = glue = False
    for ch in segment:
        if in_quote:
            cur.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_quote = False
            continue
        if ch.isspace():
            if cur and not glue:
                tokens.append("".join(cur))
                cur = []
            continue
        if ch == "=":
            if not cur and tokens:
                cur = list(tokens.pop())
            cur.append(ch)
            glue = True
            continue
        glue = False
        if ch == '"':
            in_quote = True
        cur.append(ch)
    if cur:
        tokens.append("".join(cur))
    return tokens


def parse_authentication_results(value: str) -> AuthResultsHeader | None:
    """One Authentication-Results header value, or None when it has no authserv-id."""
    segments = _split_outside_quotes(_strip_comments(value or ""), ";")
    head = segments[0].split()
    if not head:
        return None
    authserv_id = _unquote(head[0]).lower()
    version = head[1] if len(head) > 1 and head[1].isdigit() else None
    results: list[AuthResult] = []
    for segment in segments[1:]:
        tokens = _tokens(segment)
        if not tokens or "=" not in tokens[0]:
            continue  # "none" (no results) or garbage
        method, _, result = tokens[0].partition("=")
        method = method.split("/", 1)[0].strip().lower()
        props: dict[str, str] = {}
        for tok in tokens[1:]:
            key, eq, val = tok.partition("=")
            if eq and key:
                props.setdefault(key.lower(), _unquote(val))
        results.append(AuthResult(method, _unquote(result).lower(), props))
    return AuthResultsHeader(authserv_id, version, results)


def organisational_domain(domain: str) -> str:
    return registrable_domain(domain)


def aligned(signing_domain: str, from_domain: str) -> bool:
    if not signing_domain or not from_domain:
        return False
    return organisational_domain(signing_domain) == organisational_domain(from_domain)


def _dkim_domain(r: AuthResult) -> str:
    d = r.props.get("header.d", "")
    if not d and "header.i" in r.props:
        d = r.props["header.i"].rsplit("@", 1)[-1]
    return d.lower().strip(".")


def _dmarc_for_from(r: AuthResult, from_domain: str) -> bool:
    named = r.props.get("header.from", "").rsplit("@", 1)[-1].lower().strip(".")
    return not named or named == from_domain


def _verdict(h: AuthResultsHeader, from_domain: str) -> TrustVerdict:
    dmarc = [r for r in h.results if r.method == "dmarc" and _dmarc_for_from(r, from_domain)]
    if any(r.result == "pass" for r in dmarc):
        return TrustVerdict(True, "dmarc", from_domain, h.authserv_id)
    vetoes = [r.result for r in dmarc if r.result not in ("none", "pass")]
    if vetoes:
        return TrustVerdict(False, authserv_id=h.authserv_id, reason=f"dmarc={vetoes[0]}")
    for r in h.results:
        if r.method == "dkim" and r.result == "pass" and aligned(_dkim_domain(r), from_domain):
            return TrustVerdict(True, "dkim", _dkim_domain(r), h.authserv_id)
    return TrustVerdict(False, authserv_id=h.authserv_id, reason="no_aligned_pass")


def authenticate(parsed: ParsedMessage, authserv_ids: list[str]) -> TrustVerdict:
    """Never raises: a header that cannot be read simply does not vouch for anyone."""
    try:
        return _authenticate(parsed, authserv_ids)
    except Exception as exc:
        return TrustVerdict(False, reason=f"error:{type(exc).__name__}")


def _authenticate(parsed: ParsedMessage, authserv_ids: list[str]) -> TrustVerdict:
    from_domain = (parsed.from_addr or "").rsplit("@", 1)[-1].lower().strip(".") if parsed.from_addr else ""
    if "@" not in (parsed.from_addr or ""):
        return TrustVerdict(False, reason="no_from_address")
    ours = {a.lower() for a in authserv_ids}
    seen: set[str] = set()
    best: TrustVerdict | None = None
    for value in parsed.header_values("Authentication-Results"):
        h = parse_authentication_results(value)
        if h is None or h.authserv_id not in ours or h.authserv_id in seen:
            continue
        seen.add(h.authserv_id)  # only the topmost header of each of our ids counts
        verdict = _verdict(h, from_domain)
        if verdict.trusted:
            return verdict
        best = best or verdict
    return best or TrustVerdict(False, reason="no_authres_from_our_servers")
