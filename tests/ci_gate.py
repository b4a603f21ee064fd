"""Under ``CI=true`` a skipped test is a failed one: CI provisions every part the suite
needs (.ci/provision), so a test that skips there is a test that silently did not run.

A pytest plugin: ``tests/conftest.py`` imports its hook, and ``-p tests.ci_gate`` loads it
on its own (its test does that).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and in_ci():
        _fail(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """A module skipped as it is collected (``importorskip``, ``allow_module_level``):
    every test in it silently did not run, so under CI it is a collection error."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci():
        _fail(report)


def _fail(report: pytest.TestReport | pytest.CollectReport) -> None:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
    reason = str(reason).removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = f"skipped under CI=true, where every test must run: {reason}"
