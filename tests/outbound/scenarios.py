"""Scenario drivers shared by the tests (small counts) and benchmarks/ (full counts)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from triage_tui.domain import Address, Reply
from triage_tui.nylas.gateway import Gateway
from triage_tui.outbound.approval import approve_reply
from triage_tui.outbound.dispatcher import dispatch_once
from triage_tui.store.control import set_stop_switch
from triage_tui.store.db import connection
from triage_tui.store.models import AuditRow, OutboxRow
from tests.outbound.helpers import deliver_and_store


def approve_many(config, sandbox, count: int, prefix: str = "case") -> list[str]:
    """`count` inbound messages in the sandbox and the store, each with an approved reply."""
    keys = []
    for i in range(count):
        sender = f"{prefix.replace(' ', '-')}-{i}@client{i % 50}.example"
        mid = deliver_and_store(sandbox, subject=f"{prefix} {i}", sender=sender)
        reply = Reply(grant_id=sandbox.grant_id, reply_to_message_id=mid, to=[Address(email=sender)],
                      subject=f"Re: {prefix} {i}", body=f"answer {i}")
        keys.append(approve_reply(reply, actor="dana", config=config, message_id=mid,
                                  grant_id=sandbox.grant_id).command_result_id)
    return keys


def deliveries(sandbox) -> dict[str, int]:
    """How many times each subject reached the Sent folder."""
    counts: dict[str, int] = {}
    for message in sandbox.sent():
        counts[message["subject"]] = counts.get(message["subject"], 0) + 1
    return counts


@dataclass
class StopSwitchRun:
    """The figures of one stop-switch run."""

    replies: int
    workers: int
    started_before_flip: int = 0
    started_after_flip: int = 0
    delivered_at_flip_plus: int = 0
    delivered_while_paused: int = 0
    delivered_total: int = 0
    duplicates: int = 0
    flip_after_s: float = 0.0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def default_gateway(config, sandbox):
    """The real gateway over HTTP to the sandbox."""
    return Gateway(config.nylas, sandbox.api_key)


def _worker(config, sandbox, name: str, stop: threading.Event, errors: list[str], now=None,
            gateway_factory=default_gateway, dispatch=dispatch_once) -> None:
    gateway = gateway_factory(config, sandbox)
    with connection():
        while not stop.is_set():
            try:
                report = dispatch(config, gateway, owner=name, now=now, max_entries=5)
            except Exception as exc:  # noqa: BLE001 - a crash is a figure, not a hang
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
                return
            errors.extend(report.errors)
            if report.claimed == 0:
                time.sleep(0.01)


def run_stop_switch(config, sandbox, replies: int, workers: int = 4, seed: int = 0,
                    paused_minutes: int = 10, gateway_factory=default_gateway, dispatch=dispatch_once,
                    on_flip=None, progress=None) -> StopSwitchRun:
    """Approve, dispatch with `workers` threads, flip the switch at a random moment, then check."""
    rng = random.Random(seed)
    run = StopSwitchRun(replies=replies, workers=workers)
    approve_many(config, sandbox, replies)
    started = time.monotonic()
    stop = threading.Event()
    threads = [threading.Thread(target=_worker, args=(config, sandbox, f"w{i}", stop, run.errors),
                                kwargs={"gateway_factory": gateway_factory, "dispatch": dispatch})
               for i in range(workers)]
    for thread in threads:
        thread.start()
    # a random moment, measured in progress: after a random number of sends have started
    target = rng.randint(1, max(1, replies // 2))
    deadline = time.monotonic() + 30
    progress = progress or (lambda: AuditRow.select().where(AuditRow.action == "outbox.send_started").count())
    while time.monotonic() < deadline and progress() < target:
        time.sleep(0.002)
    run.flip_after_s = time.monotonic() - started
    set_stop_switch(True, actor="oncall", reason="incident drill")
    if on_flip is not None:
        on_flip()
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join()
    flip_id = AuditRow.select(AuditRow.id).where(AuditRow.action == "stop_switch.on").scalar()
    starts = AuditRow.select().where(AuditRow.action == "outbox.send_started")
    run.started_before_flip = starts.where(AuditRow.id < flip_id).count()
    run.started_after_flip = starts.where(AuditRow.id > flip_id).count()
    run.delivered_at_flip_plus = sum(deliveries(sandbox).values())
    # "restart": fresh workers with the switch still on, for paused_minutes of simulated time
    base = time.time()
    gateways = [Gateway(config.nylas, sandbox.api_key) for _ in range(workers)]
    for minute in range(paused_minutes + 1):
        for i, gateway in enumerate(gateways):
            dispatch_once(config, gateway, owner=f"r{i}", now=base + 60 * minute)
    run.delivered_while_paused = sum(deliveries(sandbox).values()) - run.delivered_at_flip_plus
    set_stop_switch(False, actor="oncall")
    stop = threading.Event()
    threads = [threading.Thread(target=_worker, args=(config, sandbox, f"after{i}", stop, run.errors,
                                                       base + 60 * (paused_minutes + 1) + 2 * config.outbound.lease_s))
               for i in range(workers)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60 + replies * 0.2
    while time.monotonic() < deadline:
        if OutboxRow.select().where(OutboxRow.state != "sent").count() == 0:
            break
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join()
    counts = deliveries(sandbox)
    run.delivered_total = sum(counts.values())
    run.duplicates = sum(n - 1 for n in counts.values() if n > 1)
    run.seconds = time.monotonic() - started
    return run


@dataclass
class CrashRun:
    """The figures of one crash-point campaign."""

    point: str
    runs: int
    replies: int
    kills: int = 0
    lost: int = 0
    delivered: int = 0
    duplicates: int = 0
    provider_sends: int = 0
    seconds: float = 0.0


def run_dispatcher_process(config_path: str, api_key: str, *, fault: str = "", keyless: bool = False,
                           owner: str = "p", clock_offset_s: float = 0.0, timeout: float = 60) -> int:
    """One dispatcher subprocess pass; returns its exit code (-9 when the fault point killed it)."""
    env = {**os.environ, "TRIAGE_TUI_FAULT": fault, "NYLAS_API_KEY": api_key,
           "PYTHONPATH": os.getcwd(), "TRIAGE_TUI_TEST_KEYLESS": "1" if keyless else ""}
    result = subprocess.run(
        [sys.executable, "-m", "tests.outbound.crash_worker", config_path, owner, str(clock_offset_s)],
        env=env, timeout=timeout, capture_output=True, text=True,
    )
    if result.returncode not in (0, -9):
        raise RuntimeError(f"dispatcher process failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.returncode


def write_config(path, config) -> str:
    """The config as a TOML file a dispatcher subprocess can load."""
    inbox = config.inboxes[0]
    path.write_text(
        f'tenant_id = "{config.tenant_id}"\nenvironment = "{config.environment}"\n'
        f'[nylas]\napi_uri = "{config.nylas.api_uri}"\nmax_requests_per_s = 10000.0\nmax_backoff_s = 1.0\n'
        f'[[inboxes]]\ngrant_id = "{inbox.grant_id}"\nemail = "{inbox.email}"\n'
        f'[database]\nurl = "{config.database.url}"\n'
        f'[outbound]\ndaily_cap_per_grant = {config.outbound.daily_cap_per_grant}\n'
        f'per_recipient_per_hour = {config.outbound.per_recipient_per_hour}\n'
        f'lease_s = {config.outbound.lease_s}\n',
        encoding="utf-8",
    )
    return str(path)


def run_crash_point(config, sandbox, config_path: str, point: str, *, runs: int, replies: int,
                    probability: float = 0.5, keyless: bool = False, max_restarts: int = 40) -> CrashRun:
    """SIGKILL dispatcher processes at a named point until every reply is out; count Sent."""
    result = CrashRun(point=point + (" (no key)" if keyless else ""), runs=runs, replies=runs * replies)
    started = time.monotonic()
    calls_before = _send_calls(sandbox)
    for run in range(runs):
        prefix = f"{point}{'-nokey' if keyless else ''} r{run}"
        keys = approve_many(config, sandbox, replies, prefix=prefix)
        offset = 0.0
        for restart in range(max_restarts):
            # the first process of a run always dies at the point; restarts die with `probability`
            chance = 1.0 if restart == 0 else probability
            code = run_dispatcher_process(config_path, sandbox.api_key, fault=f"{point}:{chance}",
                                          keyless=keyless, owner=f"{prefix}-{restart}", clock_offset_s=offset)
            result.kills += code == -9
            offset += config.outbound.lease_s + 1
            if OutboxRow.select().where(OutboxRow.command_result_id.in_(keys)
                                        & (OutboxRow.state != "sent")).count() == 0:
                break
        result.lost += OutboxRow.select().where(OutboxRow.command_result_id.in_(keys)
                                                & (OutboxRow.state != "sent")).count()
        counts = {k: v for k, v in deliveries(sandbox).items() if k.startswith(f"Re: {prefix} ")}
        result.lost += sum(1 for i in range(replies) if f"Re: {prefix} {i}" not in counts)
        result.delivered += sum(counts.values())
        result.duplicates += sum(n - 1 for n in counts.values() if n > 1)
    result.provider_sends = _send_calls(sandbox) - calls_before
    result.seconds = time.monotonic() - started
    return result


def _send_calls(sandbox) -> int:
    """Send requests the sandbox served (deliveries plus idempotent replays)."""
    return sum(n for route, n in sandbox.stats()["requests"].items() if "send" in route)
