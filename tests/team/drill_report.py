"""What a team drill measured: the runbook calls and the figures the issue asks for."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

BACK_AGAIN = re.compile(r"answers again after ([0-9.]+)s")


@dataclass
class CliCall:
    """One runbook command and how it ended."""

    command: str
    started: float
    seconds: float
    code: int
    stdout: str
    stderr: str

    @property
    def clean(self) -> bool:
        """Succeeded, or said what failed in one line with a non-zero exit (never a traceback)."""
        if self.code == 0:
            return "Traceback" not in self.stderr
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return len(lines) == 1 and lines[0].startswith("triage-tui: ")


@dataclass
class DrillResult:
    """The figures the issue asks for."""

    served: int = 0
    stored_once: int = 0
    approved: int = 0
    sent_once: int = 0
    sent_twice_or_more: int = 0
    sends_started_while_paused: int = 0
    pauses: int = 0
    cli: list[CliCall] = field(default_factory=list)
    reconnect_s: dict[str, str] = field(default_factory=dict)
    restart_window: tuple[float, float] | None = None
    disk_full_window: tuple[float, float] | None = None
    disk_full_pause: CliCall | None = None
    killed: str = ""
    outbox_states: dict[str, int] = field(default_factory=dict)
    console_errors: list[str] = field(default_factory=list)
    process_errors: list[str] = field(default_factory=list)

    @property
    def cli_failures(self) -> list[CliCall]:
        """Calls that exited non-zero."""
        return [c for c in self.cli if c.code != 0]

    @property
    def cli_unclean(self) -> list[CliCall]:
        """Calls that printed a traceback or more than one line on failure."""
        return [c for c in self.cli if not c.clean]

    @property
    def deadlock_failures(self) -> int:
        """Failed calls that blamed a deadlock."""
        return sum("deadlock" in c.stderr.lower() for c in self.cli_failures)

    def lines(self) -> list[str]:
        """The report, one figure a line."""
        per_command = Counter(c.command for c in self.cli)
        failed = Counter(c.command for c in self.cli_failures)
        out = [
            f"messages stored once / served      {self.stored_once} / {self.served}",
            f"replies sent once / approved       {self.sent_once} / {self.approved}"
            f"  (sent more than once: {self.sent_twice_or_more})",
            f"sends started while paused         {self.sends_started_while_paused} (in {self.pauses} pauses)",
            f"CLI calls                          {len(self.cli)} ("
            + ", ".join(f"{k} {v}" for k, v in sorted(per_command.items())) + ")",
            f"CLI failures                       {len(self.cli_failures)} ("
            + (", ".join(f"{k} {v}" for k, v in sorted(failed.items())) or "none")
            + f"); deadlock failures {self.deadlock_failures}; tracebacks or multi-line errors "
            f"{len(self.cli_unclean)}",
            f"outbox at the end                  {dict(sorted(self.outbox_states.items()))}",
        ]
        if self.killed:
            out.append(f"SIGKILLed                          {self.killed}")
        if self.restart_window:
            down, up = self.restart_window
            out.append(f"database restart                   pg_ctl restart took {up - down:.2f}s")
        if self.disk_full_window:
            start, end = self.disk_full_window
            out.append(f"disk full                          for {end - start:.1f}s")
        for name, figure in sorted(self.reconnect_s.items()):
            out.append(f"reconnect {name:<25}{figure}")
        for call in self.cli_failures[:5]:
            out.append(f"  failed: {call.command}: {call.stderr.strip()[:200]}")
        return out
