"""Poller, webhook receiver, the idempotent pipeline and mail signals."""
