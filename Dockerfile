# triage-tui for teams that deploy with containers: one image for the worker and the webhook
# receiver (the command picks the role; see deploy/compose/compose.yaml). CI checks this file only
# statically (tests/ops/test_deploy.py): no container runtime runs there.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# An unprivileged user that owns nothing but its home; the code is root-owned and read-only to it.
RUN groupadd --system --gid 10001 triage \
    && useradd --system --uid 10001 --gid triage --home-dir /home/triage --create-home triage

WORKDIR /opt/triage-tui
COPY pyproject.toml README.md config.example.toml ./
COPY triage_tui ./triage_tui
# The README's install, verbatim
RUN python3 -m venv .venv && .venv/bin/pip install .

# Config and secrets come from outside: mount the config at /etc/triage-tui/config.toml and pass
# NYLAS_API_KEY, NYLAS_WEBHOOK_SECRET and PGPASSWORD as environment variables.
ENV PATH=/opt/triage-tui/.venv/bin:$PATH \
    TRIAGE_TUI_CONFIG=/etc/triage-tui/config.toml \
    TRIAGE_TUI_LOG_FORMAT=json

USER triage:triage
# 8765: the webhook receiver (and its /metrics); 9101: a worker's --metrics-port
EXPOSE 8765 9101
ENTRYPOINT ["triage-tui"]
CMD ["worker", "--metrics-port", "9101", "--metrics-host", "0.0.0.0"]
