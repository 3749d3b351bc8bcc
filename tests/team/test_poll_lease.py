"""The poll of a grant runs under a fenced, expiring lease: workers take turns instead of re-listing pages."""

from __future__ import annotations

import threading
import time

import pytest

from tests.ingest.conftest import gateway_for
from triage_tui.ingest.pipeline import Pipeline
from triage_tui.ingest.poller import Poller, default_holder
from triage_tui.store.models import AuditRow, MessageRow, database
from triage_tui.store.watermarks import (
    PollLeaseLost,
    advance_watermark,
    claim_poll_lease,
    read_poll_lease,
    read_watermark,
    release_poll_lease,
    save_sweep,
)

GRANT = "grant-1"


def test_a_live_lease_keeps_others_out_until_it_expires(db):
    now = 1_000.0
    first = claim_poll_lease(GRANT, "w1", lease_s=10, now=now)
    assert first is not None and first.fence == 1
    assert claim_poll_lease(GRANT, "w2", lease_s=10, now=now + 5) is None
    second = claim_poll_lease(GRANT, "w2", lease_s=10, now=now + 11)
    assert second is not None and second.fence == 2 and read_poll_lease(GRANT).holder == "w2"


def test_a_worker_whose_lease_was_taken_over_writes_nothing(db):
    now = time.time()
    stale = claim_poll_lease(GRANT, "w1", lease_s=1, now=now - 5)
    fresh = claim_poll_lease(GRANT, "w2", lease_s=60, now=now)
    assert fresh is not None and fresh.fence == stale.fence + 1
    with pytest.raises(PollLeaseLost):
        save_sweep(GRANT, {"received_after": 1}, lease=stale)
    with pytest.raises(PollLeaseLost):
        advance_watermark(GRANT, 5_000, lease=stale)
    assert read_watermark(GRANT).received_after == 0
    release_poll_lease(stale)  # a no-op: it is not ours any more
    assert read_poll_lease(GRANT).holder == "w2"
    advance_watermark(GRANT, 5_000, lease=fresh)
    assert read_watermark(GRANT).received_after == 5_000


def test_a_lease_held_by_a_dead_process_on_this_host_is_void(db):
    from triage_tui.ingest.poller import holder_is_dead

    dead = default_holder().rsplit(":", 1)[0] + ":999999999"
    assert claim_poll_lease(GRANT, dead, lease_s=600) is not None
    assert claim_poll_lease(GRANT, "w2", lease_s=60) is None
    assert claim_poll_lease(GRANT, "w2", lease_s=60, holder_is_dead=holder_is_dead) is not None
    assert not holder_is_dead(default_holder()) and not holder_is_dead("other-host:1")


def test_long_running_workers_skip_a_grant_another_just_polled(db):
    now = 1_000.0
    lease = claim_poll_lease(GRANT, "w1", lease_s=10, now=now)
    release_poll_lease(lease, next_poll_in_s=15, now=now + 1)
    assert claim_poll_lease(GRANT, "w2", lease_s=10, now=now + 2, respect_schedule=True) is None
    assert claim_poll_lease(GRANT, "w1", lease_s=10, now=now + 2, respect_schedule=True) is not None
    release_poll_lease(read_poll_lease(GRANT), next_poll_in_s=15, now=now + 3)
    assert claim_poll_lease(GRANT, "w2", lease_s=10, now=now + 3) is not None  # `worker --once` polls anyway
    assert claim_poll_lease(GRANT, "w3", lease_s=10, now=now + 12, respect_schedule=True) is None  # w2 holds it


def test_concurrent_pollers_share_one_sweep_instead_of_relisting_pages(db, make_sandbox, ingest_config,
                                                                       rules_classifier):
    sandbox = make_sandbox(messages=120, faults={"latency_ms": 10})
    config = ingest_config(sandbox, page_limit=10, max_pages_per_poll=2, lease_s=30)
    seen, busy, errors = [], [], []
    start = threading.Barrier(3)

    def poller(name: str) -> None:
        try:
            poll = Poller(config, gateway_for(config, sandbox), Pipeline(config, gateway_for(config, sandbox),
                                                                         rules_classifier), holder=name)
            start.wait()
            for _ in range(200):
                result = poll.poll(sandbox.grant_id)
                seen.append(result.report.seen)
                busy.append(result.busy)
                if not result.busy and result.complete:
                    return
                if result.busy:
                    time.sleep(0.01)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            database.close()

    threads = [threading.Thread(target=poller, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert any(busy), "the pollers must have met at the lease"
    assert {r.message_id for r in MessageRow.select()} == set(sandbox.truth())
    assert AuditRow.select().where(AuditRow.action == "ingest.stored").count() == 120
    # each page is listed by one poller (without the lease three pollers list about 3 x 120)
    assert sum(seen) < 2 * 120, sum(seen)


def test_a_running_worker_takes_over_the_poll_of_a_holder_that_died_within_seconds(
        db, make_sandbox, ingest_config, rules_classifier):
    import socket
    import subprocess
    import sys

    from triage_tui.ingest.runner import BackgroundWorker

    sandbox = make_sandbox(messages=5)
    config = ingest_config(sandbox, poll_interval_s=120, lease_s=600)  # neither would come in this test
    holder_process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    holder = f"{socket.gethostname()}:{holder_process.pid}"
    assert claim_poll_lease(sandbox.grant_id, holder, lease_s=600) is not None
    runner = BackgroundWorker(config, gateway=gateway_for(config, sandbox), classifier=rules_classifier)
    runner.start()
    try:
        time.sleep(1.5)  # the worker has found the lease held by a live process
        assert read_poll_lease(sandbox.grant_id).holder == holder and MessageRow.select().count() == 0
        holder_process.kill()
        holder_process.wait(10)
        died = time.monotonic()
        while MessageRow.select().count() < 5 and time.monotonic() - died < 10:
            time.sleep(0.05)
        took = time.monotonic() - died
    finally:
        runner.stop()
        if holder_process.poll() is None:
            holder_process.kill()
    assert MessageRow.select().count() == 5
    assert took < 4, f"took {took:.1f}s to take over (poll_interval_s is 120)"
