"""Install size: what a classifier adds to the default install, measured on this environment."""

from __future__ import annotations

import functools
import importlib.metadata as metadata
import re
from pathlib import Path

PROJECT = "triage-tui"
_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"extra\s*==\s*['\"]([^'\"]+)['\"]")


def slug(text: str) -> str:
    """A canonical distribution name."""
    return re.sub(r"[-_.]+", "-", text).lower()


def _requirements(dist: str, extra: str | None) -> list[str]:
    """Names a distribution requires (with `extra`: only what that extra adds). Other markers
    count as true; requirements that are not installed drop out in `closure`."""
    names = []
    for line in metadata.requires(dist) or []:
        wanted = _EXTRA.search(line)
        if (wanted.group(1) if wanted else None) == extra:
            names.append(slug(_NAME.match(line).group(1)))
    return names


def closure(roots: list[str]) -> set[str]:
    """The installed distributions the roots need, transitively (canonical names)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        todo += _requirements(name, None)
    return seen


@functools.lru_cache(maxsize=None)
def dist_bytes(name: str) -> int:
    """Bytes on disk of one installed distribution's files (walked once per process)."""
    dist = metadata.distribution(name)
    total = 0
    for file in dist.files or []:
        path = Path(dist.locate_file(file))
        if path.is_file():
            total += path.stat().st_size
    return total


def added_by_extra(extra: str) -> tuple[int, list[str]]:
    """(bytes, names) of the distributions the extra adds to the default install."""
    base = closure(_requirements(PROJECT, None))
    wanted = _requirements(PROJECT, extra)
    added = sorted(closure(wanted) - base)
    return sum(dist_bytes(n) for n in added), added


def default_classifier_bytes() -> tuple[int, list[str]]:
    """(bytes, names) of what the default (TF-IDF) classifier needs: scikit-learn and its stack."""
    names = sorted(closure(["scikit-learn"]))
    return sum(dist_bytes(n) for n in names), names


def megabytes(size: int) -> str:
    """Bytes as 'N.N MB'."""
    return f"{size / 1e6:.1f} MB"
