"""A local HTTP server speaking the parts of the Zendesk API the gateway calls, for tests and benchmarks.

  PUT /api/v2/tickets/{id}.json            {"ticket": {"comment": {"body", "public"}, "custom_fields": [...],
                                            "additional_tags": [...], "remove_tags": [...], "tags": [...]}}
  GET /api/v2/tickets/{id}/comments.json   newest first with sort_order=desc; per_page/page; next_page
  GET /api/v2/users/me.json                the authenticated user, or the anonymous user without credentials

It checks Basic auth ("{email}/token:{api_token}"), validates JSON bodies strictly (an unknown key, a public
comment or a malformed tag is refused with 400/422 and recorded in `problems`), and injects faults on demand:
429 with Retry-After, 5xx (before or after applying the update) and slow answers that make the client time out
(again before or after applying). Runs in a daemon thread on a free loopback port.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_TICKET = re.compile(r"^/api/v2/tickets/(\d+)\.json$")
_COMMENTS = re.compile(r"^/api/v2/tickets/(\d+)/comments\.json$")
_TAG = re.compile(r"^[a-z0-9_\-/:.]+$")
_UPDATE_KEYS = {"comment", "custom_fields", "tags", "additional_tags", "remove_tags"}


@dataclass
class Fault:
    """What the next matching request gets instead of a normal answer."""

    status: int = 500
    retry_after: str | None = None
    apply: bool = False      # carry the update out anyway (the answer is lost, not the work)
    delay: float = 0.0       # seconds before answering: longer than the client's timeout means a timeout
    method: str = "PUT"


@dataclass
class FakeTicket:
    comments: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[int, Any] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)


@dataclass
class Seen:
    method: str
    path: str
    status: int


class FakeZendesk:
    def __init__(self, email: str = "bot@example.org", token: str = "test-token", tickets: tuple[int, ...] = ()):
        self.email, self.token = email, token
        self.tickets: dict[int, FakeTicket] = {t: FakeTicket() for t in tickets}
        self.faults: deque[Fault] = deque()
        self.requests: list[Seen] = []
        self.problems: list[str] = []
        self.user_role = "agent"
        self._lock = threading.Lock()
        self._next_comment_id = 1000
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    # -- lifecycle ----------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeZendesk:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- test controls ------------------------------------------------------------------------------------
    def inject(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def notes(self, ticket: int) -> list[str]:
        return [c["body"] for c in self.tickets[ticket].comments]

    def calls(self, method: str | None = None) -> list[Seen]:
        return [r for r in self.requests if method is None or r.method == method]

    # -- request handling (called from the server's threads) ------------------------------------------------
    def authenticated(self, header: str | None) -> bool | None:
        """True: right credentials; False: wrong; None: none given."""
        if not header:
            return None
        if not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except ValueError:
            return False
        return decoded == f"{self.email}/token:{self.token}"

    def take_fault(self, method: str) -> Fault | None:
        with self._lock:
            if self.faults and self.faults[0].method == method:
                return self.faults.popleft()
        return None

    def validate_update(self, body: Any) -> str | None:
        if not isinstance(body, dict) or set(body) != {"ticket"} or not isinstance(body["ticket"], dict):
            return 'body must be {"ticket": {...}}'
        ticket = body["ticket"]
        unknown = set(ticket) - _UPDATE_KEYS
        if unknown:
            return f"unknown ticket keys {sorted(unknown)}"
        comment = ticket.get("comment")
        if comment is not None:
            if not isinstance(comment, dict) or set(comment) - {"body", "public"}:
                return "comment must be {body, public}"
            if not isinstance(comment.get("body"), str) or not comment["body"].strip():
                return "comment.body must be a non-empty string"
            if comment.get("public") is not False:
                return "comment.public must be false (internal note)"
        for f in ticket.get("custom_fields", []):
            if not isinstance(f, dict) or set(f) != {"id", "value"} or type(f["id"]) is not int:
                return "custom_fields items must be {id: int, value}"
            if not isinstance(f["value"], str | int | float | bool | None):
                return "custom_fields value must be a scalar"
        for key in ("tags", "additional_tags", "remove_tags"):
            tags = ticket.get(key, [])
            if not isinstance(tags, list) or not all(isinstance(t, str) and _TAG.match(t) for t in tags):
                return f"{key} must be a list of lower-case tags without spaces"
        return None

    def apply_update(self, ticket_id: int, update: dict[str, Any]) -> None:
        with self._lock:
            ticket = self.tickets[ticket_id]
            if "comment" in update:
                self._next_comment_id += 1
                ticket.comments.append({"id": self._next_comment_id, "body": update["comment"]["body"],
                                        "plain_body": update["comment"]["body"], "public": False})
            for f in update.get("custom_fields", []):
                ticket.fields[f["id"]] = f["value"]
            if "tags" in update:
                ticket.tags = set(update["tags"])
            ticket.tags |= set(update.get("additional_tags", []))
            ticket.tags -= set(update.get("remove_tags", []))


def _handler(fake: FakeZendesk) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stall

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            fake.requests.append(Seen(self.command, urlsplit(self.path).path, status))
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (an injected timeout)

        def _read_json(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                raise ValueError("Content-Type must be application/json")
            return json.loads(raw)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            url = urlsplit(self.path)
            auth = fake.authenticated(self.headers.get("Authorization"))
            if url.path == "/api/v2/users/me.json":
                if auth is None:
                    self._answer(200, {"user": {"id": None, "name": "Anonymous user", "role": "end-user"}})
                elif auth:
                    self._answer(200, {"user": {"id": 42, "email": fake.email, "role": fake.user_role}})
                else:
                    self._answer(401, {"error": "Couldn't authenticate you"})
                return
            if not auth:
                self._answer(401, {"error": "Couldn't authenticate you"})
                return
            if self._fault("GET", None):
                return
            m = _COMMENTS.match(url.path)
            if not m or int(m.group(1)) not in fake.tickets:
                self._answer(404, {"error": "RecordNotFound", "description": "Not found"})
                return
            self._comments(int(m.group(1)), parse_qs(url.query))

        def _comments(self, ticket_id: int, query: dict[str, list[str]]) -> None:
            comments = list(fake.tickets[ticket_id].comments)
            if query.get("sort_order") == ["desc"]:
                comments.reverse()
            per_page = int(query.get("per_page", ["100"])[0])
            page = int(query.get("page", ["1"])[0])
            chunk = comments[(page - 1) * per_page: page * per_page]
            more = page * per_page < len(comments)
            next_page = None
            if more:
                order = query.get("sort_order", ["asc"])[0]
                next_page = (f"{fake.url}/api/v2/tickets/{ticket_id}/comments.json?sort_order={order}"
                             f"&per_page={per_page}&page={page + 1}")
            self._answer(200, {"comments": chunk, "next_page": next_page, "count": len(comments)})

        def do_PUT(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            if not fake.authenticated(self.headers.get("Authorization")):
                self._answer(401, {"error": "Couldn't authenticate you"})
                return
            try:
                body = self._read_json()
            except ValueError as exc:
                fake.problems.append(str(exc)[:100])
                self._answer(400, {"error": "InvalidJSON", "description": "invalid JSON"})
                return
            m = _TICKET.match(url.path)
            problem = fake.validate_update(body)
            if problem:
                fake.problems.append(problem)
                self._answer(422, {"error": "RecordInvalid", "description": problem})
                return
            if not m or int(m.group(1)) not in fake.tickets:
                self._answer(404, {"error": "RecordNotFound", "description": "Not found"})
                return
            ticket_id = int(m.group(1))
            if self._fault("PUT", lambda: fake.apply_update(ticket_id, body["ticket"])):
                return
            fake.apply_update(ticket_id, body["ticket"])
            self._answer(200, {"ticket": {"id": ticket_id, "tags": sorted(fake.tickets[ticket_id].tags)}})

        def _fault(self, method: str, apply: Any) -> bool:
            fault = fake.take_fault(method)
            if fault is None:
                return False
            if fault.apply and apply is not None:
                apply()
            if fault.delay:
                time.sleep(fault.delay)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            error = {429: "TooManyRequests", 404: "RecordNotFound", 422: "RecordInvalid"}.get(fault.status,
                                                                                          "InternalError")
            self._answer(fault.status, {"error": error, "description": "injected"}, headers)
            return True

    return Handler


def zendesk_toml(url: str, *, token_env: str, email: str = "bot@example.org", timeout: float = 0.5,
                 max_attempts: int = 4) -> str:
    """A [zendesk] section pointing at a fake server (the token comes from the environment, never the file)."""
    return (f'[zendesk]\nurl = "{url}"\nemail = "{email}"\napi_token = "${{{token_env}}}"\n'
            f"timeout_seconds = {timeout}\nmax_attempts = {max_attempts}\nretry_initial_seconds = 30.0\n"
            "retry_max_seconds = 600.0\ntags = [\"mailgate\"]\n"
            "[zendesk.fields]\nvendor_ticket = 360001\nvendor_state = 360002\n")
