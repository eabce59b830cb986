"""/metrics and /healthz over real HTTP on loopback, driven by a ManualClock (no sleeping)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from servers import free_port

from gateway import metrics
from gateway.clock import ManualClock, iso
from gateway.config import MetricsSection
from gateway.health import HealthServer, parse_listen, record_mailbox_check, start_health_server
from gateway.runtime import Runtime


def _get(server: HealthServer, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(server.url + path, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


@pytest.fixture
def server(runtime: Runtime) -> Iterator[HealthServer]:
    metrics.LAST_MAILBOX_CHECK.set(0)
    handle = start_health_server(runtime, listen="127.0.0.1:0")
    yield handle
    handle.stop()


def _enqueue(rt: Runtime, n: int) -> int:
    oid, _ = rt.store.enqueue(kind="nudge", dedupe_key=f"test:{n}", message_id=f"<t{n}@example.org>",
                              mail_from="escalations@example.org", recipients=["support@vendor.example"],
                              content=b"Subject: x\r\n\r\nbody\r\n")
    return oid


def test_defaults_listen_on_loopback() -> None:
    assert parse_listen(MetricsSection().listen) == ("127.0.0.1", 9464)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    with pytest.raises(ValueError):
        parse_listen("9464")


def test_metrics_exposes_outbox_depth_age_and_overdue_deadlines(server: HealthServer, runtime: Runtime,
                                                                 clock: ManualClock) -> None:
    _enqueue(runtime, 1)
    _enqueue(runtime, 2)
    esc, _ = runtime.store.create_escalation(zendesk_ticket="4821", vendor="idme", state="sent")
    runtime.store.plan_deadline(escalation_id=esc.id, kind="nudge", key="k1", due_at=iso(clock.now()))
    runtime.store.plan_deadline(escalation_id=esc.id, kind="nudge", key="k2",
                                due_at=iso(clock.now() + timedelta(days=3)))
    clock.advance(timedelta(minutes=10))
    code, text = _get(server, "/metrics")
    assert code == 200
    assert _sample(text, "mailgate_outbox_depth") == 2
    assert _sample(text, "mailgate_outbox_oldest_age_seconds") == 600
    assert _sample(text, "mailgate_deadlines_overdue") == 1
    for name in ("mailgate_messages_total", "mailgate_events_total", "mailgate_send_failures_total",
                 "mailgate_scrub_findings_total", "mailgate_imap_reconnects_total",
                 "mailgate_last_mailbox_check_timestamp_seconds"):
        assert f"# TYPE {name.removesuffix('_total')}" in text


def test_healthz_fails_when_the_mailbox_goes_stale_and_recovers(server: HealthServer, runtime: Runtime,
                                                                clock: ManualClock) -> None:
    assert _get(server, "/healthz") == (200, "ok\n")
    limit = runtime.config.metrics.mailbox_stale_seconds
    clock.advance(timedelta(seconds=limit + 1))
    code, text = _get(server, "/healthz")
    assert code == 503 and "mailbox stale: not reached since start" in text
    record_mailbox_check(clock)
    assert _get(server, "/healthz") == (200, "ok\n")
    clock.advance(timedelta(seconds=limit + 30))
    code, text = _get(server, "/healthz")
    assert code == 503 and f"mailbox stale: last reached {limit + 30}s ago" in text


def test_healthz_fails_when_the_outbox_is_stuck(server: HealthServer, runtime: Runtime, clock: ManualClock) -> None:
    oid = _enqueue(runtime, 1)
    limit = runtime.config.metrics.outbox_stuck_seconds
    clock.advance(timedelta(seconds=limit - 60))
    record_mailbox_check(clock)
    assert _get(server, "/healthz")[0] == 200
    clock.advance(timedelta(seconds=120))
    record_mailbox_check(clock)
    code, text = _get(server, "/healthz")
    assert code == 503 and "outbox stuck" in text and "mailbox" not in text
    runtime.store.mark_sent(oid)
    assert _get(server, "/healthz") == (200, "ok\n")


def test_unknown_paths_are_404_and_stop_frees_the_port(runtime: Runtime) -> None:
    handle = start_health_server(runtime, listen="127.0.0.1:0")
    assert _get(handle, "/nope")[0] == 404
    handle.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(handle.url + "/healthz", timeout=2)


def test_sends_failures_and_scrub_findings_are_counted_from_the_store(server: HealthServer,
                                                                      runtime: Runtime) -> None:
    first, second = _enqueue(runtime, 1), _enqueue(runtime, 2)
    store = runtime.store
    store.mark_sending(first)
    store.mark_retry(first, "connection failed: OSError", 30)   # attempt 1 failed
    store.mark_sending(first)
    store.mark_sent(first)                                      # attempt 2 delivered
    store.mark_sending(second)
    store.mark_dead(second, "data refused: SMTP 550")           # attempt 1 failed for good
    for n in (1, 2):
        store.audit(actor="gateway", action="escalation_scrubbed", target=str(n),
                    detail={"categories": {"SSN": 1, "date of birth": n}})
    _, text = _get(server, "/metrics")
    assert 'mailgate_sent_total{kind="nudge"} 1.0' in text
    assert 'mailgate_send_failures_total{kind="nudge"} 2.0' in text
    assert 'mailgate_scrub_findings_total{category="SSN"} 2.0' in text
    assert 'mailgate_scrub_findings_total{category="date of birth"} 3.0' in text


def test_the_service_runs_the_endpoint_as_a_task_until_it_stops(runtime: Runtime) -> None:
    import asyncio

    from gateway import service
    from gateway.health import serve_health
    from gateway.service_setup import register_service_tasks

    register_service_tasks()
    assert {"health", "retention", "zendesk"} <= {name for name, _ in service.EXTRA_TASKS}
    port = free_port()
    runtime.config.metrics.listen = f"127.0.0.1:{port}"

    class FakeService:
        rt = runtime
        stopping = asyncio.Event()

    async def scenario() -> tuple[int, str]:
        task = asyncio.create_task(serve_health(FakeService()))  # type: ignore[arg-type]
        for _ in range(100):
            await asyncio.sleep(0.01)  # yield to the task (not a timing assertion)
            try:
                reply = await asyncio.to_thread(urllib.request.urlopen, f"http://127.0.0.1:{port}/healthz", None, 5)
                break
            except urllib.error.URLError:
                continue
        else:
            raise AssertionError("the health task never listened")
        FakeService.stopping.set()
        await task
        return reply.status, reply.read().decode()

    assert asyncio.run(scenario()) == (200, "ok\n")
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)


@pytest.mark.integration
def test_mailgate_run_serves_metrics_and_health(tmp_path: Path) -> None:
    """The real service process: the endpoint comes up with it, counts what it handles, and goes with it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import ops_mail as m

    from gateway.sources.maildir import deliver_to_maildir

    port = free_port()
    state = tmp_path / "state"
    config = m.config_file(tmp_path, state, f'[metrics]\nlisten = "127.0.0.1:{port}"\n')
    state.mkdir(mode=0o755)
    deliver_to_maildir(state / "Maildir", m.agent_escalation())
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).parents[1])

    def scrape() -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                text = r.read().decode()
        except OSError:
            return None
        done = ('mailgate_messages_total{outcome="processed"} 1.0' in text
                and 'mailgate_sent_total{kind="escalation"} 1.0' in text)
        return text if done else None

    try:
        deadline = time.monotonic() + 60  # a bound on waiting for the process, not a speed assertion
        text = None
        while text is None and time.monotonic() < deadline and proc.poll() is None:
            text = scrape()
            time.sleep(0.1)
        assert text is not None, proc.stderr.read().decode() if proc.poll() is not None else "no scrape"
        assert "mailgate_last_mailbox_check_timestamp_seconds" in text
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert (r.status, r.read()) == (200, b"ok\n")
        assert oct(os.stat(state).st_mode & 0o777) == "0o700"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert m.PATIENT.encode() not in err and m.SSN.encode() not in err  # its log lines carry no PHI
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_a_taken_port_is_logged_and_the_service_goes_on(runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    from gateway.health import serve_health

    taken = start_health_server(runtime, listen="127.0.0.1:0")
    try:
        runtime.config.metrics.listen = f"127.0.0.1:{taken.address[1]}"

        class FakeService:
            rt = runtime
            stopping = asyncio.Event()

        with caplog.at_level("ERROR", logger="mailgate.health"):
            asyncio.run(serve_health(FakeService()))  # type: ignore[arg-type]
        assert [r.msg for r in caplog.records] == ["health server cannot listen"]
    finally:
        taken.stop()
