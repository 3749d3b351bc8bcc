"""The team drill: every process of a team install under signed traffic, while operators run runbook
commands every second, a worker is SIGKILLed and the database is restarted (or its disk fills up).

Used with small counts by tests/team/test_drill.py and with full counts by benchmarks/team_drill.py.
Every process is a real `triage-tui` process (consoles are driven by Pilot in their own processes);
the sandbox is a child process reached over HTTP only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import httpx

from benchmarks._support import free_port, wait_port
from tests.team.drill_report import BACK_AGAIN, CliCall, DrillResult

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "drill-key"
GRANT = "drill-grant-0001"
EMAIL = "support@drill.nylas.email"


@dataclass
class DrillPlan:
    """What runs and for how long."""

    db_url: str
    workdir: Path
    seconds: float = 30.0
    ingest_workers: int = 3
    send_workers: int = 2
    consoles: int = 2
    webhook: bool = True
    seeded: int = 30
    mail_per_s: float = 2.0
    cli_every_s: float = 1.0
    operators: int = 1  # runbook loops per command (status, pause, resume), side by side
    kill_worker_at: float | None = 0.35  # share of the run; SIGKILL the first ingest worker
    restart_db: Callable[[], tuple[float, float]] | None = None  # pg_ctl restart
    restart_at: float = 0.6
    fill_disk: Callable[[], None] | None = None  # fill the database's file system...
    free_disk: Callable[[], None] | None = None  # ...and free it again
    disk_full_at: tuple[float, float] = (0.4, 0.7)
    settle_s: float = 90.0


class Drill:
    """Starts every process, drives traffic and the runbook loop, and collects what happened."""

    def __init__(self, plan: DrillPlan) -> None:
        self.plan = plan
        self.workdir = plan.workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.served: list[str] = []
        self.result = DrillResult()
        self._stop = threading.Event()
        self.sandbox_port = free_port()
        self.api_uri = f"http://127.0.0.1:{self.sandbox_port}"
        self.webhook_port = free_port()
        self.config = self.workdir / "config.toml"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "NYLAS_API_KEY": API_KEY}
        self.env.pop("TRIAGE_TUI_CONFIG", None)

    # ----- processes --------------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str], **env: str) -> subprocess.Popen:
        log = self.workdir / f"{name}.log"
        self.logs[name] = log
        handle = open(log, "ab")
        process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**self.env, **env},
                                   stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        self.processes[name] = process
        return process

    def _cli(self, *args: str) -> list[str]:
        return ["-m", "triage_tui.cli", "--config", str(self.config), *args]

    def write_config(self) -> None:
        """One config for every process, as the README says."""
        self.config.write_text(f"""
tenant_id = "drill"
environment = "test"
[nylas]
api_uri = "{self.api_uri}"
max_requests_per_s = 200
[[inboxes]]
grant_id = "{GRANT}"
email = "{EMAIL}"
name = "Drill support"
workspace_id = "ws-drill"
policy_id = "pol-drill"
[database]
url = "{self.plan.db_url}"
retry_for_s = 30
[worker]
poll_interval_s = 3.0
lease_s = 10
[webhook]
port = {self.webhook_port}
[classifier]
chain = ["rules"]
[outbound]
daily_cap_per_grant = 100000
per_recipient_per_hour = 100000
per_thread_per_hour = 100000
lease_s = 15
""")

    def start(self) -> None:
        """Sandbox, schema, webhook receiver (registered with the sandbox), workers and consoles."""
        self.write_config()
        self._spawn("sandbox", ["-m", "triage_tui.cli", "sandbox", "--port", str(self.sandbox_port),
                                "--api-key", API_KEY, "--grant-id", GRANT, "--email", EMAIL,
                                "--messages", str(self.plan.seeded), "--seed", "11"])
        wait_port(self.sandbox_port, 120)
        self.http = httpx.Client(base_url=self.api_uri, trust_env=False, timeout=60,
                                 headers={"Authorization": f"Bearer {API_KEY}"})
        migrate = subprocess.run([sys.executable, *self._cli("migrate")], cwd=ROOT, env=self.env,
                                 capture_output=True, text=True, timeout=120)
        assert migrate.returncode == 0, migrate.stderr
        if self.plan.webhook:
            self._start_webhook()
        for index in range(self.plan.ingest_workers):
            self._spawn(f"worker-ingest-{index}", self._cli("worker", "--role",
                                                              "all" if self.plan.send_workers == 0 else "ingest"))
        for index in range(self.plan.send_workers):
            self._spawn(f"worker-send-{index}", self._cli("worker", "--role", "send"))
        for index in range(self.plan.consoles):
            self._spawn(f"console-{index}", ["-m", "tests.team.drill_console", str(self.config), f"op{index}",
                                             str(self.plan.seconds), str(self.workdir / f"console-{index}.json"),
                                             str(index)])

    def _start_webhook(self) -> None:
        # the secret comes from the sandbox when the destination is created, after the challenge
        self._spawn("webhook", self._cli("webhook", "--port", str(self.webhook_port)),
                    NYLAS_WEBHOOK_SECRET="not-yet")
        wait_port(self.webhook_port)
        created = self.http.post("/v3/webhooks", json={
            "trigger_types": ["message.created"], "description": "drill",
            "webhook_url": f"http://127.0.0.1:{self.webhook_port}/webhooks/nylas"})
        created.raise_for_status()
        secret = created.json()["data"]["webhook_secret"]
        self._terminate("webhook")
        self._spawn("webhook", self._cli("webhook", "--port", str(self.webhook_port)),
                    NYLAS_WEBHOOK_SECRET=secret)
        wait_port(self.webhook_port)

    def _terminate(self, name: str, timeout: float = 20) -> None:
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    # ----- load -------------------------------------------------------------------------------

    def _traffic(self) -> None:
        index = 0
        while not self._stop.wait(1.0 / self.plan.mail_per_s):
            index += 1
            body = {"grant_id": GRANT, "from": {"name": f"Customer {index}",
                                                "email": f"c{index}@customer{index % 40}.example"},
                    "to": [EMAIL], "subject": f"Drill {index}: cannot log in to my account",
                    "body": f"Hello,\n\nI cannot log in since this morning (case {index}).\n"}
            try:
                response = self.http.post("/admin/inbound", json=body)
                response.raise_for_status()
                self.served.append(response.json()["data"]["id"])
            except httpx.HTTPError as exc:
                self.result.process_errors.append(f"traffic: {exc}")

    def _call(self, *command: str) -> CliCall:
        started = time.time()
        try:
            done = subprocess.run([sys.executable, *self._cli(*command)], cwd=ROOT, env=self.env,
                                  capture_output=True, text=True, timeout=120)
            code, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as exc:
            code, out, err = -1, "", f"timed out: {exc}"
        return CliCall(command[0], started, time.time() - started, code, out, err)

    def _runbook(self, *command: str) -> None:
        """One operator's loop: this command every `cli_every_s` (three loops run side by side)."""
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.result.cli.append(self._call(*command))
            next_at = max(next_at + self.plan.cli_every_s, time.monotonic())
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def run(self) -> DrillResult:
        """The whole drill; always stops every process."""
        try:
            self.start()
            self._wait_ready()
            self._drive()
            self._settle()
            self._collect()
        finally:
            self.stop()
        return self.result

    def _wait_ready(self, timeout: float = 120.0) -> None:
        """Faults start once the workers are up: the first seeded message is stored."""
        from triage_tui.store.models import MessageRow
        from triage_tui.store.transient import retrying

        self._open_store()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not retrying(lambda: MessageRow.select().exists()):
            time.sleep(0.2)

    def _drive(self) -> None:
        threads = [threading.Thread(target=self._traffic, daemon=True)] + [
            threading.Thread(target=self._runbook, args=command, daemon=True)
            for command in [("status",), ("pause", "--reason", "drill"), ("resume",)]
            for _ in range(self.plan.operators)]
        for thread in threads:
            thread.start()
        plan, began = self.plan, time.monotonic()
        events = []
        if plan.kill_worker_at is not None and plan.ingest_workers:
            events.append((plan.kill_worker_at, self._kill_one))
        if plan.restart_db is not None:
            events.append((plan.restart_at, self._restart))
        if plan.fill_disk is not None:
            events.append((plan.disk_full_at[0], self._fill))
            events.append((plan.disk_full_at[1], self._free))
        for share, action in sorted(events, key=lambda e: e[0]):
            delay = began + share * plan.seconds - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            action()
        time.sleep(max(0.0, began + plan.seconds - time.monotonic()))
        self._stop.set()
        for thread in threads:
            thread.join(180)

    def _kill_one(self) -> None:
        name = "worker-ingest-0"
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(10)
        self.result.killed = name

    def _restart(self) -> None:
        self.result.restart_window = self.plan.restart_db()

    def _fill(self) -> None:
        started = time.time()
        self.plan.fill_disk()
        self.result.disk_full_window = (started, started)
        # an operator pauses while the disk is full: whatever the loops' timing, this call meets it
        call = self._call("pause", "--reason", "disk full drill")
        self.result.cli.append(call)
        self.result.disk_full_pause = call

    def _free(self) -> None:
        self.plan.free_disk()
        started = self.result.disk_full_window[0] if self.result.disk_full_window else time.time()
        self.result.disk_full_window = (started, time.time())

    def _settle(self) -> None:
        """After the load: the switch off, every served message stored and every approval sent."""
        from triage_tui.store.control import set_stop_switch

        deadline = time.monotonic() + self.plan.settle_s
        self._open_store()
        set_stop_switch(False, actor="drill")
        for name in [n for n in self.processes if n.startswith("console-")]:
            try:
                self.processes[name].wait(max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.result.process_errors.append(f"{name} did not finish")
        while time.monotonic() < deadline:
            if self._stored_count() == len(set(self.served) | set(self._seeded())) and not self._waiting():
                break
            time.sleep(0.5)

    def _open_store(self) -> None:
        from triage_tui.store.db import open_url
        from triage_tui.store.models import database

        if database.obj is not None:
            if getattr(database.obj, "triage_url", "") == self.plan.db_url:
                return
            try:
                database.close()  # a store of an earlier drill in this process
            except Exception:  # noqa: BLE001 - its server may be gone already
                pass
        open_url(self.plan.db_url, retry_for_s=30)

    def _seeded(self) -> list[str]:
        if not hasattr(self, "_seeded_ids"):
            listed, token = [], None
            while True:
                params = {"limit": 200, "in": "INBOX", **({"page_token": token} if token else {})}
                body = self.http.get(f"/v3/grants/{GRANT}/messages", params=params).json()
                listed += [m["id"] for m in body["data"]]
                token = body.get("next_cursor")
                if not token:
                    break
            self._seeded_ids = [m for m in listed if m not in set(self.served)]
        return self._seeded_ids

    def _stored_count(self) -> int:
        from triage_tui.store.models import MessageRow
        from triage_tui.store.transient import retrying

        wanted = list(set(self.served) | set(self._seeded()))
        return retrying(lambda: MessageRow.select().where(MessageRow.message_id.in_(wanted)).count())

    def _waiting(self) -> int:
        from triage_tui.store.outbox import count_waiting
        from triage_tui.store.transient import retrying

        return retrying(count_waiting)

    def _collect(self) -> None:
        from peewee import fn

        from triage_tui.store.models import AuditRow, MessageRow, OutboxRow

        result = self.result
        wanted = set(self.served) | set(self._seeded())
        result.served = len(wanted)
        counts = Counter(r.message_id for r in MessageRow.select(MessageRow.message_id)
                         .where(MessageRow.message_id.in_(list(wanted))))
        result.stored_once = sum(1 for n in counts.values() if n == 1)
        result.approved = OutboxRow.select().count()
        result.outbox_states = dict(OutboxRow.select(OutboxRow.state, fn.COUNT(OutboxRow.id))
                                    .group_by(OutboxRow.state).tuples())
        keys = Counter(self._sent_keys())
        approved_keys = {r.command_result_id for r in OutboxRow.select(OutboxRow.command_result_id)}
        result.sent_once = sum(1 for k in approved_keys if keys.get(k) == 1)
        result.sent_twice_or_more = sum(1 for k in approved_keys if keys.get(k, 0) > 1)
        flips = list(AuditRow.select(AuditRow.id, AuditRow.action)
                     .where(AuditRow.action.in_(["stop_switch.on", "stop_switch.off"])).order_by(AuditRow.id))
        started = [r.id for r in AuditRow.select(AuditRow.id).where(AuditRow.action == "outbox.send_started")]
        windows, opened = [], None
        for row in flips:
            if row.action == "stop_switch.on" and opened is None:
                opened = row.id
            elif row.action == "stop_switch.off" and opened is not None:
                windows.append((opened, row.id))
                opened = None
        if opened is not None:
            windows.append((opened, 2**62))
        result.pauses = len(windows)
        result.sends_started_while_paused = sum(1 for s in started if any(a < s < b for a, b in windows))
        self._reconnects()

    def _sent_keys(self) -> list[str]:
        keys, token = [], None
        while True:
            params = {"limit": 200, "in": "SENT", "fields": "include_headers",
                      **({"page_token": token} if token else {})}
            body = self.http.get(f"/v3/grants/{GRANT}/messages", params=params).json()
            for message in body["data"]:
                for header in message.get("headers") or []:
                    if header.get("name", "").lower() == "x-triage-reply-key":
                        keys.append(header.get("value", ""))
            token = body.get("next_cursor")
            if not token:
                return keys

    def _reconnects(self) -> None:
        if self.result.restart_window is None and self.result.disk_full_window is None:
            return
        for name, log in self.logs.items():
            if name == "sandbox" or not log.exists():
                continue
            found = BACK_AGAIN.findall(log.read_text(errors="replace"))
            if name == self.result.killed:
                continue
            extra = ""
            if name.startswith("console-"):
                report = self.workdir / f"{name}.json"
                if report.exists():
                    data = json.loads(report.read_text())
                    found = [f"{s:.2f}" for s in data.get("recoveries", [])]
                    self.result.console_errors += data.get("errors", [])
                    feed = data.get("feed_reconnects", [])
                    extra = f"; change feed back after {', '.join(f'{s:.2f}s' for s in feed)}" if feed else ""
            self.result.reconnect_s[name] = (", ".join(f"{float(s):.2f}s" for s in found)
                                             if found else "no query failed during the outage"
                                             ) + extra
        if self.result.restart_window:
            down, up = self.result.restart_window
            after = [c for c in self.result.cli if c.started >= down and c.code == 0]
            self.result.reconnect_s["runbook commands"] = (
                f"first success {after[0].started + after[0].seconds - up:+.2f}s after the server was back"
                if after else "none succeeded after the restart")

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL)."""
        self._stop.set()
        for name, process in self.processes.items():
            if process.poll() not in (None, 0) and name != self.result.killed:
                self.result.process_errors.append(f"{name} exited early with code {process.returncode}")
        for name in list(self.processes):
            self._terminate(name, timeout=15)
        for name, log in self.logs.items():
            if name.startswith(("worker", "webhook")) and log.exists():
                text = log.read_text(errors="replace")
                if "Traceback" in text:
                    self.result.process_errors.append(f"{name} printed a traceback: "
                                                      f"{text[text.index('Traceback'):][:600]}")
