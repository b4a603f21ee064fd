"""Every test starts from a clean service environment, with its store in a temporary folder."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .api.support import LogCapture


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
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
