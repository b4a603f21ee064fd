"""The README's test command works from a plain clone with nothing beside it.

The official CDS Hooks examples are an outside corpus, found beside the checkout
(``../shared/cds-hooks-examples``) or through ``CDS_HOOKS_EXAMPLES``. In a copy of the
checkout with neither, the suite still collects and runs: the tests that need the
examples are skipped with one reason saying how to provide them, and with ``CI=true``
their absence fails the run instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .checkout import copy_checkout
from .conformance import EXAMPLES_ENV, MISSING

# The tests that read the examples, and their neighbours that must not need them.
SAMPLE = [
    "tests/auth/test_spec_examples.py",
    "tests/auth/test_keys.py",
    "tests/api/test_feedback.py",
    "tests/api/test_prefetch.py",
]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clone = copy_checkout(tmp_path_factory.mktemp("alone") / "cds-b12")
    assert not any((p / "shared").exists() for p in clone.parents)
    return clone


def pytest_in(clone: Path, *args: str, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", EXAMPLES_ENV, "PYTHONPATH")}
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:randomly", "-p", "no:cacheprovider",
         *args],
        cwd=clone, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_the_whole_suite_collects_without_the_examples(clone):
    proc = pytest_in(clone, "--collect-only", ci=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "error" not in proc.stdout.splitlines()[-1].lower()


def test_without_the_examples_their_tests_are_skipped_for_one_reason(clone):
    proc = pytest_in(clone, *SAMPLE, ci=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skipped and {line.split(": ", 1)[1] for line in skipped} == {MISSING}
    summary = proc.stdout.splitlines()[-1]
    assert " passed" in summary and " skipped" in summary and "failed" not in summary, summary


def test_under_ci_their_absence_fails_the_run(clone):
    proc = pytest_in(clone, *SAMPLE, ci=True)
    assert proc.returncode != 0
    assert f"CI=true and {MISSING}" in proc.stderr + proc.stdout
    assert " passed" not in proc.stdout  # it stops before running anything


def test_a_folder_named_by_the_variable_must_hold_them(clone, tmp_path):
    env = {**os.environ, EXAMPLES_ENV: str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SAMPLE[2:]],
        cwd=clone, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode != 0
    assert f"{EXAMPLES_ENV}={tmp_path} does not hold the official CDS Hooks examples" in (
        proc.stdout + proc.stderr
    )
