"""Operating triage-tui as a service: metrics, health checks, logs (no textual here)."""
