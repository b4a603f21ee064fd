"""With authentication on, FHIR servers are https; plain http is allowed only to this
machine and only with ``CDS_B12_ALLOW_LOOPBACK_HTTP``; a listed server that can never be
contacted is named at start."""

from __future__ import annotations

import pytest

from ..api.support import assert_operation_outcome, make_app, serve_r1_patient
from .support import (
    ISS,
    SERVICE_PATH,
    auth_app,
    bearer,
    close,
    fetching_body,
    issuer_config,
    make_token,
)


def call(app, base: str):
    try:
        return app.test_client().post(
            SERVICE_PATH, json=fetching_body(base, "at-secret"), headers=bearer(make_token())
        )
    finally:
        close(app)


def never_contacted(logs) -> list[dict]:
    return [
        r for r in logs.records() if r["message"] == "a configured server can never be contacted"
    ]


def test_a_listed_http_server_on_loopback_is_used_when_explicitly_allowed(httpserver):
    base = serve_r1_patient(httpserver)
    app = auth_app({ISS: issuer_config(fhir_servers=[base])}, allow_loopback_http=True)
    response = call(app, base)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["cards"] and httpserver.log


def test_without_the_setting_it_is_refused_and_the_entry_is_named_at_start(httpserver, logs):
    base = serve_r1_patient(httpserver)
    app = auth_app({ISS: issuer_config(fhir_servers=[base])}, fhir_server_allowlist=(base,))
    assert "must use https" in assert_operation_outcome(call(app, base), 412)
    assert httpserver.log == []
    warned = never_contacted(logs)
    assert {w["setting"] for w in warned} == {
        "CDS_B12_FHIR_SERVER_ALLOWLIST",
        f"fhir_servers of {ISS}",
    }
    assert all(w["url"] == base and "CDS_B12_ALLOW_LOOPBACK_HTTP" in w["reason"] for w in warned)


def test_the_setting_never_opens_http_to_another_machine(logs):
    remote = "http://10.0.0.5:8080/fhir"
    app = auth_app({ISS: issuer_config(fhir_servers=[remote])}, allow_loopback_http=True)
    assert "only to this machine" in assert_operation_outcome(call(app, remote), 412)
    (warned,) = never_contacted(logs)
    assert warned["url"] == remote and "only to this machine" in warned["reason"]


@pytest.mark.parametrize(
    "entry", ["https://ehr.example.org\\@evil.example/fhir", "ehr.example.org/fhir", "ftp://x/fhir"]
)
def test_an_allowlist_entry_that_is_not_a_usable_url_is_named_at_start(entry, logs):
    make_app(fhir_server_allowlist=(entry,))
    (warned,) = never_contacted(logs)
    assert warned["url"] == entry


def test_good_entries_raise_no_warning(logs):
    auth_app(
        {ISS: issuer_config(fhir_servers=["https://ehr.example.org/fhir"])},
        fhir_server_allowlist=("https://fhir.example.org/r4",),
        smart_auth_servers=("https://authorization.example.org",),
    )
    make_app(fhir_server_allowlist=("http://127.0.0.1:8080/fhir",))  # auth off: http is fine
    assert never_contacted(logs) == []
