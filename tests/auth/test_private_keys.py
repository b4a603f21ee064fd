"""A JWKS key that carries its private part (RSA ``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``,
``oth``; EC and OKP ``d``) is a leaked private key. In an inline ``jwks`` it stops start-up
in one line naming the issuer and kid and saying the private part must be removed; in a
fetched JWKS it is left out with a warning, and nothing keeps it once the set is checked.
No message or log line holds a private member's value, whole or cut short."""

from __future__ import annotations

import gc
import json
import logging

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm

from cds_b12.auth.issuers import IssuerConfigError, parse_issuers
from cds_b12.auth.keys import KeyStore
from cds_b12.auth.verify import Unauthorized, Verifier

from .support import (
    ISS,
    ISSUER_PUBLIC_JWK,
    JKU_JWK,
    JKU_KEY,
    JKU_KID,
    LEAKED_EC_JWK,
    LEAKED_EC_KEY,
    LEAKED_RSA_JWK,
    LEAKED_RSA_KEY,
    FirstUseOnly,
    b64url,
    jwks,
    make_token,
    private_jwk,
    private_prefixes,
)

REMOVE = "the private part must be removed"
OTHER_PRIME = {"r": b64url(b"third-prime-r" * 8), "d": b64url(b"third-d" * 8), "t": b64url(b"t")}
LEAKED = [
    (LEAKED_RSA_JWK, "(d, p, q, dp, dq, qi)"),
    ({**{k: LEAKED_RSA_JWK[k] for k in ("kty", "n", "e", "d")}, "kid": "rsa-d-kid"}, "(d)"),
    ({**LEAKED_RSA_JWK, "kid": "rsa-oth-kid", "oth": [OTHER_PRIME]}, "qi, oth)"),
    (LEAKED_EC_JWK, "(d)"),
    (
        {
            **OKPAlgorithm.to_jwk(ed25519.Ed25519PrivateKey.generate(), as_dict=True),
            "kid": "ed25519-private-kid",
        },
        "(d)",
    ),
]


def assert_nothing_private_in(text: str) -> None:
    for key, _ in LEAKED:
        assert not any(prefix in text for prefix in private_prefixes(key))


@pytest.mark.parametrize(("key", "said"), LEAKED, ids=[k["kid"] for k, _ in LEAKED])
def test_an_inline_private_key_stops_start_up_and_is_not_said_back(key, said, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(IssuerConfigError) as exc:
        parse_issuers({ISS: {"jwks": jwks(ISSUER_PUBLIC_JWK, key)}})
    message = str(exc.value)
    assert message.startswith(f"{ISS}: jwks: key {key['kid']!r} ")
    assert REMOVE in message and said in message and "\n" not in message
    assert_nothing_private_in(message + caplog.text)


def test_a_fetched_private_key_is_left_out_and_never_logged(httpserver, logs, caplog):
    caplog.set_level(logging.DEBUG)
    httpserver.expect_request("/jwks.json").respond_with_json(
        jwks(*(key for key, _ in LEAKED), JKU_JWK)
    )
    url = httpserver.url_for("/jwks.json")
    verifier = Verifier(parse_issuers({ISS: {"jwks_url": url}}), KeyStore(), FirstUseOnly())
    good = make_token("aud", key=JKU_KEY, kid=JKU_KID)
    assert verifier.verify(f"Bearer {good}", "aud").issuer.iss == ISS
    for key, kid, alg in [
        (LEAKED_RSA_KEY, LEAKED_RSA_JWK["kid"], "RS384"),
        (LEAKED_EC_KEY, LEAKED_EC_JWK["kid"], "ES384"),
    ]:
        with pytest.raises(Unauthorized, match=f"no key '{kid}'"):
            verifier.verify(f"Bearer {make_token('aud', alg=alg, key=key, kid=kid)}", "aud")
    ignored = [r for r in logs.records() if r["message"] == "JWKS key ignored"]
    assert [r["kid"] for r in ignored] == [key["kid"] for key, _ in LEAKED]
    assert all(REMOVE in r["reason"] for r in ignored)
    assert_nothing_private_in(logs.text + caplog.text)


def holding(d: str) -> list[object]:
    """Every live dict or list that is, or directly holds, a JWK whose ``d`` is ``d``."""
    gc.collect()  # what only a reference cycle still holds is not kept
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            members = [obj, *obj.values()]
        elif isinstance(obj, list):
            members = obj
        else:
            continue
        if any(isinstance(m, dict) and m.get("d") == d for m in members):
            found.append(obj)
    return found


def test_a_fetched_private_key_is_not_kept_once_its_set_is_checked(httpserver):
    """The JWKS is served as text, so the only JWK holding this ``d`` is the fetched one."""
    leaked = private_jwk(rsa.generate_private_key(65537, 2048), "fresh-leaked-kid", "RS384")
    d = leaked["d"]
    httpserver.expect_request("/jwks.json").respond_with_data(
        json.dumps(jwks(leaked, JKU_JWK)), content_type="application/json"
    )
    del leaked
    url = httpserver.url_for("/jwks.json")
    verifier = Verifier(parse_issuers({ISS: {"jwks_url": url}}), KeyStore(), FirstUseOnly())
    good = make_token("aud", key=JKU_KEY, kid=JKU_KID)
    assert verifier.verify(f"Bearer {good}", "aud").issuer.iss == ISS
    assert holding(d) == []
