"""The token check beyond the attack table: replay and the jti, keys fetched from a JWKS
URL once, claims of the wrong JSON type, and the latency the check adds to the request
log.

Each is a way the check could pass one token yet go wrong over several calls, or trip
on a token that is odd rather than hostile (that one still gets a bare 401, not a 500).
"""

from __future__ import annotations

import json
import time

import pytest
from werkzeug import Request, Response

from .support import (
    ATTACKER_EC_KEY,
    ISS,
    ISSUER_KID,
    JKU_JWK,
    JKU_KEY,
    JKU_KID,
    SERVICE_PATH,
    assert_bare_401,
    auth_app,
    bearer,
    claims,
    close,
    jwks,
    make_token,
    now,
    prefetched_body,
    refusals,
    unsigned_token,
)


def test_a_replayed_token_is_refused(logs):
    client = auth_app().test_client()
    token = make_token()
    assert (
        client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token)).status_code == 200
    )
    replayed = client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token))
    assert_bare_401(replayed)
    (reason,) = refusals(logs)
    assert reason.startswith("replayed jti")


def test_a_forged_token_does_not_use_up_its_jti():
    """The jti is recorded only once the signature is good, so a forger cannot burn the jti
    of a token the EHR is about to send."""
    client = auth_app().test_client()
    forged = make_token(key=ATTACKER_EC_KEY, jti="the-next-jti")
    assert_bare_401(client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(forged)))
    genuine = make_token(jti="the-next-jti")
    assert (
        client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(genuine)).status_code
        == 200
    )


def test_keys_from_a_jwks_url_are_fetched_once_and_cached(httpserver, logs):
    httpserver.expect_request("/keys.json").respond_with_json(jwks(JKU_JWK))
    app = auth_app({ISS: {"jwks_url": httpserver.url_for("/keys.json")}})
    try:
        client = app.test_client()
        for _ in range(3):
            response = client.post(
                SERVICE_PATH,
                json=prefetched_body(),
                headers=bearer(make_token(key=JKU_KEY, kid=JKU_KID)),
            )
            assert response.status_code == 200, refusals(logs)
        assert_bare_401(
            client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(make_token()))
        )  # example-kid: not there
        assert [r.path for r, _ in httpserver.log] == ["/keys.json"]
    finally:
        close(app)


@pytest.mark.parametrize("alg", [["ES384"], {"ES384": True}], ids=["list", "object"])
def test_an_alg_that_is_not_a_string_is_a_bare_401(alg, logs):
    token = unsigned_token({"alg": alg, "typ": "JWT", "kid": ISSUER_KID}, claims())
    response = (
        auth_app().test_client().post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token))
    )
    assert_bare_401(response)
    assert refusals(logs)


@pytest.mark.parametrize("claim", ["iat", "exp"])
def test_a_numeric_string_time_claim_is_a_bare_401(claim, logs):
    now_ = now()
    token = make_token(**{claim: str(now_ if claim == "iat" else now_ + 300)})
    response = (
        auth_app().test_client().post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token))
    )
    assert_bare_401(response)
    assert refusals(logs)


def test_the_request_log_latency_includes_the_token_check(httpserver, logs):
    def slow_keys(_request: Request) -> Response:
        time.sleep(0.3)
        return Response(json.dumps(jwks(JKU_JWK)), content_type="application/json")

    httpserver.expect_request("/slow-jwks.json").respond_with_handler(slow_keys)
    app = auth_app({ISS: {"jwks_url": httpserver.url_for("/slow-jwks.json")}})
    try:
        forged = make_token(key=ATTACKER_EC_KEY, kid=JKU_KID)
        assert_bare_401(
            app.test_client().post(SERVICE_PATH, json=prefetched_body(), headers=bearer(forged))
        )
    finally:
        close(app)
    (line,) = logs.requests()
    assert line["latency_ms"] >= 300
