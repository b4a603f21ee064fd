"""A JWKS endpoint that fails, truncates or drips fails closed, and alone.

Any failure to get keys is a bare 401 for that call, never a 500; a fetch has a
total deadline, not only a read timeout; one issuer's slow key endpoint holds up
no other issuer; a failure is cached briefly, so a burst of calls makes one fetch;
and configured keys are used before a token's ``jku``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial

import pytest
import requests

from cds_b12.auth import keys
from cds_b12.auth.issuers import parse_issuers
from cds_b12.auth.keys import KeyStore, NoKey
from cds_b12.auth.verify import Unauthorized, Verifier

from ..net.support import DroppingServer, Scripted, drip, truncated
from .support import (
    ISS,
    ISSUER_KID,
    ISSUER_PUBLIC_JWK,
    JKU_JWK,
    JKU_KEY,
    JKU_KID,
    OCT_JWK,
    SERVICE_PATH,
    WEAK_RSA_JWK,
    FirstUseOnly,
    assert_bare_401,
    auth_app,
    bearer,
    close,
    issuer_config,
    jwks,
    make_token,
    prefetched_body,
    refusals,
    weak_key_token,
)

SLOW, FAST, INLINE = "https://slow-keys.example", "https://fast-keys.example", ISS


@pytest.fixture
def scripted() -> Iterator[list[Scripted]]:
    made: list[Scripted] = []
    yield made
    for server in made:
        server.close()


def serve(made: list[Scripted], script) -> Scripted:
    made.append(Scripted(script))
    return made[-1]


def test_a_truncated_jwks_is_a_bare_401_and_a_burst_makes_one_fetch(scripted, logs):
    server = serve(scripted, truncated)
    app = auth_app({ISS: {"jwks_url": server.url("/jwks.json")}})
    try:
        client = app.test_client()
        for _ in range(4):
            assert_bare_401(
                client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(make_token()))
            )
    finally:
        close(app)
    assert server.connections == 1  # the failure is remembered for a few seconds
    first, *rest = refusals(logs)
    assert "cut short" in first and all("no key" in reason for reason in rest)


def test_a_dripping_jwks_is_cut_off_at_the_fetch_deadline(scripted, monkeypatch):
    monkeypatch.setattr(keys, "DEADLINE_SECONDS", 1.0)
    server = serve(scripted, drip)
    with pytest.raises(NoKey, match="no answer"):
        KeyStore().key(server.url("/jwks.json"), ISSUER_KID)
    server.wait_idle()  # the connection was shut, not left to drip
    assert not [t for t in threading.enumerate() if t.name.startswith("http-")]


def test_a_slow_jwks_holds_up_no_other_issuer(scripted, httpserver):
    """While one issuer's first key fetch drips, another issuer's first fetch and an
    inline-key issuer's calls are verified."""
    slow = serve(scripted, partial(drip, every=0.5))
    httpserver.expect_request("/jwks.json").respond_with_json(jwks(JKU_JWK))
    verifier = Verifier(
        parse_issuers(
            {
                SLOW: {"jwks_url": slow.url("/jwks.json")},
                FAST: {"jwks_url": httpserver.url_for("/jwks.json")},
                INLINE: issuer_config(),
            }
        ),
        KeyStore(),
        FirstUseOnly(),
    )
    outcome: list[BaseException] = []

    def slow_call() -> None:
        try:
            verifier.verify(
                f"Bearer {make_token('aud', iss=SLOW, key=JKU_KEY, kid=JKU_KID)}", "aud"
            )
        except BaseException as exc:
            outcome.append(exc)

    stuck = threading.Thread(target=slow_call)
    stuck.start()
    slow.wait_open()
    fast = verifier.verify(f"Bearer {make_token('aud', iss=FAST, key=JKU_KEY, kid=JKU_KID)}", "aud")
    inline = verifier.verify(f"Bearer {make_token('aud')}", "aud")
    assert (fast.issuer.iss, inline.issuer.iss) == (FAST, INLINE)
    assert stuck.is_alive() and slow.open == 1  # the slow fetch was still dripping meanwhile
    stuck.join(timeout=30)
    assert not stuck.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Unauthorized)


def test_only_a_few_calls_wait_for_one_slow_jwks(scripted):
    slow = serve(scripted, partial(drip, every=0.5))
    store = KeyStore()
    errors: list[str] = []

    def fetch() -> None:
        try:
            store.key(slow.url("/jwks.json"), ISSUER_KID)
        except NoKey as exc:
            errors.append(str(exc))

    callers = [threading.Thread(target=fetch) for _ in range(keys.MAX_WAITING + 4)]
    callers[0].start()
    slow.wait_open()
    for caller in callers[1:]:
        caller.start()
    for caller in callers[keys.MAX_WAITING :]:  # the ones that could not wait return now
        caller.join(timeout=30)
    assert sum("already waiting" in e for e in errors) >= 3
    assert slow.open == 1
    for caller in callers:
        caller.join(timeout=30)
    assert slow.connections == 1


def test_a_configured_key_is_used_and_the_tokens_jku_ignored(logs):
    """The public CDS Hooks Sandbox always sends its jku; with its key set configured
    inline, its tokens verify without the jku being on any allowlist or fetched."""
    app = auth_app({ISS: issuer_config()})
    fetched: list[str] = []
    app.extensions["cds_b12"].verifier.keys = KeyStore(_Recording(fetched))
    try:
        token = make_token(jku="https://sandbox.cds-hooks.org/.well-known/jwks.json")
        response = app.test_client().post(
            SERVICE_PATH, json=prefetched_body(), headers=bearer(token)
        )
    finally:
        close(app)
    assert response.status_code == 200, refusals(logs)
    assert fetched == []


def test_a_jku_is_used_only_for_a_kid_that_is_not_configured_and_only_if_allowed(httpserver):
    httpserver.expect_request("/jwks.json").respond_with_json(jwks(JKU_JWK))
    jku = httpserver.url_for("/jwks.json")
    token = partial(make_token, "aud", key=JKU_KEY, kid=JKU_KID, jku=jku)
    refused = Verifier(parse_issuers({ISS: issuer_config()}), KeyStore(), FirstUseOnly())
    with pytest.raises(Unauthorized, match="not on the issuer's allowlist"):
        refused.verify(f"Bearer {token()}", "aud")
    assert httpserver.log == []
    allowed = Verifier(
        parse_issuers({ISS: issuer_config(jku_allowlist=[jku])}), KeyStore(), FirstUseOnly()
    )
    assert allowed.verify(f"Bearer {token()}", "aud").issuer.iss == ISS
    assert len(httpserver.log) == 1


def test_a_fetched_key_that_must_never_verify_a_token_is_ignored_and_logged(httpserver, logs):
    """A shared secret or a 1024-bit RSA key in an issuer's JWKS is left out of its keys
    (a warning names each), and the rest of the set still serves."""
    httpserver.expect_request("/jwks.json").respond_with_json(jwks(OCT_JWK, WEAK_RSA_JWK, JKU_JWK))
    issuers = parse_issuers({ISS: {"jwks_url": httpserver.url_for("/jwks.json")}})
    verifier = Verifier(issuers, KeyStore(), FirstUseOnly())
    good = make_token("aud", key=JKU_KEY, kid=JKU_KID)
    assert verifier.verify(f"Bearer {good}", "aud").issuer.iss == ISS
    weak = weak_key_token("aud")
    with pytest.raises(Unauthorized, match=f"no key '{WEAK_RSA_JWK['kid']}'"):
        verifier.verify(f"Bearer {weak}", "aud")
    assert len(httpserver.log) == 1  # the unknown kid is not refetched within the minute
    ignored = [r for r in logs.records() if r["message"] == "JWKS key ignored"]
    assert [(r["kid"], r["url"]) for r in ignored] == [
        (OCT_JWK["kid"], httpserver.url_for("/jwks.json")),
        (WEAK_RSA_JWK["kid"], httpserver.url_for("/jwks.json")),
    ]
    assert "symmetric" in ignored[0]["reason"] and "1024 bits" in ignored[1]["reason"]
    for secret in (OCT_JWK["k"], good, weak):
        assert secret not in logs.text


class _Recording(requests.Session):
    def __init__(self, urls: list[str]) -> None:
        super().__init__()
        self.urls = urls

    def request(self, method, url, *args, **kwargs):
        self.urls.append(url)
        raise AssertionError(f"fetched {url}")


def test_a_rotated_key_is_fetched_when_the_idle_connection_was_dropped(monkeypatch):
    """The key endpoint closed the kept-alive connection while the keys were cached; the
    refetch for a new ``kid`` goes out again on a new connection rather than failing."""
    monkeypatch.setattr(keys, "REFETCH_SECONDS", 0.0)
    server = DroppingServer(json.dumps(jwks(ISSUER_PUBLIC_JWK)).encode())
    try:
        store = KeyStore()
        url = server.url("/jwks.json")
        assert store.key(url, ISSUER_KID) == ISSUER_PUBLIC_JWK
        server.body = json.dumps(jwks(ISSUER_PUBLIC_JWK, JKU_JWK)).encode()
        assert store.key(url, JKU_KID) == JKU_JWK
    finally:
        server.close()
    assert (server.connections, server.requests) == (2, 3)
