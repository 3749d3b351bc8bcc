"""Agent Account creation (`POST /v3/connect/custom`, provider `nylas`) as the API documents it."""

from __future__ import annotations

import re
import string
import uuid

ADDRESS = re.compile(r"^[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z]{2,}$")
PRINTABLE = set(string.printable) - set(string.whitespace)


class AccountError(ValueError):
    """A connect/custom body the API refuses (400), or an unknown workspace (404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def check_app_password(password) -> None:
    """18-40 printable ASCII characters with an upper-case letter, a lower-case letter and a digit."""
    if not isinstance(password, str) or not 18 <= len(password) <= 40 or not set(password) <= PRINTABLE:
        raise AccountError("settings.app_password must be 18 to 40 printable ASCII characters")
    if not (any(c.isupper() for c in password) and any(c.islower() for c in password)
            and any(c.isdigit() for c in password)):
        raise AccountError("settings.app_password needs an upper-case letter, a lower-case letter and a digit")


def parse_request(body: dict, registered_domains: set[str]) -> tuple[str, str, str | None]:
    """(email, name, workspace_id) from a connect/custom body, or AccountError saying what is wrong."""
    provider = body.get("provider")
    if provider != "nylas":
        raise AccountError(f"provider {provider!r} needs real provider credentials: the sandbox "
                           "creates Agent Accounts only (provider \"nylas\")")
    settings = body.get("settings")
    if not isinstance(settings, dict):
        raise AccountError("settings is required")
    email = settings.get("email")
    if not isinstance(email, str) or not ADDRESS.match(email.strip()):
        raise AccountError("settings.email must be an email address")
    email = email.strip()
    domain = email.rpartition("@")[2].lower()
    if domain not in registered_domains:
        raise AccountError(f"domain {domain} is not registered for Agent Accounts in this application; "
                           "register it in the Dashboard first")
    if "app_password" in settings:
        check_app_password(settings["app_password"])
    name = body.get("name", "")
    if not isinstance(name, str):
        raise AccountError("name must be a string")
    workspace_id = body.get("workspace_id")
    if workspace_id is not None and not isinstance(workspace_id, str):
        raise AccountError("workspace_id must be a string")
    return email, name.strip(), workspace_id or None


def new_grant_id() -> str:
    """A grant id shaped like Nylas's (a UUID)."""
    return str(uuid.uuid4())
