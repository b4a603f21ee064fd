"""A key that declares an ``alg`` verifies tokens of that algorithm only (RFC 8725 §3.1:
one algorithm per key), even when the issuer allows others the key could verify: an RSA
key for RS256 refuses an RS384 or PS256 token signed with it, with the bare 401 of every
refused token. A key that declares none verifies any allowed algorithm it fits. The same
holds for keys configured inline and for keys fetched from the issuer's ``jwks_url``.

Tokens are signed by hand with a real key pair, so each says exactly the ``alg`` it was
signed with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from jwt.algorithms import RSAAlgorithm

from .support import (
    ISS,
    P256_JWK,
    P256_KEY,
    P256_KID,
    RSA_KEY,
    SERVICE_PATH,
    assert_bare_401,
    assert_hook_did_not_run,
    auth_app,
    bearer,
    close,
    hand_signed,
    jwks,
    prefetched_body,
    public_jwk,
    refusals,
)

RS256_KID, ANY_ALG_KID = "rsa-rs256-kid", "rsa-any-alg-kid"
RS256_JWK = public_jwk(RSA_KEY, RS256_KID, "RS256")
# the same key pair, published with no alg: the token's alg decides, within the issuer's list
ANY_ALG_JWK = {**RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True), "kid": ANY_ALG_KID}
ALLOWED = ["RS256", "RS384", "PS256", "ES256", "ES384"]


@pytest.fixture(params=["inline", "fetched"])
def app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    keys = jwks(RS256_JWK, ANY_ALG_JWK, P256_JWK)
    if request.param == "inline":
        issuer = {"jwks": keys}
    else:
        server = request.getfixturevalue("httpserver")
        server.expect_request("/jwks.json").respond_with_json(keys)
        issuer = {"jwks_url": server.url_for("/jwks.json")}
    app = auth_app({ISS: {**issuer, "algorithms": ALLOWED}})
    yield app
    close(app)


def call(app: Flask, token: str):
    return app.test_client().post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token))


@pytest.mark.parametrize(
    ("key", "kid", "alg", "declared"),
    [
        (RSA_KEY, RS256_KID, "RS384", "RS256"),
        (RSA_KEY, RS256_KID, "PS256", "RS256"),
        (P256_KEY, P256_KID, "ES384", "ES256"),
    ],
    ids=["rs384-on-an-rs256-key", "ps256-on-an-rs256-key", "es384-on-an-es256-key"],
)
def test_a_token_of_another_alg_than_its_keys_is_a_bare_401(app, logs, key, kid, alg, declared):
    token = hand_signed(key, alg, kid)
    assert_bare_401(call(app, token))
    assert refusals(logs) == [f"key {kid!r} is for {declared!r}, not the token's {alg!r}"]
    assert_hook_did_not_run(logs)
    assert not any(part in logs.text for part in token.split(".")[1:])  # header is no secret


@pytest.mark.parametrize(
    ("key", "kid", "alg"),
    [
        (RSA_KEY, RS256_KID, "RS256"),
        (P256_KEY, P256_KID, "ES256"),
        *((RSA_KEY, ANY_ALG_KID, alg) for alg in ("RS256", "RS384", "PS256")),
    ],
    ids=["rs256-key", "es256-key", "no-alg-rs256", "no-alg-rs384", "no-alg-ps256"],
)
def test_a_token_of_its_keys_alg_or_one_of_a_key_naming_none_verifies(app, logs, key, kid, alg):
    response = call(app, hand_signed(key, alg, kid))
    assert response.status_code == 200, refusals(logs)
