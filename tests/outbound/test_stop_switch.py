"""The stop switch holds at send time, under concurrency and across restarts; pausing loses nothing."""

import time

from triage_tui.outbound.claims import begin_send, claim_next
from triage_tui.outbound.dispatcher import dispatch_once
from triage_tui.store.control import set_stop_switch
from triage_tui.store.models import AuditRow, OutboxRow
from triage_tui.store.outbox import count_waiting, get_entry
from tests.outbound.helpers import make_config
from tests.outbound.scenarios import approve_many, deliveries, run_stop_switch


def test_switch_on_sends_nothing_for_ten_minutes_and_resume_sends_each_once(outbound):
    config, gateway, sandbox = outbound
    approve_many(config, sandbox, 5)
    set_stop_switch(True, actor="oncall", reason="incident")
    base = time.time()
    for minute in range(11):
        report = dispatch_once(config, gateway, owner="w1", now=base + 60 * minute)
        assert report.switch_on and report.claimed == 0
    assert sandbox.sent() == [] and count_waiting() == 5
    assert OutboxRow.select().where(OutboxRow.state == "pending").count() == 5
    set_stop_switch(False, actor="oncall")
    assert dispatch_once(config, gateway, owner="w1").sent == 5
    assert sorted(deliveries(sandbox).values()) == [1] * 5 and count_waiting() == 0


def test_switch_flipped_between_claim_and_send_holds_the_entry(outbound):
    config, gateway, sandbox = outbound
    key = approve_many(config, sandbox, 1)[0]
    now = time.time()
    claim, switch_on = claim_next(config, "w1", now)
    assert claim is not None and not switch_on
    set_stop_switch(True, actor="oncall", reason="incident")
    assert begin_send(claim, now, config.outbound.lease_s) == "held"
    entry = get_entry(key)
    assert entry.state == "retry" and count_waiting() == 1 and sandbox.sent() == []
    set_stop_switch(False, actor="oncall")
    assert dispatch_once(config, gateway, owner="w2").sent == 1 and len(sandbox.sent()) == 1


def test_expired_pause_reads_as_off(outbound):
    config, gateway, sandbox = outbound
    approve_many(config, sandbox, 1)
    from datetime import datetime, timedelta, timezone

    set_stop_switch(True, actor="oncall", reason="short", until=datetime.now(timezone.utc) + timedelta(minutes=30))
    assert dispatch_once(config, gateway, owner="w1").switch_on
    assert dispatch_once(config, gateway, owner="w1", now=time.time() + 31 * 60).sent == 1


def test_concurrent_dispatchers_start_nothing_after_the_flip(db, db_url, make_sandbox):
    sandbox = make_sandbox(seed=3, messages=0, faults={"latency_ms": 15})
    config = make_config(db_url, api_uri=sandbox.api_uri, grant_id=sandbox.grant_id, email=sandbox.email,
                         daily_cap_per_grant=100_000)
    run = run_stop_switch(config, sandbox, replies=60, workers=4, seed=11)
    assert run.errors == []
    assert run.started_after_flip == 0
    assert 1 <= run.started_before_flip < 60, "the flip must land while sends are going"
    assert run.delivered_at_flip_plus <= run.started_before_flip
    assert run.delivered_while_paused == 0
    assert run.delivered_total == 60 and run.duplicates == 0
    on = AuditRow.get(AuditRow.action == "stop_switch.on").id
    off = AuditRow.get(AuditRow.action == "stop_switch.off").id
    assert AuditRow.select().where((AuditRow.action == "outbox.send_started") & (AuditRow.id > on)
                                   & (AuditRow.id < off)).count() == 0
    print(run)


def test_console_alert_after_threshold_and_status_summary(db, db_url):
    from triage_tui.outbound.status import outbound_status, stop_switch_alert

    config = make_config(db_url, stop_switch_alert_after_s=1800)
    assert stop_switch_alert(config) == ""
    set_stop_switch(True, actor="oncall", reason="incident")
    assert stop_switch_alert(config) == ""
    alert = stop_switch_alert(config, now=time.time() + 1801)
    assert "paused for 30 min by oncall (incident)" in alert
    status = outbound_status(config)
    assert status["environment"] == "test" and status["stop_switch"]["on"] and status["outbox_waiting"] == 0
