"""triage-tui: a terminal console for triaging the mail of a Nylas Agent Account."""

__version__ = "0.1.0"
