"""Every test starts from a clean service environment, with its store in a temporary folder.

Two switches for the whole run, both from the environment:

- ``CI=true``: the run is CI's. The official CDS Hooks examples (an outside
  conformance corpus, see ``conformance.find_examples``) are required: without them
  the run fails at once. Outside CI, the tests that need them (those using the
  ``cds_hooks_examples`` fixture) are skipped, with one reason naming how to provide
  them; no other test depends on them.
- ``HYPOTHESIS_PROFILE``: ``quick`` (the default outside CI) or ``thorough`` (the
  default under ``CI=true``): how many examples each property test tries.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis.errors import InvalidArgument

from .api.support import LogCapture
from .auth.support import close
from .ci_gate import (  # noqa: F401 (the hooks: a skip fails in CI)
    in_ci,
    pytest_make_collect_report,
    pytest_runtest_makereport,
)
from .conformance import MISSING, find_examples

IN_CI = in_ci()
EXAMPLES_FIXTURE = "cds_hooks_examples"

# Property tests name no example count of their own: the profile decides. "thorough" is
# what CI runs (about 4x the examples); "quick" keeps a local run short.
settings.register_profile(
    "quick", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("thorough" if IN_CI else "quick")


def pytest_configure(config: pytest.Config) -> None:
    """The profile is loaded before collection: test modules read it at import."""
    try:
        settings.load_profile(HYPOTHESIS_PROFILE)
    except InvalidArgument:
        raise pytest.UsageError(
            f"HYPOTHESIS_PROFILE={HYPOTHESIS_PROFILE}: choose quick or thorough"
        ) from None


def pytest_report_header(config: pytest.Config) -> list[str]:
    examples = find_examples()
    return [
        f"hypothesis profile: {HYPOTHESIS_PROFILE}; CI: {'yes' if IN_CI else 'no'}",
        f"official CDS Hooks examples: {examples or 'not found (their tests are skipped)'}",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under CI, a run that selects tests needing the official examples stops here
    without them; elsewhere the ``cds_hooks_examples`` fixture skips those tests."""
    needing = [item for item in items if EXAMPLES_FIXTURE in getattr(item, "fixturenames", ())]
    if not needing:
        return
    try:
        found = find_examples()
    except FileNotFoundError as exc:
        raise pytest.UsageError(str(exc)) from None
    if found is None and IN_CI:
        raise pytest.UsageError(f"CI=true and {MISSING} ({len(needing)} tests need them)")


@pytest.fixture(scope="session")
def cds_hooks_examples() -> Path:
    """The official CDS Hooks examples folder; without it the test is skipped, always with
    this one reason (so the summary folds every such skip into one line)."""
    found = find_examples()
    if found is None:
        pytest.skip(MISSING)
    return found


@pytest.fixture(scope="session")
def official(cds_hooks_examples: Path) -> Callable[[str], dict]:
    """An official example by its path under the examples folder; missing is a failure."""

    def load(relative: str) -> dict:
        path = cds_hooks_examples / relative
        assert path.is_file(), f"official CDS Hooks example {relative} is missing"
        return json.loads(path.read_text(encoding="utf-8"))

    return load


@pytest.fixture(scope="session", autouse=True)
def _session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """For what module- and session-scoped fixtures build before any test's own settings:
    the store never lands in the checkout."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDS_B12_DATA_DIR", str(tmp_path_factory.mktemp("cds-b12-session-data")))
        yield


@pytest.fixture
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of each test's own: feedback changes later cards (holds, "Dismissed before"),
    so one test's feedback must not reach another's cards."""
    return tmp_path_factory.mktemp("cds-b12-data")


@pytest.fixture(autouse=True)
def _service_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    """Settings come from the test, never from whoever runs it; the store never lands in
    the checkout."""
    for name in list(os.environ):
        if name.startswith("CDS_B12_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CDS_B12_DATA_DIR", str(data_dir))


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """The "cds_b12" logger does not propagate, so its records are caught on it directly."""
    handler = LogCapture()
    logger = logging.getLogger("cds_b12")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Other libraries' records too, at DEBUG: urllib3, werkzeug and the rest log through
    the root logger (urllib3 logs each connection and request)."""
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def apps() -> Iterator[list[Flask]]:
    """Apps a test builds and appends here; their pools of connections to FHIR servers are
    closed afterwards."""
    built: list[Flask] = []
    yield built
    for app in built:
        close(app)
