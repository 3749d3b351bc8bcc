"""Fake ticket trackers (GitHub, Jira, Linear, Zendesk, a webhook receiver) on loopback, for tests and the demo."""
