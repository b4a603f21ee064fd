"""Which public keys may verify a token: RSA of 2048 bits or more naming an RS* or PS* alg
(or none), and EC on the curve its algorithm names (P-256 for ES256, P-384 for ES384, P-521
for ES512), either published for signatures (``use`` ``sig`` or none; ``key_ops``, if given,
naming ``verify``). Any other key, in an
inline ``jwks``, stops start-up naming the issuer and kid; in a fetched JWKS it is left out
with a warning that says why and never quotes the key. A token is refused if the key its
``kid`` names is on another curve than its ``alg`` signs with."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import OKPAlgorithm

from cds_b12.auth.issuers import IssuerConfigError, parse_issuers
from cds_b12.auth.keys import KeyStore
from cds_b12.auth.verify import Unauthorized, Verifier

from .support import (
    ENC_JWK,
    ENC_KEY,
    ENC_KID,
    ISS,
    ISSUER_PUBLIC_JWK,
    JKU_JWK,
    JKU_KEY,
    JKU_KID,
    RSA_JWK,
    FirstUseOnly,
    b64url,
    hand_signed,
    jwks,
    make_token,
    public_jwk,
)


def without(jwk: dict, *names: str) -> dict:
    return {k: v for k, v in jwk.items() if k not in names}


P384_KEY = ec.generate_private_key(ec.SECP384R1())
K1_JWK = public_jwk(ec.generate_private_key(ec.SECP256K1()), "secp256k1-kid", "ES256K")
P256_AS_ES384 = public_jwk(ec.generate_private_key(ec.SECP256R1()), "p256-es384-kid", "ES384")
P384_AS_RS384 = public_jwk(P384_KEY, "p384-rs384-kid", "RS384")
OFF_CURVE = {**public_jwk(P384_KEY, "off-curve-kid", "ES384"), "y": b64url(b"\x01" * 48)}
SHORT_X = {**public_jwk(P384_KEY, "short-x-kid", "ES384"), "x": b64url(b"\x01" * 20)}
NO_Y = without(public_jwk(P384_KEY, "no-y-kid", "ES384"), "y")
ED25519_JWK = {
    **OKPAlgorithm.to_jwk(ed25519.Ed25519PrivateKey.generate().public_key(), as_dict=True),
    "kid": "ed25519-kid",
    "alg": "EdDSA",
}
UNKNOWN_KTY = {"kty": "PQC", "kid": "unknown-kty-kid", "pub": b64url(b"\x02" * 32)}
NO_KTY = {"kid": "no-kty-kid", "x": b64url(b"\x03" * 32)}
RSA_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]

# keys that must never verify a token, and what the refusal must say of each
UNUSABLE = [
    (K1_JWK, "crv 'secp256k1'"),
    (without({**K1_JWK, "kid": "secp256k1-no-alg-kid"}, "alg"), "crv 'secp256k1'"),
    (without({**JKU_JWK, "kid": "no-crv-kid"}, "crv"), "crv None"),
    (P256_AS_ES384, "alg 'ES384': a P-256 key signs ES256 only"),
    (P384_AS_RS384, "alg 'RS384': a P-384 key signs ES384 only"),
    ({**RSA_JWK, "kid": "rsa-es256-kid", "alg": "ES256"}, "alg 'ES256': an RSA key signs RS"),
    ({**RSA_JWK, "kid": "rsa-hs256-kid", "alg": "HS256"}, "alg 'HS256': an RSA key signs RS"),
    ({**RSA_JWK, "kid": "rsa-none-kid", "alg": "none"}, "alg 'none': an RSA key signs RS"),
    (OFF_CURVE, "not a usable EC public key"),
    (SHORT_X, "not a usable EC public key"),
    (NO_Y, "not a usable EC public key"),
    (ENC_JWK, "has use 'enc': only a key for signatures (use sig) may verify tokens"),
    ({**RSA_JWK, "kid": "rsa-enc-kid", "use": "enc"}, "has use 'enc'"),
    ({**RSA_JWK, "kid": "rsa-use-list-kid", "use": ["sig"]}, "has use ['sig']"),
    ({**RSA_JWK, "kid": "rsa-encrypt-kid", "key_ops": ["encrypt"]}, "key_ops without 'verify'"),
    ({**JKU_JWK, "kid": "ec-sign-only-kid", "key_ops": ["sign"]}, "key_ops without 'verify'"),
    ({**JKU_JWK, "kid": "ec-no-ops-kid", "key_ops": []}, "key_ops without 'verify'"),
    ({**JKU_JWK, "kid": "ec-ops-string-kid", "key_ops": "verify"}, "key_ops without 'verify'"),
    (ED25519_JWK, "kty 'OKP'"),
    (UNKNOWN_KTY, "kty 'PQC'"),
    (NO_KTY, "kty None"),
]
KEY_MATERIAL = ("n", "x", "y", "pub")


@pytest.mark.parametrize(("key", "said"), UNUSABLE, ids=[k["kid"] for k, _ in UNUSABLE])
def test_an_inline_key_that_cannot_verify_a_token_stops_start_up(key, said):
    with pytest.raises(IssuerConfigError) as exc:
        parse_issuers({ISS: {"jwks": jwks(ISSUER_PUBLIC_JWK, key)}})
    message = str(exc.value)
    assert message.startswith(f"{ISS}: jwks: key {key['kid']!r}") and said in message
    assert "\n" not in message
    assert not any(key[name] in message for name in KEY_MATERIAL if name in key)


@pytest.mark.parametrize(
    ("curve", "alg"), [(ec.SECP256R1, "ES256"), (ec.SECP384R1, "ES384"), (ec.SECP521R1, "ES512")]
)
def test_an_ec_key_on_the_curve_of_its_alg_is_accepted(curve, alg):
    jwk = public_jwk(ec.generate_private_key(curve()), "kid", alg)
    for given in (jwk, without(jwk, "alg")):
        assert parse_issuers({ISS: {"jwks": jwks(given)}})[ISS].jwks == jwks(given)


@pytest.mark.parametrize("alg", [*RSA_ALGORITHMS, None])
def test_an_rsa_key_naming_an_rsa_alg_or_none_is_accepted(alg):
    given = {**RSA_JWK, "alg": alg} if alg else without(RSA_JWK, "alg")
    assert parse_issuers({ISS: {"jwks": jwks(given)}})[ISS].jwks == jwks(given)


@pytest.mark.parametrize(
    "published",
    [{"use": "sig"}, {"key_ops": ["verify"]}, {"use": "sig", "key_ops": ["sign", "verify"]}, {}],
    ids=["use-sig", "key-ops-verify", "both", "neither"],
)
def test_a_key_published_for_signatures_is_accepted(published):
    for key in (RSA_JWK, JKU_JWK):
        given = {**without(key, "use"), **published}
        assert parse_issuers({ISS: {"jwks": jwks(given)}})[ISS].jwks == jwks(given)


def test_a_fetched_key_that_cannot_verify_a_token_is_left_out_and_never_logged(httpserver, logs):
    bad = [key for key, _ in UNUSABLE]
    httpserver.expect_request("/jwks.json").respond_with_json(jwks(*bad, JKU_JWK))
    url = httpserver.url_for("/jwks.json")
    verifier = Verifier(parse_issuers({ISS: {"jwks_url": url}}), KeyStore(), FirstUseOnly())
    good = make_token("aud", key=JKU_KEY, kid=JKU_KID)
    assert verifier.verify(f"Bearer {good}", "aud").issuer.iss == ISS
    encryption_key = make_token("aud", key=ENC_KEY, kid=ENC_KID)
    with pytest.raises(Unauthorized, match=f"no key '{ENC_KID}'"):
        verifier.verify(f"Bearer {encryption_key}", "aud")
    ignored = [r for r in logs.records() if r["message"] == "JWKS key ignored"]
    assert [(r["kid"], r["url"]) for r in ignored] == [(key["kid"], url) for key in bad]
    for record, (_, said) in zip(ignored, UNUSABLE, strict=True):
        assert said in record["reason"]
    for key in bad:
        assert not any(key[name] in logs.text for name in KEY_MATERIAL if name in key)


@pytest.mark.parametrize(
    ("declared", "refused"),
    [("ES384", "is for 'ES384'"), (None, "curve")],  # a key naming its alg is checked first
    ids=["alg-ES384", "no-alg"],
)
@pytest.mark.parametrize("alg", ["ES256", "ES512"])
def test_a_token_whose_alg_is_not_its_keys_curve_is_refused(declared, refused, alg):
    jwk = public_jwk(P384_KEY, "p384-kid", "ES384")
    jwk = {**jwk, "alg": declared} if declared else without(jwk, "alg")
    issuers = parse_issuers({ISS: {"jwks": jwks(jwk), "algorithms": ["ES256", "ES384", "ES512"]}})
    verifier = Verifier(issuers, KeyStore(), FirstUseOnly())
    assert verifier.verify(f"Bearer {hand_signed(P384_KEY, 'ES384', 'p384-kid', 'aud')}", "aud")
    with pytest.raises(Unauthorized, match=refused):
        verifier.verify(f"Bearer {hand_signed(P384_KEY, alg, 'p384-kid', 'aud')}", "aud")
