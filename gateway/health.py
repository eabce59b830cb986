"""The metrics and health endpoint: GET /metrics (Prometheus text) and GET /healthz (200 ok / 503 reason).

Served by the stdlib http.server in one daemon thread, on [metrics] listen (loopback by default). That thread
opens its own store connection (SQLite connections are not shared between threads) and refreshes the
store-derived gauges on every scrape, so it always sees the current outbox and deadlines; /healthz refreshes
only the outbox gauges its verdict reads.

Unhealthy when:
- the mailbox has not been reached for [metrics] mailbox_stale_seconds: the last successful check
  (gateway.metrics.LAST_MAILBOX_CHECK, set by the service after each pass), or, before the first check, the
  time the health server started;
- the outbox is stuck: its oldest waiting row is older than [metrics] outbox_stuck_seconds.

`serve_health` is the service task (registered by gateway.service_setup.register_service_tasks).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway import metrics
from gateway.clock import Clock
from gateway.config import Config, MetricsSection
from gateway.store import Store

if TYPE_CHECKING:
    from gateway.runtime import Runtime
    from gateway.service import Service

log = logging.getLogger("mailgate.health")


@dataclass
class HealthStatus:
    healthy: bool
    reasons: list[str]

    def text(self) -> str:
        return "ok\n" if self.healthy else "".join(f"{r}\n" for r in self.reasons)


def refresh_outbox_gauges(store: Store, clock: Clock) -> None:
    """Outbox depth and the age of its oldest waiting row: all that the health verdict reads from the store."""
    depth, oldest = store.outbox_depth()
    metrics.OUTBOX_DEPTH.set(depth)
    age = (clock.now() - datetime.fromisoformat(oldest)).total_seconds() if oldest else 0.0
    metrics.OUTBOX_OLDEST_AGE.set(max(0.0, age))


def refresh_gauges(store: Store, clock: Clock) -> None:
    """Set what comes from the store: the outbox gauges, deadlines overdue, and the store-derived counters
    (sent, failed attempts, scrub findings)."""
    refresh_outbox_gauges(store, clock)
    metrics.DEADLINES_OVERDUE.set(store.deadlines_overdue())
    metrics.STORE_FACTS.update(sent=store.sent_by_kind(), send_failures=store.failed_attempts_by_kind(),
                               scrub_findings=store.scrub_findings_by_category())


def record_mailbox_check(clock: Clock) -> None:
    """Note a successful mailbox check now (the service does the same with the system clock)."""
    metrics.LAST_MAILBOX_CHECK.set(clock.now().timestamp())


def _gauge(name: str) -> float:
    return float(metrics.REGISTRY.get_sample_value(name) or 0.0)


def evaluate(cfg: MetricsSection, clock: Clock, started_at: float) -> HealthStatus:
    """Health from the gauges (call refresh_outbox_gauges first). Reasons are fixed phrases with numbers only."""
    now = clock.now().timestamp()
    reasons: list[str] = []
    last_check = _gauge("mailgate_last_mailbox_check_timestamp_seconds")
    since = now - (last_check if last_check > 0 else started_at)
    if since > cfg.mailbox_stale_seconds:
        what = "last reached" if last_check > 0 else "not reached since start"
        reasons.append(f"mailbox stale: {what} {int(since)}s ago (limit {cfg.mailbox_stale_seconds}s)")
    oldest_age = _gauge("mailgate_outbox_oldest_age_seconds")
    if oldest_age > cfg.outbox_stuck_seconds:
        reasons.append(f"outbox stuck: oldest waiting row is {int(oldest_age)}s old "
                       f"(limit {cfg.outbox_stuck_seconds}s)")
    return HealthStatus(not reasons, reasons)


def parse_listen(listen: str) -> tuple[str, int]:
    """"127.0.0.1:9464", "[::1]:9464" or ":9464" (all interfaces: say so explicitly)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"[metrics] listen: expected HOST:PORT, got {listen!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _HealthHTTPServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        try:
            if path == "/metrics":
                self.server.refresh()
                self._reply(200, generate_latest(metrics.REGISTRY), CONTENT_TYPE_LATEST)
            elif path in ("/healthz", "/health"):
                status = self.server.health()
                self._reply(200 if status.healthy else 503, status.text().encode(), "text/plain; charset=utf-8")
            else:
                self._reply(404, b"not found\n", "text/plain; charset=utf-8")
        except Exception as exc:  # a failing read-out is itself unhealthy, never a crash of the thread
            log.exception("health request failed", extra={"error_type": type(exc).__name__})
            self._reply(503, b"health check failed\n", "text/plain; charset=utf-8")

    def _reply(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        return  # request lines go nowhere: scrapes every 15 s would drown the log


class _HealthHTTPServer(HTTPServer):
    """Serves one request at a time on one thread, which owns `store` (its own connection)."""

    def __init__(self, address: tuple[str, int], config: Config, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.started_at = clock.now().timestamp()
        self._store: Store | None = None
        super().__init__(address, _Handler)  # binds; on failure it calls server_close(), which needs _store

    def _open_store(self) -> Store:
        if self._store is None:
            self._store = Store(self.config.state_path, clock=self.clock)
        return self._store

    def refresh(self) -> None:
        refresh_gauges(self._open_store(), self.clock)

    def health(self) -> HealthStatus:
        # Not the full refresh: the verdict needs no sent/scrub counts (those scan the outbox and audit log).
        refresh_outbox_gauges(self._open_store(), self.clock)
        return evaluate(self.config.metrics, self.clock, self.started_at)

    def server_close(self) -> None:
        super().server_close()
        if self._store is not None:
            self._store.close()
            self._store = None


class HealthServer:
    """A running endpoint. `.address` is the bound (host, port); `.stop()` shuts it down and waits."""

    def __init__(self, httpd: _HealthHTTPServer) -> None:
        self._httpd = httpd
        self.address: tuple[str, int] = httpd.server_address[:2]  # type: ignore[assignment]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="mailgate-health", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._thread.join()
        self._httpd.server_close()


def start_health_server(rt: Runtime, listen: str | None = None) -> HealthServer:
    """Start serving /metrics and /healthz on [metrics] listen (or `listen`, e.g. "127.0.0.1:0" in tests)."""
    host, port = parse_listen(listen or rt.config.metrics.listen)
    httpd = _HealthHTTPServer((host, port), rt.config, rt.clock)
    server = HealthServer(httpd)
    log.info("health server listening", extra={"source": f"http:{server.address[0]}:{server.address[1]}"})
    return server


async def serve_health(service: Service) -> None:
    """The service task: run the endpoint until the service stops."""
    if not service.rt.config.metrics.enabled:
        return
    try:
        server = start_health_server(service.rt)
    except OSError as exc:  # e.g. the port is taken: mail handling goes on; the missing endpoint will be noticed
        log.error("health server cannot listen", extra={"error_type": type(exc).__name__,
                                                        "code": getattr(exc, "errno", None)})
        return
    try:
        await service.stopping.wait()
    finally:
        server.stop()
