"""A skip under CI=true fails the run; elsewhere it stays a skip. So does a whole module
skipped as it is collected (``pytest.importorskip``, ``allow_module_level``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


IN_A_TEST = "import pytest\n\n\ndef test_needs_a_server():\n    pytest.skip('no server here')\n"
AT_COLLECTION = (
    "import pytest\n\npytest.skip('no server here', allow_module_level=True)\n\n\n"
    "def test_needs_a_server():\n    pass\n"
)


def run_skipping_test(
    tmp_path: Path, ci: str | None, source: str = IN_A_TEST
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_skips.py").write_text(source)
    # only the gate as a plugin: the installed ones (hypothesis, schemathesis, ...) take
    # seconds to import and play no part in how a skip is reported
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"
    }
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.ci_gate",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_skips.py"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_skip_under_ci_is_a_failure_naming_its_reason(tmp_path, ci):
    run = run_skipping_test(tmp_path, ci)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed" in run.stdout
    assert "skipped under CI=true, where every test must run: no server here" in run.stdout


def test_a_module_skipped_at_collection_under_ci_is_an_error_naming_its_reason(tmp_path):
    run = run_skipping_test(tmp_path, "true", AT_COLLECTION)
    assert run.returncode != 0, run.stdout + run.stderr
    assert "1 error" in run.stdout
    assert "skipped under CI=true, where every test must run: no server here" in run.stdout


@pytest.mark.parametrize("source", [IN_A_TEST, AT_COLLECTION], ids=["in-a-test", "at-collection"])
def test_a_skip_outside_ci_stays_a_skip(tmp_path, source):
    run = run_skipping_test(tmp_path, None, source)
    # a file whose one module is skipped collects no test: pytest's own exit code for that
    ok = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    assert run.returncode in ok, run.stdout + run.stderr
    assert "1 skipped" in run.stdout
