"""`mailgate run` as systemd runs it: sd_notify READY / WATCHDOG / STOPPING, SIGTERM, and SIGKILL storms."""

from __future__ import annotations

import random
import socket
import threading
import time

import pytest
from harness import assert_escalations_delivered_once, outbox_counts, wait_vendor_mail
from servers import append, escalation_request, wait_until

pytestmark = pytest.mark.integration


def test_sd_notify_ready_watchdog_and_stopping_then_clean_exit_on_sigterm(make_gateway, dovecot, smtp_peer,
                                                                          tmp_path):
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(0.2)
    seen: list[str] = []
    done = threading.Event()

    def listen() -> None:  # plays systemd: reads every notification as it comes
        while not done.is_set():
            try:
                seen.extend(sock.recv(4096).decode().split("\n"))
            except TimeoutError:
                continue

    listener = threading.Thread(target=listen)
    listener.start()
    gw = make_gateway()
    try:
        gw.start(env={"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "400000"})
        wait_until(lambda: "READY=1" in seen and seen.count("WATCHDOG=1") >= 2, 30, "READY and two WATCHDOG pings")
        append(dovecot, [escalation_request(2001)])
        wait_vendor_mail(smtp_peer, 1)
        assert gw.terminate(timeout=15) == 0
        wait_until(lambda: "STOPPING=1" in seen, 5, "STOPPING")
    finally:
        done.set()
        listener.join()
        sock.close()
    assert seen.index("READY=1") < seen.index("STOPPING=1")
    assert_escalations_delivered_once(gw, smtp_peer, 1)


def test_sigkill_at_random_moments_during_a_burst_handles_everything_exactly_once(make_gateway, dovecot,
                                                                                 smtp_peer):
    total, kills, chunk = 200, 22, 10
    rng = random.Random(20261122)
    gw = make_gateway()
    burst = [escalation_request(30000 + i) for i in range(total)]
    gw.start()
    gw.wait_ready()
    for k in range(kills):
        # Mail keeps arriving during the storm, so each kill lands on work in progress: storing, parsing and
        # scrubbing (the first message after a start loads the NLP model), or sending.
        append(dovecot, burst[k * chunk:(k + 1) * chunk])
        time.sleep(rng.uniform(0.05, 2.5))  # the random kill moment
        gw.kill()
        gw.start()
        gw.wait_ready()
    append(dovecot, burst[kills * chunk:])
    wait_vendor_mail(smtp_peer, total, timeout=120)
    wait_until(lambda: outbox_counts(gw).get("escalation:sent") == total and outbox_counts(gw).get("agent_note:sent")
               == total, 60, "every outbox row sent")
    assert gw.terminate() == 0
    assert_escalations_delivered_once(gw, smtp_peer, total)
    with gw.store() as store:
        assert store.count_raw() == total
        assert store.count_raw("processed") == total
        assert len(store.list_escalations()) == total
        verified = [e for e in store.audit_entries() if e["action"] == "outbox:sent_verified"]
        print(f"kills={kills} sends verified in the Sent folder after a kill={len(verified)} "
              f"peer answers={len(smtp_peer.handler.answers)} starts={gw.starts}")
    assert gw.starts == kills + 1
