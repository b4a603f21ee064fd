"""The JWT check against the keys and token the CDS Hooks world publishes (conformance).

They come from the official examples corpus (the ``cds_hooks_examples`` fixture):
the spec's ES384 key pair and its example token, and the public sandbox's JWKS.
Without the corpus these tests are skipped (or, under CI, the run fails); every
other authentication test uses the suite's own keys (``support.py``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import pytest
import requests
import urllib3

from cds_b12.auth.issuers import parse_issuers
from cds_b12.auth.keys import KeyStore

from .support import (
    ISS,
    ISSUER_KID,
    PUBLIC_URL,
    RSA_JWK,
    SERVICE_PATH,
    assert_bare_401,
    auth_app,
    bearer,
    close,
    jwks,
    make_token,
    prefetched_body,
    refusals,
)

ISS_SANDBOX = "https://sandbox.cds-hooks.org"


class OneDocument(requests.adapters.BaseAdapter):
    """Answers every request with one JSON document, without a network; records the URLs."""

    def __init__(self, document: dict) -> None:
        super().__init__()
        self.body = json.dumps(document).encode()
        self.urls: list[str] = []

    def send(self, request, **kwargs):
        self.urls.append(request.url)
        response = requests.Response()
        response.status_code, response.url, response.request = 200, request.url, request
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(self.body), status=200, preload_content=False
        )
        return response

    def close(self) -> None:
        pass


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def spec(cds_hooks_examples: Path) -> Path:
    return cds_hooks_examples / "spec-2.0.1"


def test_the_spec_example_token_is_validly_signed_but_expired(spec, logs):
    """jwt-example.txt verifies under jwks-public.json, so only its 2015 exp refuses it."""
    token = (spec / "jwt-example.txt").read_text(encoding="utf-8").strip()
    published = read_json(spec / "jwks-public.json")
    private = read_json(spec / "jwk-private.json")
    assert private["kid"] == published["keys"][0]["kid"] == ISSUER_KID
    header = jwt.get_unverified_header(token)
    aud = jwt.decode(token, options={"verify_signature": False})["aud"]
    payload = jwt.decode(
        token,
        jwt.PyJWK(published["keys"][0]),
        algorithms=["ES384"],
        audience=aud,
        options={"verify_exp": False},
    )
    assert (header["kid"], payload["iss"], urlsplit(aud).netloc) == (
        ISSUER_KID,
        ISS,
        urlsplit(PUBLIC_URL).netloc,
    )
    # the spec key is not configured, so it comes from the token's (allow-listed) jku
    app = auth_app({ISS: {"jwks": jwks(RSA_JWK), "jku_allowlist": [header["jku"]]}})
    key_server = OneDocument(published)
    session = requests.Session()
    session.mount("https://", key_server)
    app.extensions["cds_b12"].verifier.keys = KeyStore(session)  # the jku, served offline

    response = app.test_client().post(
        urlsplit(aud).path, json=prefetched_body(), headers=bearer(token)
    )
    assert_bare_401(response)
    (reason,) = refusals(logs)
    assert reason.startswith("ExpiredSignatureError")
    assert key_server.urls == [header["jku"]]  # the key was found: expiry alone refused it
    close(app)


def test_a_fresh_token_signed_with_the_spec_private_key_is_accepted(spec):
    key = jwt.algorithms.ECAlgorithm.from_jwk((spec / "jwk-private.json").read_text())
    app = auth_app({ISS: {"jwks": read_json(spec / "jwks-public.json")}})
    try:
        response = app.test_client().post(
            SERVICE_PATH, json=prefetched_body(), headers=bearer(make_token(key=key))
        )
        assert response.status_code == 200, response.get_data(as_text=True)
    finally:
        close(app)


def test_the_sandbox_configuration_in_the_readme_is_accepted(cds_hooks_examples):
    sandbox = read_json(cds_hooks_examples / "sandbox" / "sandbox-jwks.json")
    (issuer,) = parse_issuers({ISS_SANDBOX: {"jwks": sandbox}}).values()
    assert issuer.jwks == sandbox and issuer.jku_allowlist == ()


def test_the_sandbox_jwks_configures_an_issuer_and_its_kid_needs_its_key(cds_hooks_examples, logs):
    sandbox = read_json(cds_hooks_examples / "sandbox" / "sandbox-jwks.json")
    app = auth_app({ISS_SANDBOX: {"jwks": sandbox}})
    try:
        forged = make_token(iss=ISS_SANDBOX, kid=sandbox["keys"][0]["kid"])  # not its key
        response = app.test_client().post(
            SERVICE_PATH, json=prefetched_body(), headers=bearer(forged)
        )
        assert_bare_401(response)
        (reason,) = refusals(logs)
        assert reason.startswith("InvalidSignatureError")  # the key was found and parsed
    finally:
        close(app)
