"""Fixtures for the authentication tests: an https FHIR server (the service only ever
contacts https servers once callers are authenticated)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from .tls import make_tls


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory):
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def _https_server(tls) -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=tls[0], threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def https_server(_https_server: HTTPServer) -> HTTPServer:
    """A real https server on 127.0.0.1; ``ca_file`` is what a client must trust for it."""
    _https_server.clear()
    return _https_server


@pytest.fixture
def ca_file(tls) -> Path:
    return tls[1]
