"""Service files, checked statically: systemd units with systemd-analyze, the Dockerfile and compose file by parsing.

No container runtime or init system runs here, so nothing is started: CI (CI=true) installs
systemd-analyze and fails instead of skipping when it is missing.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.ops.helpers import required_tool
from triage_tui.config import API_KEY_ENV, WEBHOOK_SECRET_ENV, parse_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
INSTALLED = "/opt/triage-tui/.venv/bin/triage-tui"
HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "DynamicUser=yes",
             "CapabilityBoundingSet=", "SystemCallFilter=@system-service", "RestrictAddressFamilies=")
DOCKERFILE_KEYWORDS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
                       "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


def test_systemd_units_verify_and_are_hardened(tmp_path):
    tool = required_tool("systemd-analyze", "systemd")
    binary = Path(sys.executable).with_name("triage-tui")
    assert binary.exists(), "install the project first (pip install -e .)"
    units = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text()
        assert f"ExecStart={INSTALLED} " in text and "EnvironmentFile=/etc/triage-tui/triage-tui.env" in text
        assert "Restart=on-failure" in text and "RestartPreventExitStatus=2" in text
        for setting in HARDENING:
            assert f"\n{setting}" in text, f"{unit.name} lacks {setting}"
        name = unit.name.replace("@.", "@9101.")  # verify a template through one instance
        (tmp_path / name).write_text(text.replace(INSTALLED, str(binary)))
        units.append(str(tmp_path / name))
    assert len(units) == 2
    verified = subprocess.run([tool, "verify", *units], capture_output=True, text=True, cwd=tmp_path)
    assert verified.returncode == 0 and not verified.stdout + verified.stderr, verified.stdout + verified.stderr
    for unit in units:
        scored = subprocess.run([tool, "security", "--offline=yes", unit], capture_output=True, text=True)
        level = re.search(r"Overall exposure level for \S+: ([\d.]+)", scored.stdout)
        assert level and float(level.group(1)) <= 2.5, scored.stdout[-500:]


def dockerfile_instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_installs_as_the_readme_says_and_runs_unprivileged():
    steps = dockerfile_instructions()
    assert all(keyword in DOCKERFILE_KEYWORDS for keyword, _ in steps)
    assert steps[0][0] == "FROM" and ":" in steps[0][1] and "latest" not in steps[0][1]
    readme_install = re.search(r"python3 -m venv \.venv && \.venv/bin/pip install \.", (ROOT / "README.md").read_text())
    assert readme_install and any(k == "RUN" and readme_install.group(0) in v for k, v in steps)
    users = [i for i, (k, _) in enumerate(steps) if k == "USER"]
    assert users and steps[users[-1]][1].split(":")[0] not in ("root", "0")
    assert users[-1] < min(i for i, (k, _) in enumerate(steps) if k in ("ENTRYPOINT", "CMD"))
    for keyword, value in steps:
        if keyword in ("COPY", "ADD"):
            assert keyword == "COPY" and "://" not in value
            for source in value.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: no such path"
        if keyword == "ENV":
            assert not any(secret in value for secret in (API_KEY_ENV, WEBHOOK_SECRET_ENV, "PGPASSWORD"))
    assert ("ENTRYPOINT", '["triage-tui"]') in steps
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored and "!triage_tui/" in ignored


def test_compose_has_postgres_two_workers_on_their_own_ports_and_the_receiver():
    folder = DEPLOY / "compose"
    compose = yaml.safe_load((folder / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "worker-1", "worker-2", "webhook"}
    ports = []
    for name in ("worker-1", "worker-2", "webhook"):
        service = services[name]
        assert service["build"]["dockerfile"] == "Dockerfile" and (folder / service["build"]["context"]
                                                                    / "Dockerfile").exists()
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["restart"] == "unless-stopped" and service["env_file"] == ".env"
        assert service["cap_drop"] == ["ALL"] and service["read_only"] is True
        command = service["command"]
        port = command[command.index("--metrics-port" if name != "webhook" else "--port") + 1]
        assert f"127.0.0.1:{port}/healthz" in service["healthcheck"]["test"][-1]
        assert service["ports"] == [f"127.0.0.1:{port}:{port}"]
        ports.append(port)
    assert len(set(ports)) == 3  # per-process metrics ports
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${PGPASSWORD:?")
    config = parse_config((folder / "config.toml").read_text(), source="compose config.toml")
    assert config.database.url.startswith("postgresql://") and "@postgres:" in config.database.url
    assert ":" not in config.database.url.split("://")[1].split("@")[0]  # no password in the file
    example = (folder / "env.example").read_text()
    assert all(f"{name}=\n" in example for name in (API_KEY_ENV, WEBHOOK_SECRET_ENV, "PGPASSWORD"))
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {t for job in scrape["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    assert targets == {f"127.0.0.1:{port}" for port in ports}
