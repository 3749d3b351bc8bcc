"""Theme files (TOML) turned into validated Textual themes: bundled ones plus the user's own."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs
from textual.color import Color, ColorParseError
from textual.theme import Theme

from triage_tui.config import APP_NAME

DEFAULT_THEME = "triage-dark"
COLOUR_KEYS = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel",
               "boost", "warning", "error", "success")
ALLOWED_KEYS = {"name", "dark", "variables", *COLOUR_KEYS}

# App colours every theme may override; the stylesheet refers to them as $name.
VARIABLE_DEFAULTS: dict[str, str] = {
    "urgency-critical": "#ff5f5f",
    "urgency-high": "#ffaf5f",
    "urgency-normal": "#d0d0d0",
    "urgency-low": "#8a8a8a",
    "queue-marked": "#5f87ff 30%",
    "queue-cursor": "#5f87ff 45%",
    "sla-over": "#ff5f5f",
    "stop-banner": "#d70000",
    "stop-banner-text": "#ffffff",
    "env-test": "#00875f",
    "env-production": "#d70000",
    "quote-text": "#8a8a8a",
    "warning-text": "#ffaf00",
}


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ThemeLoad:
    """The themes that loaded and one line per file that did not."""

    themes: dict[str, Theme]
    errors: list[str]


def bundled_theme_dir() -> Path:
    """The theme files shipped inside the package (canonical copies of the repo's themes/)."""
    return Path(str(resources.files("triage_tui.console") / "themes"))


def user_theme_dir() -> Path:
    """Where a user drops extra theme files."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "themes"


def parse_theme(text: str, *, source: str) -> Theme:
    """A Theme from TOML text, or ThemeFileError naming what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - ALLOWED_KEYS)
    if unknown:
        raise ThemeFileError(f"{source}: unknown key {unknown[0]!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError(f"{source}: `name` is required")
    if "primary" not in data:
        raise ThemeFileError(f"{source}: `primary` is required")
    colours = {key: _colour(data[key], f"{source}: {key}") for key in COLOUR_KEYS if key in data}
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError(f"{source}: `dark` must be true or false")
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeFileError(f"{source}: [variables] must be a table")
    for key, value in variables.items():
        if key not in VARIABLE_DEFAULTS:
            raise ThemeFileError(f"{source}: variables.{key} is not a console colour")
        _colour(value, f"{source}: variables.{key}")
    return Theme(name=name.strip(), dark=dark, variables=dict(variables), **colours)


def _colour(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"{where} must be a colour string")
    try:
        Color.parse(value.split()[0] if value.split() else value)
    except ColorParseError:
        raise ThemeFileError(f"{where}: {value!r} is not a colour") from None
    return value


def load_themes(*directories: Path) -> ThemeLoad:
    """Every *.toml theme in the directories, in order (a later file replaces a same-named one)."""
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = parse_theme(path.read_text(encoding="utf-8"), source=path.name)
            except (ThemeFileError, OSError, UnicodeDecodeError) as exc:
                errors.append(str(exc) if isinstance(exc, ThemeFileError) else f"{path.name}: {exc}")
                continue
            themes[theme.name] = theme
    return ThemeLoad(themes, errors)
