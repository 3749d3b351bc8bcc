"""Ticket trackers: the Tracker protocol and one module per tracker (create, comment, status over httpx)."""
