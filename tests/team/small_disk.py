"""A small tmpfs (root only) that a drill fills up to see the database run out of space."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path


class CannotMount(RuntimeError):
    """No tmpfs here (not root, or no permission in this container)."""


class SmallDisk:
    """A tmpfs of `size_mb` mounted on a temp dir; `fill()` writes until ENOSPC, `free()` gives it back."""

    def __init__(self, size_mb: int) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="triage-disk-"))
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(self.path)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            os.rmdir(self.path)
            raise CannotMount(done.stderr.strip() or "mount failed")
        self.filler = self.path / "filler"

    def fill(self) -> None:
        """Write zeros until the file system is full."""
        with open(self.filler, "wb") as handle:
            try:
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
            except OSError:
                pass

    def free(self) -> None:
        """Give the space back."""
        self.filler.unlink(missing_ok=True)

    def close(self) -> None:
        """Unmount and remove the mount point."""
        subprocess.run(["umount", "-l", str(self.path)], check=False)
        try:
            os.rmdir(self.path)
        except OSError:
            pass
