"""The table of Authorization headers the front door must refuse (``ATTACKS``) or let
through (``GOOD``), one row per case, each attack with the reason the log must give.

Kept apart from the tests that run it (``test_tokens.py``): a new attack is one row
here, with the reason it must be refused.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass

from .support import (
    ATTACKER_EC_KEY,
    ATTACKER_RSA_KEY,
    DISCOVERY_AUD,
    FEEDBACK_AUD,
    ISS_ES256,
    ISS_OTHER,
    ISS_TENANTED,
    ISSUER_PUBLIC_JWK,
    ISSUER_PUBLIC_PEM,
    JKU_KEY,
    JKU_KID,
    OTHER_KID,
    P256_KID,
    PUBLIC_URL,
    RSA_KID,
    SERVICE_AUD,
    SERVICE_PATH,
    TENANT,
    claims,
    hmac_token,
    make_token,
    now,
    tampered,
    unsigned_token,
)


@dataclass(frozen=True)
class Urls:
    jku: str  # on ISS's jku allowlist, serving JKU_JWK
    attacker_jku: str  # on no allowlist, serving the attacker's key


@dataclass(frozen=True)
class Case:
    id: str
    authorization: Callable[[Urls], str | None]  # the Authorization header, or None
    reason: str = ""  # for attacks: what the server log must give as the reason


def signed(**kwargs: object) -> Callable[[Urls], str]:
    """A Bearer header for ``make_token(**kwargs)``, minted when the test runs."""
    return lambda _urls: f"Bearer {make_token(**kwargs)}"


ATTACKS = [
    Case("no-authorization-header", lambda u: None, "no Authorization header"),
    Case(
        "basic-scheme",
        lambda u: "Basic " + base64.b64encode(b"ehr:password").decode(),
        "Authorization is not a Bearer token",
    ),
    Case("bearer-without-a-token", lambda u: "Bearer", "Authorization is not a Bearer token"),
    Case(
        "token-without-the-bearer-scheme",
        lambda u: make_token(),
        "Authorization is not a Bearer token",
    ),
    Case("garbage-token", lambda u: "Bearer not-a-jwt-at-all", "malformed JWT"),
    Case("two-segments", lambda u: "Bearer " + make_token().rsplit(".", 1)[0], "malformed JWT"),
    Case(
        "alg-none-unsigned",
        lambda u: (
            "Bearer "
            + unsigned_token({"alg": "none", "typ": "JWT", "kid": "example-kid"}, claims())
        ),
        "algorithm 'none' not allowed",
    ),
    Case(
        "hs256-keyed-with-the-public-jwk-json",
        lambda u: "Bearer " + hmac_token(json.dumps(ISSUER_PUBLIC_JWK).encode()),
        "algorithm 'HS256' not allowed",
    ),
    Case(
        "hs256-keyed-with-the-public-key-pem",
        lambda u: "Bearer " + hmac_token(ISSUER_PUBLIC_PEM),
        "algorithm 'HS256' not allowed",
    ),
    Case(
        "hs384",
        lambda u: "Bearer " + hmac_token(b"a-shared-secret-" * 4, "HS384"),
        "algorithm 'HS384' not allowed",
    ),
    Case(
        "rs384-signed-by-a-key-the-issuer-lacks",
        signed(alg="RS384", key=ATTACKER_RSA_KEY, kid=RSA_KID),
        "InvalidSignatureError",
    ),
    Case(
        "es384-signed-by-an-attacker-key-with-the-same-kid",
        signed(key=ATTACKER_EC_KEY),
        "InvalidSignatureError",
    ),
    Case(
        "payload-tampered-after-signing",
        lambda u: "Bearer " + tampered(make_token(), tenant="another-org"),
        "InvalidSignatureError",
    ),
    Case(
        "rs384-header-naming-the-ec-key",
        signed(alg="RS384", key=ATTACKER_RSA_KEY),
        "key 'example-kid' is for 'ES384', not the token's 'RS384'",
    ),
    Case(
        "expired-beyond-the-leeway",
        lambda u: f"Bearer {make_token(exp=now() - 90)}",
        "ExpiredSignatureError",
    ),
    Case(
        "iat-in-the-future-beyond-the-leeway",
        lambda u: f"Bearer {make_token(iat=now() + 120, exp=now() + 420)}",
        "ImmatureSignatureError",
    ),
    Case(
        "nbf-in-the-future",
        lambda u: f"Bearer {make_token(nbf=now() + 200)}",
        "ImmatureSignatureError",
    ),
    Case("missing-exp", signed(omit=("exp",)), 'missing the "exp" claim'),
    Case("missing-iat", signed(omit=("iat",)), 'missing the "iat" claim'),
    Case("missing-jti", signed(omit=("jti",)), 'missing the "jti" claim'),
    Case("empty-jti", signed(jti=""), "jti is not a usable string"),
    Case("numeric-jti", signed(jti=12345), "InvalidJTIError"),
    Case(
        "aud-another-service",
        signed(aud=f"{PUBLIC_URL}/cds-services/b12-order-sign"),
        "InvalidAudienceError",
    ),
    Case(
        "aud-the-discovery-url-used-on-a-service", signed(aud=DISCOVERY_AUD), "InvalidAudienceError"
    ),
    Case(
        "aud-the-feedback-url-used-on-the-service", signed(aud=FEEDBACK_AUD), "InvalidAudienceError"
    ),
    Case(
        "aud-http-instead-of-https",
        signed(aud=SERVICE_AUD.replace("https://", "http://")),
        "InvalidAudienceError",
    ),
    Case(
        "aud-the-internal-host",
        signed(aud=f"http://cds-b12:8080{SERVICE_PATH}"),
        "InvalidAudienceError",
    ),
    Case(
        "aud-another-organisations-service",
        signed(aud=f"https://cds.attacker.example{SERVICE_PATH}"),
        "InvalidAudienceError",
    ),
    Case(
        "aud-array-without-our-url",
        signed(aud=[DISCOVERY_AUD, f"https://cds.attacker.example{SERVICE_PATH}"]),
        "InvalidAudienceError",
    ),
    Case("missing-aud", signed(omit=("aud",)), 'missing the "aud" claim'),
    Case(
        "untrusted-iss",
        signed(iss="https://ehr.attacker.example"),
        "untrusted issuer 'https://ehr.attacker.example'",
    ),
    Case("missing-iss", signed(omit=("iss",)), "untrusted issuer 'None'"),
    Case(
        "trusted-iss-unknown-kid",
        signed(kid="rotated-kid"),
        "no key 'rotated-kid' in the configured JWKS",
    ),
    Case(
        "kid-of-another-trusted-issuer",
        signed(iss=ISS_OTHER),
        "no key 'example-kid' in the configured JWKS",
    ),
    Case(
        "other-issuers-kid-signed-by-another-key",
        signed(iss=ISS_OTHER, kid=OTHER_KID),
        "InvalidSignatureError",
    ),
    Case("missing-kid", signed(kid=None), "header has no kid"),
    Case("typ-not-jwt", signed(typ="JOSE+JSON"), "header typ is not JWT"),
    Case("missing-typ", signed(typ=None), "header typ is not JWT"),
    Case(
        "jku-not-on-the-allowlist",
        lambda u: (
            "Bearer " + make_token(key=ATTACKER_EC_KEY, kid="attacker-kid", jku=u.attacker_jku)
        ),
        "is not on the issuer's allowlist",
    ),
    Case(
        "es256-where-the-issuer-allows-only-es384-rs384",
        signed(alg="ES256", kid=P256_KID),
        "algorithm 'ES256' not allowed",
    ),
    Case(
        "tenant-not-on-the-issuers-list",
        signed(iss=ISS_TENANTED, tenant="another-org"),
        "tenant 'another-org' not allowed",
    ),
    Case(
        "tenant-missing-where-the-issuer-lists-tenants",
        signed(iss=ISS_TENANTED),
        "tenant 'None' not allowed",
    ),
    Case(
        "exp-more-than-an-hour-away",
        lambda u: f"Bearer {make_token(exp=now() + 3600 + 120)}",
        "exp is more than an hour away",
    ),
]

GOOD = [
    Case("es384-spec-key", signed()),
    Case("lowercase-bearer-scheme", lambda u: f"bearer {make_token()}"),
    Case("rs384-rsa-key", signed(alg="RS384", kid=RSA_KID)),
    Case(
        "aud-array-containing-our-url",
        signed(aud=[DISCOVERY_AUD, SERVICE_AUD, "https://other.example/cds-services"]),
    ),
    Case(
        "jku-on-the-allowlist",
        lambda u: f"Bearer {make_token(key=JKU_KEY, kid=JKU_KID, jku=u.jku)}",
    ),
    Case(
        "exp-30s-ago-within-the-leeway",
        lambda u: f"Bearer {make_token(exp=now() - 30, iat=now() - 330)}",
    ),
    Case("iat-30s-ahead-within-the-leeway", lambda u: f"Bearer {make_token(iat=now() + 30)}"),
    Case("exp-an-hour-away", lambda u: f"Bearer {make_token(exp=now() + 3600)}"),
    Case("tenant-on-the-issuers-list", signed(iss=ISS_TENANTED, tenant=TENANT)),
    Case("es256-where-the-issuer-allows-it", signed(iss=ISS_ES256, alg="ES256", kid=P256_KID)),
]
