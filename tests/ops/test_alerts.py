"""The example alert rules: `promtool check rules`, then `promtool test rules` (every alert fires and stays quiet).

Skipped only where promtool is missing on a developer's machine; CI (CI=true) installs it and
fails instead of skipping.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.ops.helpers import required_tool
from triage_tui.ops.collector import STORE_METRICS
from triage_tui.ops.metrics import metrics

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def test_the_rules_and_scrape_config_are_valid_and_every_alert_is_unit_tested():
    tool = required_tool("promtool", "prometheus")
    checked = subprocess.run([tool, "check", "rules", str(RULES / "alerts.yml")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = subprocess.run([tool, "check", "config", str(RULES / "prometheus.yml")], capture_output=True, text=True)
    assert config.returncode == 0, config.stdout + config.stderr
    tested = subprocess.run([tool, "test", "rules", "alerts.test.yml"], cwd=RULES, capture_output=True, text=True)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr
    alerts = set(re.findall(r"^\s*- alert: (\w+)", (RULES / "alerts.yml").read_text(), re.M))
    cases = (RULES / "alerts.test.yml").read_text()
    for alert in alerts:
        assert f"alertname: {alert}" in cases and "exp_alerts: []" in cases, f"{alert} has no promtool test"
        firing = re.search(rf"alertname: {alert}\n\s+exp_alerts:\n\s+- exp_labels", cases)
        assert firing, f"{alert} is never shown firing"


def test_the_rules_only_use_metrics_triage_tui_exports():
    exported = {m.name for m in STORE_METRICS} | {"triage_store_up"}
    exported |= {family.name for family in metrics().registry.collect()}
    used = set(re.findall(r"\b(triage_[a-z_]+?)(?:_total)?\b", (RULES / "alerts.yml").read_text()))
    assert used and used <= exported, used - exported
