"""The checkout's source tree, and copies of it that stand in for a fresh clone."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
    ".hypothesis", "data", "test-artifacts",
)  # fmt: skip


def copy_checkout(dest: Path) -> Path:
    """The source files as a clone has them (links kept as links), without what a
    checkout accumulates: virtual environments, caches, builds, stores."""
    shutil.copytree(ROOT, dest, symlinks=True, ignore=NOT_SOURCE)
    return dest
