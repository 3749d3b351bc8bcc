"""The house rules of ARCHITECTURE.md, checked on the source: who may import what."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "triage_tui"


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(folder: str = "") -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def offenders(paths, banned) -> list[str]:
    return sorted(
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in paths
        for name in imports_of(path)
        if any(name == b or name.startswith(b + ".") for b in banned)
    )


def test_nothing_outside_the_console_imports_textual():
    outside = [p for p in modules() if "console" not in p.relative_to(PACKAGE).parts]
    assert offenders(outside, ["textual"]) == []


def test_the_console_never_touches_peewee_or_the_orm_rows():
    assert offenders(modules("console"), ["peewee", "playhouse", "triage_tui.store.models"]) == []


def test_the_sandbox_speaks_http_only():
    app_packages = ["triage_tui.store", "triage_tui.ingest", "triage_tui.outbound", "triage_tui.console",
                    "triage_tui.classify", "triage_tui.nylas"]
    assert offenders(modules("sandbox"), app_packages) == []


def test_the_core_packages_do_not_reach_up_into_the_console():
    core = [p for p in modules() if p.relative_to(PACKAGE).parts[0] in ("store", "nylas", "classify", "ingest", "outbound")]
    assert offenders(core, ["triage_tui.console"]) == []


def test_the_trackers_know_only_the_domain_and_the_config():
    banned = ["triage_tui.store", "triage_tui.ingest", "triage_tui.outbound", "triage_tui.console",
              "triage_tui.classify", "triage_tui.nylas", "triage_tui.sandbox", "peewee", "playhouse", "textual"]
    assert offenders(modules("trackers"), banned) == []
