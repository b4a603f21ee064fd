"""SSRF with authentication on: a caller's ``fhirServer`` is contacted only over https, and
only when it is on the allowlist or the caller's issuer's ``fhir_servers``; the access
token goes to that server and nowhere else (notes §8.5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from ..api.support import assert_operation_outcome, serve_r1_patient
from ..conformance import assert_valid_response
from ..serving import free_port
from .support import (
    ISS,
    ISS_TENANTED,
    JKU_JWK,
    JKU_KEY,
    JKU_KID,
    SERVICE_PATH,
    auth_app,
    bearer,
    fetching_body,
    issuer_config,
    jwks,
    make_token,
)

ACCESS_TOKEN = "at-secret-xyz"


def make(apps: list[Flask], ca_file: Path, issuers: dict, **settings: object) -> Flask:
    app = auth_app(issuers, **settings)
    app.extensions["cds_b12"].client.session.verify = str(ca_file)
    apps.append(app)
    return app


def call(app: Flask, base: str, token: str | None = None):
    return app.test_client().post(
        SERVICE_PATH, json=fetching_body(base, ACCESS_TOKEN), headers=bearer(token or make_token())
    )


def test_an_http_fhir_server_is_412_and_never_contacted_even_when_listed(httpserver, apps, ca_file):
    base = serve_r1_patient(httpserver)
    assert base.startswith("http://")
    app = make(
        apps, ca_file, {ISS: issuer_config(fhir_servers=[base])}, fhir_server_allowlist=(base,)
    )
    diagnostics = assert_operation_outcome(call(app, base), 412)
    assert "fhirServer must use https" in diagnostics
    assert httpserver.log == []


def test_an_https_server_on_no_list_is_412_and_never_contacted(https_server, apps, ca_file):
    base = serve_r1_patient(https_server)
    app = make(
        apps,
        ca_file,
        {ISS: issuer_config(fhir_servers=["https://ehr.example.com/fhir"])},
        fhir_server_allowlist=("https://fhir.example.org/r4",),
    )
    diagnostics = assert_operation_outcome(call(app, base), 412)
    assert "not on the allowlist" in diagnostics
    assert https_server.log == []


def test_with_no_server_configured_anywhere_none_is_contacted(https_server, apps, ca_file):
    base = serve_r1_patient(https_server)
    app = make(apps, ca_file, {ISS: issuer_config()})
    assert "no FHIR server is allowed" in assert_operation_outcome(call(app, base), 412)
    assert https_server.log == []


def test_one_issuers_fhir_server_is_not_open_to_another_issuer(https_server, apps, ca_file):
    base = serve_r1_patient(https_server)
    app = make(
        apps, ca_file, {ISS: issuer_config(), ISS_TENANTED: issuer_config(fhir_servers=[base])}
    )
    diagnostics = assert_operation_outcome(call(app, base), 412)
    assert "no FHIR server is allowed for this caller" in diagnostics
    assert https_server.log == []
    assert call(app, base, make_token(iss=ISS_TENANTED)).status_code == 200
    assert https_server.log


def test_an_https_server_on_the_issuers_list_is_attempted(apps, ca_file):
    base = f"https://127.0.0.1:{free_port()}/fhir"
    app = make(apps, ca_file, {ISS: issuer_config(fhir_servers=[base])})
    diagnostics = assert_operation_outcome(call(app, base), 412)
    assert "connection refused" in diagnostics or "cannot connect" in diagnostics
    assert "allowlist" not in diagnostics and "https" not in diagnostics


@pytest.mark.parametrize("listed_by", ["issuer", "allowlist"])
def test_an_allowed_https_server_is_used_with_the_access_token(
    https_server, apps, ca_file, listed_by
):
    base = serve_r1_patient(https_server)
    lists = {
        "issuer": ({ISS: issuer_config(fhir_servers=[base + "/"])}, ()),
        "allowlist": ({ISS: issuer_config()}, (base,)),
    }[listed_by]
    app = make(apps, ca_file, lists[0], fhir_server_allowlist=lists[1])
    response = call(app, base)
    assert response.status_code == 200, response.get_json()
    assert_valid_response(response.get_json())
    assert response.get_json()["cards"]
    sent = {request.headers.get("Authorization") for request, _ in https_server.log}
    assert sent == {f"Bearer {ACCESS_TOKEN}"}  # the access token, never the caller's JWT


def test_the_access_token_goes_to_the_fhir_server_and_nowhere_else(
    httpserver, https_server, apps, ca_file
):
    """Keys come from one server, data from another; a next link points at a third place."""
    httpserver.expect_request("/jwks.json").respond_with_json(jwks(JKU_JWK))
    httpserver.expect_request("/steal").respond_with_json({"resourceType": "Bundle"})
    base = serve_r1_patient(
        https_server,
        next_links={
            "Observation": httpserver.url_for("/steal"),
            "Condition": https_server.url_for("/outside-the-base/Condition?page=2"),
        },
    )
    app = make(
        apps, ca_file, {ISS: {"jwks_url": httpserver.url_for("/jwks.json"), "fhir_servers": [base]}}
    )
    jwt_token = make_token(key=JKU_KEY, kid=JKU_KID)
    response = call(app, base, jwt_token)
    assert response.status_code == 200, response.get_json()

    fhir_requests = [request for request, _ in https_server.log]
    assert fhir_requests and all(r.path.startswith("/fhir/") for r in fhir_requests)
    assert {r.headers.get("Authorization") for r in fhir_requests} == {f"Bearer {ACCESS_TOKEN}"}
    key_requests = [request for request, _ in httpserver.log]
    assert [r.path for r in key_requests] == ["/jwks.json"]
    for request in key_requests + fhir_requests:
        seen = f"{request.url} {dict(request.headers)} {request.get_data(as_text=True)}"
        assert jwt_token not in seen and jwt_token.rsplit(".", 1)[1] not in seen
    assert ACCESS_TOKEN not in f"{key_requests[0].url} {dict(key_requests[0].headers)}"
