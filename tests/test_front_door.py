"""The README's two commands stay true: CI runs the README's own test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = ".venv/bin/python -m pytest -q"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, flags=re.S)
    assert any(TEST_COMMAND in b and 'pip install -e ".[test]"' in b for b in blocks)
    assert TEST_COMMAND in ci and '-e ".[test]"' in ci


def test_readme_quickstart_bundle_exists():
    readme = (ROOT / "README.md").read_text()
    paths = re.findall(r"--bundle (\S+\.json)", readme)
    assert paths and all((ROOT / p).is_file() for p in paths)
