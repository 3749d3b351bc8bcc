"""The TOML config as pydantic models; secrets come only from the environment."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal, TypeVar, Union

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

APP_NAME = "triage-tui"
CONFIG_ENV = "TRIAGE_TUI_CONFIG"
API_KEY_ENV = "NYLAS_API_KEY"
WEBHOOK_SECRET_ENV = "NYLAS_WEBHOOK_SECRET"
LLM_API_KEY_ENV = "TRIAGE_TUI_LLM_API_KEY"
M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file, key and line."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NylasConfig(_Section):
    """Where the Nylas API (or the bundled sandbox) lives and how hard to lean on it."""

    api_uri: str = "https://api.us.nylas.com"
    timeout_s: float = 30.0
    max_requests_per_s: float = 20.0
    max_retries: int = 6
    max_backoff_s: float = 30.0

    @field_validator("api_uri")
    @classmethod
    def _no_v3_suffix(cls, value: str) -> str:
        value = value.rstrip("/")
        if value.endswith("/v3"):
            raise ValueError("api_uri must not end with /v3 (the SDK adds it)")
        if not value.startswith(("http://", "https://")):
            raise ValueError("api_uri must start with http:// or https://")
        return value


class InboxConfig(_Section):
    """One Agent Account: its grant and the policy scope it belongs to."""

    grant_id: str
    email: str
    workspace_id: str = ""
    policy_id: str = ""
    name: str = ""
    # A production mailbox: sends from it are refused while environment = "test".
    production: bool = False
    # The named tracker this inbox's tickets go to; "" means [tracking] default_tracker.
    tracker: str = ""


class DatabaseConfig(_Section):
    """The store: a SQLite file by default, PostgreSQL by URL for a team."""

    url: str = ""
    busy_timeout_ms: int = 5000
    retry_for_s: float = Field(default=10.0, gt=0)

    def resolved_url(self) -> str:
        """The URL to open: the configured one, or a SQLite file in the user data dir."""
        if self.url:
            return self.url
        data_dir = Path(platformdirs.user_data_dir(APP_NAME))
        return f"sqlite:///{data_dir / 'triage.db'}"


class WorkerConfig(_Section):
    """The ingest worker: polling cadence, page bounds and the poison threshold."""

    poll_interval_s: float = 15.0
    overlap_s: int = 300
    page_limit: int = Field(default=50, ge=1, le=200)
    max_pages_per_poll: int = 50
    batch_size: int = 50
    max_attempts: int = 3
    lease_s: int = 120


class WebhookConfig(_Section):
    """The signed-webhook receiver."""

    host: str = "127.0.0.1"
    port: int = 8765
    max_body_bytes: int = 2 * 1024 * 1024
    tolerance_s: int = 3600
    # Registered with Nylas by `triage-tui init`; empty means no webhook (the worker polls).
    public_url: str = ""
    webhook_id: str = ""


class LLMConfig(_Section):
    """An optional OpenAI-compatible chat endpoint; its key comes from the environment."""

    base_url: str = ""
    model: str = ""
    timeout_s: float = 20.0
    max_input_chars: int = 32_000


class ClassifierConfig(_Section):
    """Which classifiers run, in what order, and what counts as sure enough."""

    chain: list[Literal["embed", "learned", "rules", "llm", "keywords"]] = ["embed", "rules"]
    categories: list[str] = [
        "billing",
        "bug",
        "account_access",
        "feature_request",
        "spam",
        "other",
    ]
    urgencies: list[str] = ["low", "normal", "high", "critical"]
    min_confidence: float = Field(default=0.55, ge=0.0, le=1.0)
    rules_path: str = ""
    training_csv: str = ""
    retrain_after: int = 25
    min_training_examples: int = 30
    embed_model: str = ""
    model_hub: str = "https://huggingface.co"
    embed_max_tokens: int = Field(default=32, ge=8, le=512)
    target_accuracy: float = Field(default=0.98, gt=0.0, le=1.0)
    llm: LLMConfig = LLMConfig()


class OutboundConfig(_Section):
    """Send policy: approvals, caps, rate limits and who may be a recipient."""

    require_approval: list[str] = ["reply", "acknowledgement"]
    approval_expiry_s: int = 24 * 3600
    reject_reason_required: bool = True
    daily_cap_per_grant: int = 200
    per_recipient_per_hour: int = 5
    per_thread_per_hour: int = 5
    ack_once_per_days: int = 7
    max_recipients: int = 5
    reply_to_allowlist: list[str] = []
    lease_s: int = 60
    reconcile_after_s: int = 50 * 60
    stop_switch_alert_after_s: int = 30 * 60
    sink_api_uri: str = ""


class ConsoleConfig(_Section):
    """What the console looks like and how old is too old."""

    theme: str = "triage-dark"
    operator: str = ""
    sla_minutes: dict[str, int] = {"critical": 30, "high": 120, "normal": 480, "low": 1440}


_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class _TrackerBase(_Section):
    """Keys every tracker has: timeouts, pacing, and how long to look for a write that may have landed."""

    timeout_s: float = Field(default=20.0, gt=0)
    min_interval_s: float = Field(default=0.0, ge=0)
    max_in_flight: int = Field(default=1, ge=1, le=16)
    reconcile_grace_s: float = Field(default=30.0, ge=0)


class LocalTracker(_TrackerBase):
    """The store is the system of record: nothing leaves the machine."""

    kind: Literal["local"]


class GitHubTracker(_TrackerBase):
    """GitHub Issues over REST; the token comes from the variable `token_env` names."""

    kind: Literal["github"]
    api_url: str = "https://api.github.com"
    repo: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    token_env: str = Field(default="GITHUB_TOKEN", pattern=_ENV_NAME)
    labels: list[str] = ["triage-tui"]
    category_label_prefix: str = "category:"
    urgency_label_prefix: str = "urgency:"
    assignees: list[str] = []
    min_interval_s: float = Field(default=1.0, ge=0)
    reconcile_grace_s: float = Field(default=10.0, ge=0)


class JiraTracker(_TrackerBase):
    """Jira Cloud REST v3; basic auth (email + API token) or a bearer token from the environment."""

    kind: Literal["jira"]
    base_url: str
    browse_url: str = ""
    project_key: str
    issue_type: str = "Task"
    email: str = ""
    token_env: str = Field(default="JIRA_API_TOKEN", pattern=_ENV_NAME)
    labels: list[str] = ["triage-tui"]
    priorities: dict[str, str] = {}
    done_status: str = ""
    reopened_status: str = ""
    reconcile_grace_s: float = Field(default=120.0, ge=0)


class LinearTracker(_TrackerBase):
    """Linear over GraphQL; a personal API key (or an OAuth token) from the environment."""

    kind: Literal["linear"]
    api_url: str = "https://api.linear.app/graphql"
    team_id: str
    token_env: str = Field(default="LINEAR_API_KEY", pattern=_ENV_NAME)
    oauth: bool = False
    label_ids: list[str] = []
    priorities: dict[str, int] = {"critical": 1, "high": 2, "normal": 3, "low": 4}
    done_state_id: str = ""
    reopened_state_id: str = ""


class ZendeskTracker(_TrackerBase):
    """Zendesk Support tickets; an API token (with `email`) or an OAuth token from the environment."""

    kind: Literal["zendesk"]
    base_url: str
    email: str = ""
    token_env: str = Field(default="ZENDESK_API_TOKEN", pattern=_ENV_NAME)
    oauth: bool = False
    tags: list[str] = ["triage-tui"]
    priorities: dict[str, str] = {"critical": "urgent", "high": "high", "normal": "normal", "low": "low"}
    public_comments: bool = False
    idempotency_window_s: float = Field(default=5400.0, gt=0, le=7200)


class WebhookTracker(_TrackerBase):
    """A JSON POST signed per Standard Webhooks; the whsec_ secret comes from the environment."""

    kind: Literal["webhook"]
    url: str
    secret_env: str = Field(default="TRIAGE_TUI_TRACKER_WEBHOOK_SECRET", pattern=_ENV_NAME)


TrackerConfig = Annotated[
    Union[LocalTracker, GitHubTracker, JiraTracker, LinearTracker, ZendeskTracker, WebhookTracker],
    Field(discriminator="kind"),
]
TRACKER_MODELS = (LocalTracker, GitHubTracker, JiraTracker, LinearTracker, ZendeskTracker, WebhookTracker)


class TrackingConfig(_Section):
    """Which tracker tickets go to by default, and how the tracker-write dispatcher behaves."""

    default_tracker: str = "local"
    link_template: str = ""
    lease_s: int = Field(default=120, ge=5)
    max_unknown_attempts: int = Field(default=5, ge=1)
    max_backoff_s: float = Field(default=300.0, gt=0)
    idle_s: float = Field(default=1.0, gt=0)


class OpsConfig(_Section):
    """How the services judge their own health (`status` exit codes, /readyz)."""

    stale_sync_after_s: int = Field(default=900, ge=1)
    nylas_timeout_s: float = Field(default=3.0, gt=0)


class Config(_Section):
    """The whole config file."""

    tenant_id: str = "default"
    environment: Literal["test", "production"] = "test"
    nylas: NylasConfig = NylasConfig()
    inboxes: list[InboxConfig] = []
    database: DatabaseConfig = DatabaseConfig()
    worker: WorkerConfig = WorkerConfig()
    webhook: WebhookConfig = WebhookConfig()
    classifier: ClassifierConfig = ClassifierConfig()
    outbound: OutboundConfig = OutboundConfig()
    console: ConsoleConfig = ConsoleConfig()
    ops: OpsConfig = OpsConfig()
    keymap: dict[str, str] = {}
    tracking: TrackingConfig = TrackingConfig()
    trackers: dict[str, TrackerConfig] = {}

    @model_validator(mode="after")
    def _trackers_exist(self) -> "Config":
        names = {"local", *self.trackers}
        wanted = [("tracking.default_tracker", self.tracking.default_tracker)]
        wanted += [(f"inboxes.{i.grant_id}.tracker", i.tracker) for i in self.inboxes if i.tracker]
        for key, name in wanted:
            if name not in names:
                raise ValueError(f"{key}: no tracker named {name!r} (defined: {', '.join(sorted(names))})")
        return self

    @property
    def grant_ids(self) -> list[str]:
        """The grants this deployment owns; anything else is refused."""
        return [inbox.grant_id for inbox in self.inboxes]

    def inbox(self, grant_id: str) -> InboxConfig | None:
        """The configured inbox for a grant, or None when the grant is not ours."""
        return next((i for i in self.inboxes if i.grant_id == grant_id), None)

    def tracker_name(self, grant_id: str) -> str:
        """The tracker a grant's tickets go to: the inbox's own, else the default (routing by config only)."""
        inbox = self.inbox(grant_id)
        return (inbox.tracker if inbox and inbox.tracker else "") or self.tracking.default_tracker

    def tracker(self, name: str):
        """The named tracker's config; "local" needs no table."""
        if name in self.trackers:
            return self.trackers[name]
        if name == "local":
            return LocalTracker(kind="local")
        raise KeyError(f"no tracker named {name!r}")


def api_key() -> str:
    """The Nylas API key, only ever from the environment."""
    return os.environ.get(API_KEY_ENV, "")


def webhook_secrets() -> list[str]:
    """Webhook secrets from the environment, several during a rotation."""
    raw = os.environ.get(WEBHOOK_SECRET_ENV, "")
    return [s.strip() for s in raw.split(",") if s.strip()]


def default_config_path() -> Path:
    """Where the config file is looked for when neither --config nor the env var says."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config path: --config, then $TRIAGE_TUI_CONFIG, then the user config dir."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return default_config_path()


def load_config(explicit: str | os.PathLike[str] | None = None, *, required: bool = False) -> Config:
    """Load and validate the config; a missing default file gives the defaults."""
    path = config_path(explicit)
    if not path.exists():
        if required or explicit or os.environ.get(CONFIG_ENV):
            raise ConfigError(f"{path}: config file not found")
        return Config()
    text = _read(path)
    return parse_config(text, source=str(path))


def parse_config(text: str, *, source: str = "<config>") -> Config:
    """Parse TOML text into a Config, or raise ConfigError naming the key and line."""
    return parse_toml_model(text, Config, source=source, error=ConfigError)


def parse_toml_model(text: str, model: type[M], *, source: str, error: type[Exception]) -> M:
    """TOML text validated into `model`, or `error` naming the file, the line and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: not valid TOML: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        line = _line_of(text, first["loc"])
        where = f"{source}:{line}" if line else source
        message = first["msg"].removeprefix("Value error, ")
        raise error(f"{where}: {key}: {message}" if key else f"{where}: {message}") from None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None


def _line_of(text: str, loc: tuple) -> int | None:
    """Best-effort line number of the key a validation error points at."""
    names = [str(part) for part in loc if isinstance(part, str)]
    if not names:
        return None
    leaf = names[-1]
    tables = names[:-1]
    lines = text.splitlines()
    start = 0
    for table in tables:
        for index in range(start, len(lines)):
            stripped = lines[index].strip()
            if stripped.startswith("[") and table in stripped.strip("[]").split("."):
                start = index
                break
    for index in range(start, len(lines)):
        stripped = lines[index].split("#", 1)[0].strip()
        if stripped.split("=", 1)[0].strip().strip('"') == leaf and "=" in stripped:
            return index + 1
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        if stripped.startswith("[") and leaf in stripped.strip("[]").split("."):
            return index + 1
    return None
