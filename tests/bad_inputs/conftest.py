"""Fixtures of the bad-input corpus: a read-only file system and the set-ups cases name."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def read_only_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A read-only tmpfs (running as root ignores permission bits, not a read-only mount);
    where nothing can be mounted, a path below a regular file (which no one can write)."""
    base = tmp_path_factory.mktemp("ro")
    target = base / "mnt"
    target.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)],
                          capture_output=True, check=False)
    if done.returncode == 0:
        yield target
        subprocess.run(["umount", str(target)], check=False)
    else:
        blocker = base / "a-file"
        blocker.write_text("not a folder")
        yield blocker / "below"
