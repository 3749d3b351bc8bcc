"""The small TOML ruleset init turns into a policy, inbound rules and lists."""

from __future__ import annotations

import re
from importlib import resources

from pydantic import BaseModel, ConfigDict, field_validator

from triage_tui.config import parse_toml_model

DEFAULT_NAME = "guardrails.toml"
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,63}$")


class RulesetError(Exception):
    """A ruleset file that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _clean(values: list[str], pattern: re.Pattern, what: str) -> list[str]:
    out: list[str] = []
    for value in values:
        value = value.strip().lower().lstrip("@") if what == "domain" else value.strip().lower()
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not a {what}")
        if value not in out:
            out.append(value)
    return out


class PolicySettings(_Strict):
    """Limits and spam detection, passed to the API as written."""

    limits: dict[str, int | list[str]] = {}
    spam_detection: dict[str, bool | float] = {}


class InboundLists(_Strict):
    """Who is refused and whose mail lands in Junk."""

    block_domains: list[str] = []
    block_addresses: list[str] = []
    spam_domains: list[str] = []

    @field_validator("block_domains", "spam_domains")
    @classmethod
    def _domains(cls, values: list[str]) -> list[str]:
        return _clean(values, _DOMAIN, "domain")

    @field_validator("block_addresses")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        return _clean(values, _ADDRESS, "address")


class Ruleset(_Strict):
    """The whole ruleset file."""

    policy: PolicySettings = PolicySettings()
    inbound: InboundLists = InboundLists()


def default_text() -> str:
    """The shipped default ruleset, comments included."""
    return resources.files("triage_tui.provision").joinpath("default_guardrails.toml").read_text("utf-8")


def parse_ruleset(text: str, source: str = "<ruleset>") -> Ruleset:
    """A Ruleset, or RulesetError naming the file, the line and the key."""
    return parse_toml_model(text, Ruleset, source=source, error=RulesetError)
