"""The key store: issuers' JWKS fetched from allow-listed URLs, cached, refetched sparingly,
capped in size, never redirected and never fetched over plain http off this machine."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cds_b12.auth import keys
from cds_b12.auth.issuers import parse_issuers
from cds_b12.auth.keys import (
    CACHE_SECONDS,
    FAILURE_SECONDS,
    MAX_JWKS_BYTES,
    REFETCH_SECONDS,
    KeyStore,
    NoKey,
)
from cds_b12.auth.verify import Verifier

from .support import (
    ISS,
    ISSUER_KID,
    ISSUER_PUBLIC_JWK,
    JKU_JWK,
    JKU_KEY,
    JKU_KID,
    FirstUseOnly,
    jwks,
    make_token,
)

OLD, NEW = ISSUER_PUBLIC_JWK, JKU_JWK  # before and after a key rotation


class Clock:
    """Stands in for ``time.monotonic`` inside the key store only."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(keys, "time", SimpleNamespace(monotonic=clock.monotonic))
    return clock


@pytest.fixture
def store() -> Iterator[KeyStore]:
    session = requests.Session()
    yield KeyStore(session)
    session.close()


class Served:
    """A JWKS endpoint whose answer a test can change (an EHR rotating keys, or failing)."""

    def __init__(self, server: HTTPServer, document: dict, path: str = "/jwks.json") -> None:
        self.document: dict | None = document
        self.url = server.url_for(path)
        self._server = server
        server.expect_request(path).respond_with_handler(self._answer)

    def _answer(self, _request: Request) -> Response:
        if self.document is None:
            return Response("unavailable", status=503)
        return Response(json.dumps(self.document), content_type="application/json")

    @property
    def fetches(self) -> int:
        return len(self._server.log)


def test_two_verifications_fetch_the_jwks_once(httpserver, clock):
    served = Served(httpserver, jwks(NEW))
    session = requests.Session()
    verifier = Verifier(
        parse_issuers({ISS: {"jwks_url": served.url}}), KeyStore(session), FirstUseOnly()
    )
    try:
        for _ in range(2):
            caller = verifier.verify(f"Bearer {make_token('aud', key=JKU_KEY, kid=JKU_KID)}", "aud")
            assert caller.issuer.iss == ISS
        assert served.fetches == 1
        clock.advance(CACHE_SECONDS)  # the cache has expired: fetched again
        verifier.verify(f"Bearer {make_token('aud', key=JKU_KEY, kid=JKU_KID)}", "aud")
        assert served.fetches == 2
    finally:
        session.close()


def test_an_unknown_kid_refetches_once_then_not_again_within_the_window(httpserver, clock, store):
    served = Served(httpserver, jwks(OLD))
    assert store.key(served.url, ISSUER_KID) == OLD
    with pytest.raises(NoKey):  # just fetched: an unknown kid does not refetch yet
        store.key(served.url, "forged-1")
    assert served.fetches == 1

    clock.advance(REFETCH_SECONDS)
    with pytest.raises(NoKey, match="forged-2"):
        store.key(served.url, "forged-2")
    assert served.fetches == 2  # one refetch for the unknown kid
    for i in range(20):  # a flood of forged kids within the minute
        clock.advance((REFETCH_SECONDS - 1) / 20)
        with pytest.raises(NoKey):
            store.key(served.url, f"flood-{i}")
    assert served.fetches == 2
    assert store.key(served.url, ISSUER_KID) == OLD  # the known key is still served


def test_a_rotated_key_is_picked_up_after_the_refetch_window(httpserver, clock, store):
    served = Served(httpserver, jwks(OLD))
    assert store.key(served.url, ISSUER_KID) == OLD
    served.document = jwks(OLD, NEW)  # the EHR publishes its next key
    clock.advance(REFETCH_SECONDS / 2)
    with pytest.raises(NoKey):
        store.key(served.url, JKU_KID)
    clock.advance(REFETCH_SECONDS / 2)
    assert store.key(served.url, JKU_KID) == NEW
    assert store.key(served.url, ISSUER_KID) == OLD
    assert served.fetches == 2


def test_when_a_refetch_fails_the_last_good_keys_serve_until_the_cache_expires(
    httpserver, clock, store
):
    served = Served(httpserver, jwks(OLD))
    assert store.key(served.url, ISSUER_KID) == OLD
    served.document = None  # the key endpoint goes down
    clock.advance(REFETCH_SECONDS)
    with pytest.raises(NoKey):
        store.key(served.url, "new-kid")  # a refetch is tried, and fails
    assert served.fetches == 2
    assert store.key(served.url, ISSUER_KID) == OLD  # the last good keys still serve
    clock.advance(CACHE_SECONDS - REFETCH_SECONDS - 1)
    assert store.key(served.url, ISSUER_KID) == OLD
    assert served.fetches == 2
    clock.advance(1)  # the cache has expired, and the refetch fails again: no key now
    with pytest.raises(NoKey):
        store.key(served.url, ISSUER_KID)
    assert served.fetches == 3
    served.document = jwks(OLD)  # back up: used again after the window
    clock.advance(REFETCH_SECONDS)
    assert store.key(served.url, ISSUER_KID) == OLD
    assert served.fetches == 4


def test_a_failing_first_fetch_is_not_retried_for_a_few_seconds(httpserver, clock, store):
    served = Served(httpserver, jwks(OLD))
    served.document = None
    with pytest.raises(NoKey, match="answered 503"):
        store.key(served.url, ISSUER_KID)
    for _ in range(5):
        clock.advance((FAILURE_SECONDS - 1) / 5)
        with pytest.raises(NoKey, match="no key"):
            store.key(served.url, ISSUER_KID)
    assert served.fetches == 1
    served.document = jwks(OLD)
    clock.advance(2)
    assert store.key(served.url, ISSUER_KID) == OLD
    assert served.fetches == 2


def padded(size: int) -> bytes:
    """A valid JWKS of exactly ``size`` bytes."""
    base = json.dumps({"keys": [OLD], "padding": ""}).encode()
    return json.dumps({"keys": [OLD], "padding": "x" * (size - len(base))}).encode()


def test_a_jwks_at_the_size_cap_is_accepted(httpserver, store):
    body = padded(MAX_JWKS_BYTES)
    assert len(body) == MAX_JWKS_BYTES
    httpserver.expect_request("/jwks.json").respond_with_data(body, content_type="application/json")
    assert store.key(httpserver.url_for("/jwks.json"), ISSUER_KID) == OLD


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip-bomb"])
def test_a_jwks_larger_than_the_size_cap_is_refused(httpserver, store, gzipped):
    body = padded(4 * MAX_JWKS_BYTES)
    headers = {}
    if gzipped:  # a few kilobytes on the wire, a megabyte once decoded
        body, headers = gzip.compress(body), {"Content-Encoding": "gzip"}
        assert len(body) < MAX_JWKS_BYTES / 10
    httpserver.expect_request("/jwks.json").respond_with_data(
        body, content_type="application/json", headers=headers
    )
    with pytest.raises(NoKey, match=f"larger than {MAX_JWKS_BYTES} bytes"):
        store.key(httpserver.url_for("/jwks.json"), ISSUER_KID)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (jwks({k: v for k, v in OLD.items() if k != "kid"}), "unique kid"),
        (jwks(OLD, {k: v for k, v in NEW.items() if k != "kid"}), "unique kid"),
        (jwks(OLD, {**NEW, "kid": ISSUER_KID}), "unique kid"),
        (jwks({**OLD, "kid": ""}), "unique kid"),
        (jwks({**OLD, "kid": 7}), "unique kid"),
        ({"keys": OLD}, "not a JWK Set"),
        ([OLD], "not a JWK Set"),
        ({"keys": [OLD, "a key"]}, "not a JWK Set"),
    ],
    ids=[
        "no-kid",
        "one-key-without-kid",
        "duplicate-kids",
        "empty-kid",
        "numeric-kid",
        "keys-not-a-list",
        "a-bare-list",
        "a-key-not-an-object",
    ],
)
def test_a_jwks_without_unique_kids_is_refused(httpserver, store, document, message):
    httpserver.expect_request("/jwks.json").respond_with_json(document)
    with pytest.raises(NoKey, match=message):
        store.key(httpserver.url_for("/jwks.json"), ISSUER_KID)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (404, "not here", "answered 404"),
        (200, "<html>keys</html>", "is not JSON"),
    ],
)
def test_a_jwks_endpoint_that_does_not_answer_a_jwks_is_refused(
    httpserver, store, status, body, message
):
    httpserver.expect_request("/jwks.json").respond_with_data(body, status=status)
    with pytest.raises(NoKey, match=message):
        store.key(httpserver.url_for("/jwks.json"), ISSUER_KID)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed(httpserver, store, status):
    httpserver.expect_request("/jwks.json").respond_with_data(
        "", status=status, headers={"Location": httpserver.url_for("/elsewhere.json")}
    )
    httpserver.expect_request("/elsewhere.json").respond_with_json(jwks(OLD))
    with pytest.raises(NoKey, match=f"answered {status}"):
        store.key(httpserver.url_for("/jwks.json"), ISSUER_KID)
    assert [request.path for request, _ in httpserver.log] == ["/jwks.json"]


def test_a_slow_jwks_endpoint_times_out(httpserver, monkeypatch):
    monkeypatch.setattr(keys, "TIMEOUT", (1.0, 0.2))
    session = requests.Session()

    def slow(_request: Request) -> Response:
        time.sleep(0.5)
        return Response(json.dumps(jwks(OLD)), content_type="application/json")

    httpserver.expect_request("/jwks.json").respond_with_handler(slow)
    with pytest.raises(NoKey, match="timed out"):  # it would have had a good answer later
        KeyStore(session).key(httpserver.url_for("/jwks.json"), ISSUER_KID)
    session.close()


class NoNetwork(requests.Session):
    """Fails the test if anything is sent at all."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def request(self, method, url, *args, **kwargs):
        self.urls.append(url)
        raise AssertionError(f"the key store tried to fetch {url}")


@pytest.mark.parametrize(
    "url",
    [
        "http://ehr.example.com/jwks.json",
        "http://10.0.0.5/jwks.json",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:8080/jwks.json",
        "http://localhost.attacker.example/jwks.json",
        "http://127.0.0.1.nip.io/jwks.json",
        "ftp://127.0.0.1/jwks.json",
        "file:///etc/passwd",
        "jwks.json",
    ],
)
def test_a_non_https_non_loopback_url_is_refused_without_network_access(url):
    session = NoNetwork()
    with pytest.raises(NoKey, match="must be https"):
        KeyStore(session).key(url, ISSUER_KID)
    assert session.urls == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_plain_http_on_loopback_is_allowed(httpserver, store, host):
    httpserver.expect_request("/jwks.json").respond_with_json(jwks(OLD))
    url = httpserver.url_for("/jwks.json").replace("localhost", host)
    assert store.key(url, ISSUER_KID) == OLD
