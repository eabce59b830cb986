"""`mailgate run`: the asyncio service. Long-lived tasks: mailbox watcher, outbox sender, scheduler, systemd
watchdog, plus whatever other parts register (metrics / health) with `register_task`.

Threads and the store: SQLite connections are not shared between threads that work at the same time, so the
pipeline work (ingest, process_pending, run_due) runs in ONE dedicated worker thread with the runtime's
store, and the outbox sender runs on the event loop with a second connection to the same database (WAL:
one writer at a time, readers never block). The event loop itself never waits on the mailbox or on parsing,
so signals, the watchdog and health checks stay responsive during a long catch-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar, runtime_checkable

from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_never,
    wait_exponential_jitter,
)

from gateway import metrics, pipeline
from gateway.outbox_sender import OutboxSender
from gateway.runtime import Runtime
from gateway.sdnotify import Notifier
from gateway.sources import MessageSource
from gateway.store import Store
from gateway.transport import Transport
from gateway.zendesk.worker import drain as zendesk_drain

log = logging.getLogger("mailgate.service")

T = TypeVar("T")
TaskFactory = Callable[["Service"], Coroutine[Any, Any, None]]
EXTRA_TASKS: list[tuple[str, TaskFactory]] = []

POLL_SECONDS_WITHOUT_WAIT = 2.0   # sources that cannot wait for mail (Maildir) are looked at this often
OUTBOX_IDLE_SECONDS = 1.0         # the sender looks for retries that came due at least this often
SHUTDOWN_GRACE_SECONDS = 30.0
QUICK_FAILURE_SECONDS = 2.0
ONCE_CONNECT_ATTEMPTS = 3         # --once gives up on an unreachable mailbox after this many tries


def register_task(name: str, factory: TaskFactory) -> None:
    """Add a long-lived task to every service started afterwards (e.g. the metrics/health server).
    `factory(service)` should run until `service.stopping` is set and then return."""
    EXTRA_TASKS.append((name, factory))


@runtime_checkable
class WatchableSource(Protocol):
    """A source with a connection that can wait for new mail (IMAP). See gateway.sources.imap."""

    def connect(self) -> None: ...
    def close(self) -> None: ...
    def wait_for_mail(self, stop: threading.Event) -> None: ...


class Service:
    def __init__(self, rt: Runtime, source: MessageSource, transport: Transport, *, once: bool = False,
                 dry_run: bool = False, scheduler_seconds: float = 30.0, notifier: Notifier | None = None) -> None:
        self.rt = rt
        self.source = source
        self.transport = transport
        self.once = once
        self.scheduler_seconds = scheduler_seconds
        self.notifier = notifier or Notifier()
        self.stopping = asyncio.Event()
        self.halt = threading.Event()          # the same request, for the worker threads
        if hasattr(source, "stop"):
            source.stop = self.halt             # lets a long fetch end after the message in hand
        self._outbox_wakeup = asyncio.Event()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailgate-pipeline")
        self._sender_store = Store(rt.config.state_path, clock=rt.clock)
        self.sender = OutboxSender(self._sender_store, transport, rt.config, rt.key, dry_run=dry_run)

    # -- plumbing --------------------------------------------------------------------------------------------
    async def in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """Run pipeline work on the one thread that owns the runtime's store connection."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, fn, *args)

    def request_stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stopping")
            self.notifier.stopping()
        self.stopping.set()
        self.halt.set()
        self._outbox_wakeup.set()

    async def pause(self, seconds: float) -> None:
        """Sleep that ends early when the service is asked to stop (for registered tasks too)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    def _pipeline_pass(self) -> int:
        stored = pipeline.ingest(self.rt, self.source)
        pipeline.process_pending(self.rt)
        return stored

    async def mailbox_pass(self) -> int:
        stored = await self.in_worker(self._pipeline_pass)
        metrics.LAST_MAILBOX_CHECK.set(time.time())
        self._outbox_wakeup.set()
        return stored

    # -- tasks -----------------------------------------------------------------------------------------------
    async def watch_mailbox(self) -> None:
        if not isinstance(self.source, WatchableSource):
            while not self.stopping.is_set():
                await self._guarded("mailbox", self.mailbox_pass)
                await self.pause(POLL_SECONDS_WITHOUT_WAIT)
            return
        source = self.source
        while not self.stopping.is_set():
            began = time.monotonic()
            try:
                if not await self._connect(source):
                    return
                while not self.stopping.is_set():
                    await self.mailbox_pass()
                    await asyncio.to_thread(source.wait_for_mail, self.halt)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                metrics.IMAP_RECONNECTS.inc()
                log.warning("mailbox connection lost; reconnecting", extra={"error_type": type(exc).__name__})
                if time.monotonic() - began < QUICK_FAILURE_SECONDS:
                    await self.pause(1.0)  # a server that accepts and drops at once must not make us spin
            finally:
                await asyncio.to_thread(source.close)

    async def _connect(self, source: WatchableSource, attempts: int | None = None) -> bool:
        """Connect with tenacity backoff (forever, or `attempts` times, then raise). False when asked to stop
        before a connection was made."""
        retrying = AsyncRetrying(wait=wait_exponential_jitter(initial=0.5, max=60, jitter=0.5),
                                 stop=stop_after_attempt(attempts) if attempts else stop_never,
                                 retry=retry_if_exception_type(Exception), reraise=True,
                                 before_sleep=lambda state: log.warning(
                                     "mailbox connect failed; retrying",
                                     extra={"attempts": state.attempt_number,
                                            "error_type": type(state.outcome.exception()).__name__
                                            if state.outcome else ""}))
        async for attempt in retrying:
            with attempt:
                if self.stopping.is_set():
                    return False
                await asyncio.to_thread(source.connect)
        return True

    async def send_outbox(self) -> None:
        while not self.stopping.is_set():
            self._outbox_wakeup.clear()
            await self._guarded("outbox", self.drain_outbox)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox_wakeup.wait(), timeout=OUTBOX_IDLE_SECONDS)

    async def drain_outbox(self) -> int:
        # The outbox gauges are the health server's to refresh, on each scrape (gateway.health.refresh_gauges).
        return await self.sender.drain(stop=self.stopping.is_set)

    async def schedule(self) -> None:
        while not self.stopping.is_set():
            fired = await self._guarded("scheduler", lambda: self.in_worker(pipeline.run_due, self.rt))
            if fired:
                self._outbox_wakeup.set()
            await self.pause(self.scheduler_seconds)

    async def watchdog(self) -> None:
        interval = self.notifier.watchdog_interval
        if interval is None:
            return
        while not self.stopping.is_set():
            self.notifier.watchdog()
            await self.pause(interval)

    async def _guarded(self, component: str, step: Callable[[], Awaitable[T]]) -> T | None:
        """The catch-all at the loop: one failure is logged and retried later, never fatal."""
        try:
            return await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("task step failed", extra={"component": component, "error_type": type(exc).__name__})
            await self.pause(1.0)
            return None

    # -- life cycle ------------------------------------------------------------------------------------------
    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        try:
            if self.once:
                return await self.run_once()
            tasks = [asyncio.create_task(coro, name=name) for name, coro in self._task_coroutines()]
            self.notifier.ready("running")
            log.info("service ready", extra={"count": len(tasks)})
            await self.stopping.wait()
            await self._finish(tasks)
            return 0
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await self._close()

    def _task_coroutines(self) -> list[tuple[str, Coroutine[Any, Any, None]]]:
        coros: list[tuple[str, Coroutine[Any, Any, None]]] = [
            ("mailbox", self.watch_mailbox()), ("outbox", self.send_outbox()), ("scheduler", self.schedule()),
            ("watchdog", self.watchdog())]
        coros += [(name, factory(self)) for name, factory in EXTRA_TASKS]
        return coros

    async def run_once(self) -> int:
        """Handle what is waiting, fire due clocks, send what is due, and return 0; 1 when the mailbox could
        not be reached (the clocks and the outbox are still handled)."""
        code = 0
        try:
            if isinstance(self.source, WatchableSource):
                await self._connect(self.source, attempts=ONCE_CONNECT_ATTEMPTS)
            await self.mailbox_pass()
        except Exception as exc:
            log.error("mailbox unreachable", extra={"error_type": type(exc).__name__})
            code = 1
        finally:
            if isinstance(self.source, WatchableSource):
                await asyncio.to_thread(self.source.close)
        await self.in_worker(pipeline.run_due, self.rt)
        await self.drain_outbox()
        await zendesk_drain(self.rt)  # nothing else uses the store now, so the runtime's connection will do
        return code

    async def _finish(self, tasks: list[asyncio.Task[None]]) -> None:
        """Let each task finish what it holds (the message in hand, the send in flight), then cancel."""
        done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
        for task in pending:
            log.warning("task did not stop in time; cancelling", extra={"component": task.get_name()})
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error("task ended with an error", extra={"component": task.get_name(),
                                                             "error_type": type(task.exception()).__name__})

    async def _close(self) -> None:
        await self.transport.close()
        self._worker.shutdown(wait=True)
        self._sender_store.close()
