"""API test fixtures: a clean environment, a pinned-date app, and the service's log lines."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from .support import LogCapture, make_app


@pytest.fixture(autouse=True)
def _no_service_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the test, never from whoever runs it."""
    for name in list(os.environ):
        if name.startswith("CDS_B12_"):
            monkeypatch.delenv(name)


@pytest.fixture
def client() -> FlaskClient:
    return make_app().test_client()


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """The "cds_b12" logger does not propagate, so its records are caught on it directly."""
    handler = LogCapture()
    logger = logging.getLogger("cds_b12")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
