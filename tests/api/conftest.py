"""API test fixtures: a client of a pinned-date app."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from .support import make_app


@pytest.fixture
def client() -> FlaskClient:
    return make_app().test_client()
