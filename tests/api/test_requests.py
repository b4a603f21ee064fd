"""``POST /cds-services/{id}``: malformed requests are 400s naming the field; routing errors."""

from __future__ import annotations

import copy

import pytest

from ..conformance import assert_valid_response
from .support import assert_operation_outcome, scenario_named, scenario_request

BASE = {
    "hook": "patient-view",
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "context": {"userId": "Practitioner/example", "patientId": "1288992"},
}
AUTH = {
    "access_token": "secret-token-123",
    "token_type": "Bearer",
    "expires_in": 300,
    "scope": "user/Patient.read",
    "subject": "cds-b12",
}


def without(body: dict, *path: str) -> dict:
    body = copy.deepcopy(body)
    *parents, last = path
    target = body
    for key in parents:
        target = target[key]
    del target[last]
    return body


def with_(body: dict, **fields: object) -> dict:
    return {**copy.deepcopy(body), **fields}


def context_with(**fields: object) -> dict:
    return with_(BASE, context={**BASE["context"], **fields})


def valid_request() -> tuple[str, dict]:
    return scenario_request(scenario_named("R1-start-neuro-loading"))


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"not json", "JSON object"),
        (b'{"hook": ', "JSON object"),
        (b"[]", "JSON object"),
        (b'[{"hook": "patient-view"}]', "JSON object"),
        (b"null", "JSON object"),
        (b'"patient-view"', "JSON object"),
        (b"", "JSON object"),
    ],
    ids=["text", "truncated", "empty-array", "array", "null", "string", "empty-body"],
)
def test_a_body_that_is_not_a_json_object_is_400(client, data, named):
    response = client.post(
        "/cds-services/b12-patient-view", data=data, content_type="application/json"
    )
    assert named in assert_operation_outcome(response, 400)


PV, SIGN, SELECT = "b12-patient-view", "b12-order-sign", "b12-order-select"
SERVER = "https://ehr.example/fhir"
INVALID = [
    pytest.param(PV, without(BASE, "hook"), "hook: required", id="no-hook"),
    pytest.param(PV, without(BASE, "hookInstance"), "hookInstance: required", id="no-hookInstance"),
    pytest.param(PV, without(BASE, "context"), "context: required", id="no-context"),
    pytest.param(PV, with_(BASE, hookInstance=12345), "hookInstance:", id="hookInstance-number"),
    pytest.param(PV, with_(BASE, hookInstance=""), "hookInstance:", id="hookInstance-empty"),
    pytest.param(PV, with_(BASE, hook=["patient-view"]), "hook:", id="hook-list"),
    pytest.param(PV, with_(BASE, context="patient 1288992"), "context:", id="context-string"),
    pytest.param(PV, with_(BASE, context=[BASE["context"]]), "context:", id="context-list"),
    pytest.param(
        PV, with_(BASE, prefetch=[{"resourceType": "Patient"}]), "prefetch:", id="prefetch-list"
    ),
    pytest.param(PV, with_(BASE, hook="order-sign"), "hook:", id="hook-of-another-service"),
    pytest.param(SIGN, BASE, "hook:", id="patient-view-hook-to-order-sign"),
    pytest.param(
        PV, with_(BASE, fhirAuthorization=AUTH), "fhirServer", id="authorization-without-server"
    ),
    pytest.param(
        PV,
        with_(BASE, fhirServer=SERVER, fhirAuthorization={**AUTH, "token_type": "MAC"}),
        "fhirAuthorization.token_type",
        id="token-type-not-bearer",
    ),
    pytest.param(
        PV,
        with_(
            BASE,
            fhirServer=SERVER,
            fhirAuthorization={k: v for k, v in AUTH.items() if k != "access_token"},
        ),
        "fhirAuthorization.access_token: required",
        id="no-access-token",
    ),
    pytest.param(
        PV, with_(BASE, fhirServer="ehr.example/fhir"), "fhirServer:", id="server-without-scheme"
    ),
    pytest.param(
        PV, with_(BASE, fhirServer="ftp://ehr.example/fhir"), "fhirServer:", id="server-ftp"
    ),
    pytest.param(PV, with_(BASE, fhirServer=42), "fhirServer:", id="server-number"),
    pytest.param(
        PV, without(BASE, "context", "patientId"), "context.patientId: required", id="no-patientId"
    ),
    pytest.param(
        PV, without(BASE, "context", "userId"), "context.userId: required", id="no-userId"
    ),
    pytest.param(PV, context_with(patientId=1288992), "context.patientId:", id="patientId-number"),
    pytest.param(PV, context_with(patientId=None), "context.patientId:", id="patientId-null"),
    pytest.param(
        SIGN,
        with_(BASE, hook="order-sign"),
        "context.draftOrders: required",
        id="order-sign-without-draftOrders",
    ),
    pytest.param(
        SELECT,
        with_(BASE, hook="order-select"),
        "context.draftOrders: required",
        id="order-select-without-draftOrders",
    ),
    pytest.param(
        SIGN,
        with_(context_with(draftOrders=["MedicationRequest/1"]), hook="order-sign"),
        "context.draftOrders:",
        id="draftOrders-list",
    ),
]


@pytest.mark.parametrize(("service", "body", "named"), INVALID)
def test_an_invalid_request_is_400_naming_the_field(client, service, body, named):
    response = client.post(f"/cds-services/{service}", json=body)
    assert named in assert_operation_outcome(response, 400)


def test_a_400_never_echoes_the_access_token(client):
    body = with_(
        BASE,
        fhirServer=SERVER,
        fhirAuthorization={**AUTH, "token_type": "MAC", "expires_in": "soon"},
    )
    response = client.post("/cds-services/b12-patient-view", json=body)
    assert_operation_outcome(response, 400)
    assert "secret-token-123" not in response.get_data(as_text=True)


def test_unknown_top_level_and_context_fields_are_ignored(client):
    service, body = valid_request()
    body["someFutureField"] = {"anything": [1, 2]}
    body["extension"] = {"org.example.timestamp": "2026-11-21T10:00:00Z"}
    body["context"]["someNewOptionalField"] = "x"
    body["context"]["encounterId"] = "89284"
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["cards"]
    assert_valid_response(response.get_json())


def test_bearer_token_type_is_case_insensitive(client):
    service, body = valid_request()
    body["fhirServer"] = SERVER
    body["fhirAuthorization"] = {**AUTH, "token_type": "bearer"}
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("suffix", ["", "/"])
def test_service_url_with_and_without_trailing_slash(client, suffix):
    service, body = valid_request()
    response = client.post(f"/cds-services/{service}{suffix}", json=body)
    assert response.status_code == 200
    assert_valid_response(response.get_json())


@pytest.mark.parametrize(
    "path",
    [
        "/cds-services/no-such-service",
        "/cds-services/no-such-service/feedback",
        "/cds-services/b12-patient-view/extra/feedback",
    ],
)
def test_unknown_service_is_404_operation_outcome(client, path):
    response = client.post(path, json=BASE)
    assert_operation_outcome(response, 404)


def test_unknown_service_id_is_not_reflected_at_length(client):
    long_id = "x" * 5000
    response = client.post(f"/cds-services/{long_id}", json=BASE)
    diagnostics = assert_operation_outcome(response, 404)
    assert len(diagnostics) < 300


def test_unknown_path_is_404_operation_outcome(client):
    assert_operation_outcome(client.get("/no-such-path"), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/cds-services/b12-patient-view",
        "/cds-services/b12-order-sign",
        "/cds-services/b12-patient-view/feedback",
    ],
)
def test_get_on_a_service_url_is_405_operation_outcome(client, path):
    response = client.get(path)
    assert_operation_outcome(response, 405)
    assert "POST" in response.headers["Allow"]


def test_body_over_the_size_limit_is_413_operation_outcome(client):
    response = client.post(
        "/cds-services/b12-patient-view",
        data=b"{" + b" " * (6 << 20),
        content_type="application/json",
    )
    assert_operation_outcome(response, 413)
