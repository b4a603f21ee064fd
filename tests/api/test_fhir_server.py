"""The fhirServer fallback as configured: only allow-listed servers are ever contacted."""

from __future__ import annotations

import pytest

from ..conformance import assert_valid_response
from .support import (
    TYPE_BY_KEY,
    assert_operation_outcome,
    make_app,
    scenario_named,
    scenario_request,
    serve_r1_patient,
)


@pytest.fixture
def fhir_base(httpserver) -> str:
    """A FHIR server holding one fixture patient, the R1 patient; returns its base URL."""
    return serve_r1_patient(httpserver)


def post_without_prefetch(app, base: str):
    service, body = scenario_request(scenario_named("R1-start-neuro-loading"))
    del body["prefetch"]
    body["fhirServer"] = base
    try:
        return app.test_client().post(f"/cds-services/{service}", json=body)
    finally:
        app.extensions["cds_b12"].client.session.close()


@pytest.mark.parametrize("allowed", [(), ("{base}",), ("https://other.example", "{base}/")])
def test_an_allowed_fhir_server_is_used(fhir_base, httpserver, allowed):
    app = make_app(fhir_server_allowlist=tuple(a.format(base=fhir_base) for a in allowed))
    response = post_without_prefetch(app, fhir_base)
    assert response.status_code == 200, response.get_json()
    assert_valid_response(response.get_json())
    assert response.get_json()["cards"]
    assert len(httpserver.log) == len(TYPE_BY_KEY)


def test_a_fhir_server_off_the_allowlist_is_412_and_never_contacted(fhir_base, httpserver):
    app = make_app(fhir_server_allowlist=("https://ehr.example/fhir",))
    response = post_without_prefetch(app, fhir_base)
    assert "allowlist" in assert_operation_outcome(response, 412)
    assert httpserver.log == []


def test_allowlist_from_the_environment(fhir_base, httpserver, monkeypatch):
    monkeypatch.setenv("CDS_B12_FHIR_SERVER_ALLOWLIST", '["https://ehr.example/fhir"]')
    assert_operation_outcome(post_without_prefetch(make_app(), fhir_base), 412)
    monkeypatch.setenv("CDS_B12_FHIR_SERVER_ALLOWLIST", f"https://ehr.example, {fhir_base}")
    assert post_without_prefetch(make_app(), fhir_base).status_code == 200
