"""Keys, tokens and apps for the authentication tests.

Every key is the suite's own, generated at import: tokens are signed with an ES384
issuer key (kid ``example-kid``, as in the spec's examples) unless a test needs
another: an RSA key for RS384, a P-256 key for ES256, a second trusted issuer's key,
and attacker keys that reuse the issuers' kids. The spec's published keys and the
sandbox's JWKS are conformance data: ``test_spec_examples.py`` uses them, nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import warnings
from collections.abc import Mapping
from typing import Any
from uuid import uuid4

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from flask import Flask

from ..api.support import (
    LogCapture,
    make_app,
    scenario_named,
    scenario_request,
)

ISSUER_KID = "example-kid"
# the real Redis the replay tests and the deployment topology share
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

PUBLIC_URL = "https://cds.example.org"
SERVICE = "b12-patient-view"
SERVICE_PATH = f"/cds-services/{SERVICE}"
DISCOVERY_AUD = f"{PUBLIC_URL}/cds-services"
SERVICE_AUD = f"{PUBLIC_URL}{SERVICE_PATH}"
FEEDBACK_AUD = f"{SERVICE_AUD}/feedback"
ORIGIN = "https://ehr.example.org"
FEEDBACK_BODY = {
    "feedback": [
        {
            "card": str(uuid4()),
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": str(uuid4())}],
            "outcomeTimestamp": "2026-11-21T09:31:05Z",
        }
    ]
}

ISS = "https://fhir-ehr.example.com/"  # the issuer of the spec's example token
ISS_TENANTED = "https://tenanted-ehr.example.com"
ISS_ES256 = "https://es256-ehr.example.com"
ISS_OTHER = "https://other-ehr.example.com"  # a second trusted issuer, with its own key
ISS_JWKS_URL = "https://fetched-keys-ehr.example.com"
TENANT = "2ddd6c3a-8e9a-44c6-a305-52111ad302a2"

RSA_KID, P256_KID, ENC_KID, JKU_KID = "rsa-kid", "p256-kid", "enc-kid", "jku-kid"
WEAK_RSA_KID = "rsa-1024-kid"

ISSUER_KEY = ec.generate_private_key(ec.SECP384R1())
OTHER_KEY, OTHER_KID = ec.generate_private_key(ec.SECP384R1()), "other-ehr-kid"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
P256_KEY = ec.generate_private_key(ec.SECP256R1())
ENC_KEY = ec.generate_private_key(ec.SECP384R1())  # published with use "enc", never "sig"
JKU_KEY = ec.generate_private_key(ec.SECP384R1())  # published only at an allow-listed jku
ATTACKER_EC_KEY = ec.generate_private_key(ec.SECP384R1())
ATTACKER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
WEAK_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # factorable
KEY_FOR_ALG = {"ES384": ISSUER_KEY, "RS384": RSA_KEY, "ES256": P256_KEY}


def public_jwk(private_key: Any, kid: str, alg: str, use: str = "sig") -> dict:
    return _jwk(private_key.public_key(), kid, alg, use)


def private_jwk(private_key: Any, kid: str, alg: str) -> dict:
    """The whole key pair as a JWK, private members and all: what an EHR leaks when it
    publishes the wrong export."""
    return _jwk(private_key, kid, alg, "sig")


def _jwk(key: Any, kid: str, alg: str, use: str) -> dict:
    rsa_key = isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)
    family = jwt.algorithms.RSAAlgorithm if rsa_key else jwt.algorithms.ECAlgorithm
    return {**family.to_jwk(key, as_dict=True), "kid": kid, "use": use, "alg": alg}


# the members only a private key has (RFC 7518 §6.3.2, §6.2.2; RFC 8037 §2)
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth")


def private_prefixes(jwk: Mapping[str, Any]) -> list[str]:
    """The first 12 characters of each private member's value (``oth``'s too): no message
    may hold one, so neither a whole value nor a truncated one is ever said."""
    values = [jwk[name] for name in PRIVATE_MEMBERS if name in jwk]
    values += [v for other in jwk.get("oth", []) for v in other.values()]
    return [v[:12] for v in values if isinstance(v, str)]


def jwks(*keys: dict) -> dict:
    return {"keys": list(keys)}


ISSUER_PUBLIC_JWK = public_jwk(ISSUER_KEY, ISSUER_KID, "ES384")
OTHER_JWKS = {"keys": [public_jwk(OTHER_KEY, OTHER_KID, "ES384")]}
RSA_JWK = public_jwk(RSA_KEY, RSA_KID, "RS384")
P256_JWK = public_jwk(P256_KEY, P256_KID, "ES256")
ENC_JWK = public_jwk(ENC_KEY, ENC_KID, "ES384", use="enc")
JKU_JWK = public_jwk(JKU_KEY, JKU_KID, "ES384")
# The issuer's keys as configured out of band: its ES384 key and an RSA key, plus a P-256
# key (so an ES256 token is refused for its algorithm, not for a missing key).
ISSUER_JWKS = jwks(ISSUER_PUBLIC_JWK, RSA_JWK, P256_JWK)
# Keys that must never verify a token, configured or fetched (ENC_JWK, and OCT_JWK below).
WEAK_RSA_JWK = public_jwk(WEAK_RSA_KEY, WEAK_RSA_KID, "RS384")
# Key pairs published whole, private part and all (what a wrong export leaks): such a key
# must never verify a token, and no message may say any of its private members back.
LEAKED_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
LEAKED_EC_KEY = ec.generate_private_key(ec.SECP384R1())
LEAKED_RSA_JWK = private_jwk(LEAKED_RSA_KEY, "leaked-rsa-kid", "RS384")
LEAKED_EC_JWK = private_jwk(LEAKED_EC_KEY, "leaked-ec-kid", "ES384")
ISSUER_PUBLIC_PEM = ISSUER_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def now() -> int:
    """The time now in whole seconds, as JWT time claims carry it."""
    return int(time.time())


def claims(
    aud: str | list[str] | None = SERVICE_AUD, *, omit: tuple[str, ...] = (), **overrides: object
) -> dict:
    """A good payload for ``aud``, ``overrides`` applied and the ``omit`` claims removed."""
    now = int(time.time())
    payload = {
        "iss": ISS,
        "aud": aud,
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid4()),
        **overrides,
    }
    return {k: v for k, v in payload.items() if k not in omit}


def make_token(
    aud: str | list[str] | None = SERVICE_AUD,
    *,
    alg: str = "ES384",
    key: Any = None,
    kid: str | None = ISSUER_KID,
    typ: str | None = "JWT",
    jku: str | None = None,
    omit: tuple[str, ...] = (),
    **overrides: object,
) -> str:
    """A signed JWT as a CDS client sends it; by default a good one for the service call."""
    headers: dict[str, Any] = {"typ": typ}  # PyJWT drops a typ of None
    if kid is not None:
        headers["kid"] = kid
    if jku is not None:
        headers["jku"] = jku
    return jwt.encode(
        claims(aud, omit=omit, **overrides), key or KEY_FOR_ALG[alg], algorithm=alg, headers=headers
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# a shared secret: whoever holds it can sign, so it may never verify a token either
OCT_SECRET = b"a secret the EHR shares with whoever reads its configuration"
OCT_JWK = {"kty": "oct", "kid": "shared-secret-kid", "alg": "HS256", "k": b64url(OCT_SECRET)}


def segment(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


_DIGESTS = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def hand_signed(private_key: Any, alg: str, kid: str, aud: str = SERVICE_AUD) -> str:
    """A good token signed by cryptography itself with ``alg``'s hash and padding, whatever
    the key: PyJWT will not sign with an EC key off ``alg``'s curve, and the token says
    exactly the ``alg`` it was signed with, whatever the key's JWK declares."""
    digest = _DIGESTS[alg[2:]]()
    signing_input = f"{segment({'alg': alg, 'typ': 'JWT', 'kid': kid})}.{segment(claims(aud))}"
    data = signing_input.encode()
    if alg.startswith("ES"):
        r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(digest)))
        size = (private_key.curve.key_size + 7) // 8
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    else:  # RS* pads by PKCS #1 v1.5, PS* by PSS salted with the hash's length (RFC 7518 §3.5)
        pss = padding.PSS(padding.MGF1(digest), digest.digest_size)
        signature = private_key.sign(data, padding.PKCS1v15() if alg[0] == "R" else pss, digest)
    return f"{signing_input}.{b64url(signature)}"


def weak_key_token(aud: str = SERVICE_AUD) -> str:
    """Signed with a 1024-bit key: PyJWT signs it with a warning, which is the point here,
    not a test failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        return make_token(aud, alg="RS384", key=WEAK_RSA_KEY, kid=WEAK_RSA_KID)


def unsigned_token(header: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    """``header.payload.`` with an empty signature (what ``alg: none`` looks like)."""
    return f"{segment(header)}.{segment(payload)}."


def hmac_token(secret: bytes, alg: str = "HS256", **overrides: object) -> str:
    """Signed by hand: PyJWT itself refuses to use a public key as an HMAC secret."""
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    signing_input = (
        f"{segment({'alg': alg, 'typ': 'JWT', 'kid': ISSUER_KID})}.{segment(claims(**overrides))}"
    )
    signature = hmac.new(secret, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url(signature)}"


def tampered(token: str, **changes: object) -> str:
    """The token with its payload changed after signing, the signature kept."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{segment({**data, **changes})}.{signature}"


class FirstUseOnly:
    """A replay store for one process, at the verifier's seam (the service's own are the
    database and Redis)."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def first_use(self, scope: str, value: str, expires_at: float) -> bool:
        if (scope, value) in self.seen:
            return False
        self.seen.add((scope, value))
        return True


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Origin": ORIGIN}


def issuer_config(**extra: object) -> dict:
    return {"jwks": ISSUER_JWKS, **extra}


def auth_app(issuers: Mapping[str, Any] | None = None, **settings: object) -> Flask:
    """The service with authentication on: ``ISS`` trusted with its keys given inline."""
    return make_app(
        public_url=PUBLIC_URL, trusted_issuers=dict(issuers or {ISS: issuer_config()}), **settings
    )


def close(app: Flask) -> None:
    """Close the app's pool of connections to FHIR servers."""
    app.extensions["cds_b12"].client.session.close()


def prefetched_body() -> dict:
    """A patient-view call for the R1 fixture patient with every prefetch key answered."""
    service, body = scenario_request(scenario_named("R1-start-neuro-loading"))
    assert service == SERVICE
    return body


def fetching_body(base: str, access_token: str | None = None) -> dict:
    """The same call without prefetch, so everything must come from ``base``."""
    body = prefetched_body()
    del body["prefetch"]
    body["fhirServer"] = base
    if access_token is not None:
        body["fhirAuthorization"] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/*.read",
            "subject": "cds-b12",
        }
    return body


def assert_bare_401(response) -> None:
    """A refusal says nothing: 401, empty body, a Bearer challenge, and CORS still on."""
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.get_data() == b""
    assert response.headers.get("WWW-Authenticate") == "Bearer"
    assert response.headers.get("Access-Control-Allow-Origin") in (ORIGIN, "*")


def refusals(logs: LogCapture) -> list[str]:
    """The logged reasons for refused tokens, in order."""
    return [
        r["reason"]
        for r in logs.records()
        if r["logger"] == "cds_b12.auth" and r["message"] == "authentication refused"
    ]


def assert_hook_did_not_run(logs: LogCapture) -> None:
    (line,) = logs.requests()
    assert line["status"] == 401 and line["auth"] == "refused"
    assert not {"service", "hook", "rules", "cards", "fetched", "iss", "jti"} & set(line)
