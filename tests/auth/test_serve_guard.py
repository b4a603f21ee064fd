"""``cds-b12 serve`` refuses to listen beyond loopback unless callers are authenticated,
refuses issuers without the public URL their tokens' ``aud`` is checked against, and
refuses an inline key that must never verify a token."""

from __future__ import annotations

import json

import pytest

from cds_b12 import cli, serve

from ..serving import refused_serve, service_env
from .support import (
    ENC_JWK,
    ISS,
    ISSUER_PUBLIC_JWK,
    LEAKED_EC_JWK,
    LEAKED_RSA_JWK,
    OCT_JWK,
    P256_JWK,
    PUBLIC_URL,
    RSA_JWK,
    WEAK_RSA_JWK,
    issuer_config,
    jwks,
    private_prefixes,
)

# keys that must never verify a token, and what the refusal must say of each
UNUSABLE_KEYS = [
    (OCT_JWK, "symmetric"),
    (WEAK_RSA_JWK, "1024 bits"),
    ({"kty": "RSA", "kid": "no-modulus-kid", "e": "AQAB"}, "not a usable RSA public key"),
    ({**P256_JWK, "kid": "p256-as-es384-kid", "alg": "ES384"}, "a P-256 key signs ES256 only"),
    ({**P256_JWK, "kid": "secp256k1-kid", "crv": "secp256k1", "alg": "ES256K"}, "secp256k1"),
    ({"kty": "OKP", "kid": "ed25519-kid", "crv": "Ed25519", "x": P256_JWK["x"]}, "kty 'OKP'"),
    ({**RSA_JWK, "kid": "rsa-as-es256-kid", "alg": "ES256"}, "alg 'ES256': an RSA key signs RS"),
    (ENC_JWK, "has use 'enc'"),
    ({**RSA_JWK, "kid": "rsa-encrypt-kid", "key_ops": ["encrypt"]}, "key_ops without 'verify'"),
    (LEAKED_RSA_JWK, "private key (d, p, q, dp, dq, qi): the private part must be removed"),
    (LEAKED_EC_JWK, "private key (d): the private part must be removed"),
]


@pytest.fixture(autouse=True)
def _never_start_gunicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("serve() was reached: gunicorn would have started")

    monkeypatch.setattr(serve, "serve", refuse)


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "cds.example.org"])
def test_serving_beyond_loopback_without_issuers_is_refused(host, capsys):
    assert cli.main(["serve", "--host", host]) == 2
    line = error_line(capsys)
    assert line.startswith(f"cds-b12: error: refusing to serve on {host}")
    assert "CDS_B12_TRUSTED_ISSUERS" in line


def test_issuers_without_a_public_url_are_refused(monkeypatch, capsys):
    monkeypatch.setenv("CDS_B12_TRUSTED_ISSUERS", json.dumps({ISS: issuer_config()}))
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    line = error_line(capsys)
    assert line.startswith("cds-b12: error: ")
    assert "CDS_B12_PUBLIC_URL" in line and "required" in line


def test_a_bad_issuer_entry_is_refused_naming_the_issuer(monkeypatch, capsys):
    monkeypatch.setenv("CDS_B12_PUBLIC_URL", "https://cds.example.org")
    monkeypatch.setenv(
        "CDS_B12_TRUSTED_ISSUERS", json.dumps({ISS: issuer_config(algorithms=["HS256"])})
    )
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    line = error_line(capsys)
    assert line.startswith("cds-b12: error: CDS_B12_TRUSTED_ISSUERS")
    assert ISS in line and "HS256" in line


@pytest.mark.parametrize(("key", "said"), UNUSABLE_KEYS, ids=[k["kid"] for k, _ in UNUSABLE_KEYS])
def test_an_inline_key_that_must_never_verify_a_token_is_refused(monkeypatch, capsys, key, said):
    monkeypatch.setenv("CDS_B12_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv(
        "CDS_B12_TRUSTED_ISSUERS", json.dumps({ISS: {"jwks": jwks(ISSUER_PUBLIC_JWK, key)}})
    )
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    line = error_line(capsys)
    assert line.startswith("cds-b12: error: CDS_B12_TRUSTED_ISSUERS")
    assert ISS in line and key["kid"] in line and said in line
    assert OCT_JWK["k"] not in line  # the secret is not said back
    assert not any(prefix in line for prefix in private_prefixes(key))


@pytest.mark.parametrize(
    ("key", "said"),
    [(OCT_JWK, "symmetric"), (LEAKED_RSA_JWK, "the private part must be removed")],
    ids=["shared-secret", "private-key"],
)
def test_serve_refuses_a_secret_in_one_line_and_exit_2(key, said):
    """Through the real command: no traceback, nothing but the one line, no secret."""
    issuers = json.dumps({ISS: {"jwks": jwks(ISSUER_PUBLIC_JWK, key)}})
    proc = refused_serve(service_env(public_url=PUBLIC_URL, trusted_issuers=issuers), timeout=30)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("cds-b12: error: CDS_B12_TRUSTED_ISSUERS")
    assert key["kid"] in line and said in line and OCT_JWK["k"] not in line
    assert not any(prefix in proc.stderr + proc.stdout for prefix in private_prefixes(key))
