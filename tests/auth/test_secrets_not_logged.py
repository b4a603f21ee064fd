"""Neither the caller's JWT nor the FHIR access token ever reaches a log line, at any level,
from the service or any library; the reason for a refusal always does (notes §8.3 11)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from ..api.support import serve_r1_patient
from ..serving import free_port
from .support import (
    ATTACKER_EC_KEY,
    DISCOVERY_AUD,
    ISS,
    JKU_JWK,
    JKU_KEY,
    JKU_KID,
    SERVICE_PATH,
    auth_app,
    bearer,
    claims,
    close,
    fetching_body,
    jwks,
    make_token,
    refusals,
    unsigned_token,
)

ACCESS_TOKEN = "at-secret-xyz"


@pytest.fixture
def app(httpserver, https_server, ca_file) -> Iterator[Flask]:
    """Debug logging; keys fetched from a JWKS URL; the https FHIR server on the issuer's list."""
    httpserver.expect_request("/jwks.json").respond_with_json(jwks(JKU_JWK))
    base = serve_r1_patient(https_server)
    app = auth_app(
        {ISS: {"jwks_url": httpserver.url_for("/jwks.json"), "fhir_servers": [base]}},
        log_level="DEBUG",
    )
    app.extensions["cds_b12"].client.session.verify = str(ca_file)
    yield app
    close(app)


def secret_parts(token: str) -> list[str]:
    """The whole token, and its payload and signature segments, each of which identifies it."""
    _header, payload, signature = token.split(".")
    return [token, payload, *([signature] if signature else [])]


def all_log_text(logs, caplog) -> str:
    text = logs.text + "\n" + caplog.text
    assert logs.lines and caplog.records
    return text


def test_a_good_call_with_a_fhir_fetch_logs_no_token(app, https_server, logs, everything_logged):
    client = app.test_client()
    token = make_token(key=JKU_KEY, kid=JKU_KID)
    base = https_server.url_for("/fhir")
    response = client.post(
        SERVICE_PATH, json=fetching_body(base, ACCESS_TOKEN), headers=bearer(token)
    )
    assert response.status_code == 200, response.get_json()
    assert {r.headers.get("Authorization") for r, _ in https_server.log} == {
        f"Bearer {ACCESS_TOKEN}"
    }  # the token really was in play
    # and a second call whose fetch fails: the error path must not log it either
    unreachable = f"https://127.0.0.1:{free_port()}/fhir"
    failing = make_token(key=JKU_KEY, kid=JKU_KID)
    assert (
        client.post(
            SERVICE_PATH, json=fetching_body(unreachable, ACCESS_TOKEN), headers=bearer(failing)
        ).status_code
        == 412
    )

    text = all_log_text(logs, everything_logged)
    assert any(r.name.startswith("urllib3") for r in everything_logged.records)  # DEBUG really on
    assert ACCESS_TOKEN not in text
    for part in secret_parts(token) + secret_parts(failing):
        assert part not in text
    ok_line = logs.requests()[0]
    assert ok_line["status"] == 200 and ok_line["iss"] == ISS and ok_line["fetched"]


def test_refused_tokens_are_not_logged_but_their_reasons_are(
    app, httpserver, logs, everything_logged
):
    client = app.test_client()
    replayed = make_token(key=JKU_KEY, kid=JKU_KID)
    refused = {
        "untrusted issuer": make_token(iss="https://ehr.attacker.example"),
        "InvalidSignatureError": make_token(key=ATTACKER_EC_KEY, kid=JKU_KID),
        "ExpiredSignatureError": make_token(key=JKU_KEY, kid=JKU_KID, exp=1_422_568_860),
        "InvalidAudienceError": make_token(DISCOVERY_AUD, key=JKU_KEY, kid=JKU_KID),
        "algorithm 'none' not allowed": unsigned_token(
            {"alg": "none", "typ": "JWT", "kid": JKU_KID}, claims()
        ),
        "not on the issuer's allowlist": make_token(
            key=ATTACKER_EC_KEY, kid="attacker", jku="https://attacker.example/jwks.json"
        ),
        "replayed jti": replayed,
    }
    assert (
        client.post(
            SERVICE_PATH, json=fetching_body(httpserver.url_for("/x")), headers=bearer(replayed)
        ).status_code
        == 412
    )  # accepted once (no data)
    for token in refused.values():
        response = client.post(
            SERVICE_PATH,
            json=fetching_body(httpserver.url_for("/x"), ACCESS_TOKEN),
            headers=bearer(token),
        )
        assert response.status_code == 401 and response.get_data() == b""

    reasons = refusals(logs)
    assert len(reasons) == len(refused)
    for expected, reason in zip(refused, reasons, strict=True):
        assert expected in reason
    text = all_log_text(logs, everything_logged)
    assert ACCESS_TOKEN not in text
    for token in refused.values():
        for part in secret_parts(token):
            assert part not in text
    for record in logs.records():
        if record["logger"] == "cds_b12.auth":
            assert set(record) == {"time", "level", "logger", "message", "reason", "path"}
