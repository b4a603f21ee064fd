"""Hook calls answered from the prefetch alone: no FHIR server is needed or contacted."""

from __future__ import annotations

import copy

import pytest

from ..conformance import assert_valid_response
from .support import (
    assert_operation_outcome,
    clean_scenarios,
    make_app,
    scenario_named,
    scenario_request,
)

SCENARIOS = clean_scenarios()


@pytest.fixture
def no_fetch(monkeypatch):
    """Any attempt to reach a FHIR server fails the test."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the service fetched although the prefetch was complete")

    monkeypatch.setattr("cds_b12.hooks.fetch.FhirClient.fetch_all", refuse)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_full_prefetch_gives_the_expected_cards(scenario, logs, no_fetch):
    client = make_app(profile=scenario.profile).test_client()
    service, body = scenario_request(scenario)
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/json"
    result = response.get_json()
    assert_valid_response(result)
    (line,) = logs.requests()
    assert set(line["rules"]) == scenario.expect
    assert len(result["cards"]) == len(scenario.expect)
    assert line["fetched"] == []
    for card in result["cards"]:
        assert "not available" not in card.get("detail", ""), card["detail"]


def test_prefetch_with_required_keys_only_notes_what_is_missing(client, no_fetch):
    service, body = scenario_request(scenario_named("R2-start-standard-loading/pa-low-b12"))
    body["prefetch"] = {k: body["prefetch"][k] for k in ("patient", "labs")}
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200
    result = response.get_json()
    assert_valid_response(result)
    assert result["cards"]
    for card in result["cards"]:
        assert "medication orders: not available" in card["detail"]


def test_null_optional_prefetch_means_nothing_there_not_missing(client, no_fetch):
    service, body = scenario_request(scenario_named("R2-start-standard-loading/pa-low-b12"))
    for key in body["prefetch"]:
        if key not in ("patient", "labs"):
            body["prefetch"][key] = None
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200
    result = response.get_json()
    assert_valid_response(result)
    assert result["cards"]
    assert all("not available" not in c["detail"] for c in result["cards"])


def test_prefetch_patient_with_another_id_is_400(client, no_fetch):
    service, body = scenario_request(scenario_named("R1-start-neuro-loading"))
    body["prefetch"]["patient"] = {**body["prefetch"]["patient"], "id": "someone-else"}
    response = client.post(f"/cds-services/{service}", json=body)
    diagnostics = assert_operation_outcome(response, 400)
    assert "prefetch.patient" in diagnostics and "someone-else" in diagnostics


def test_another_patients_labs_in_the_prefetch_never_make_a_card(client, no_fetch):
    """The same low B12 under another patient's subject: left out, so no loading card."""
    service, body = scenario_request(scenario_named("R2-start-standard-loading/pa-low-b12"))
    for entry in body["prefetch"]["labs"]["entry"]:
        entry["resource"]["subject"] = {"reference": "Patient/someone-else"}
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200
    assert response.get_json()["cards"] == []


def test_another_patients_entry_beside_this_patients_own_is_said_on_the_card(client, no_fetch):
    service, body = scenario_request(scenario_named("R2-start-standard-loading/pa-low-b12"))
    labs = body["prefetch"]["labs"]["entry"]
    theirs = copy.deepcopy(labs[0])
    theirs["resource"]["id"] = "theirs"
    theirs["resource"]["subject"] = {"reference": "https://ehr.example/fhir/Patient/someone-else"}
    labs.append(theirs)
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    assert cards
    for card in cards:
        assert (
            "Observation/theirs: left out: it is another patient's record entry" in card["detail"]
        )
    assert "someone-else" not in response.get_data(as_text=True)


def test_no_prefetch_and_no_fhir_server_is_412(client, no_fetch):
    service, body = scenario_request(scenario_named("R1-start-neuro-loading"))
    del body["prefetch"]
    diagnostics = assert_operation_outcome(client.post(f"/cds-services/{service}", json=body), 412)
    assert "patient record" in diagnostics and "laboratory results" in diagnostics


def test_null_patient_prefetch_is_412(client, no_fetch):
    service, body = scenario_request(scenario_named("R1-start-neuro-loading"))
    body["prefetch"]["patient"] = None
    diagnostics = assert_operation_outcome(client.post(f"/cds-services/{service}", json=body), 412)
    assert "patient record" in diagnostics


@pytest.mark.parametrize(
    "path",
    [
        "assembled/patient-view-request-no-prefetch-no-fhirserver.json",
        "spec-2.0.1/patient-view-request.json",  # its one prefetch key is not one of ours
    ],
)
def test_official_examples_without_our_prefetch_or_a_fhir_server_are_412(
    client, no_fetch, official, path
):
    body = official(path)
    body.pop("fhirServer", None)
    body.pop("fhirAuthorization", None)
    assert_operation_outcome(client.post("/cds-services/b12-patient-view", json=body), 412)


def test_official_operation_outcome_prefetch_without_server_is_412(client, no_fetch, official):
    body = official("assembled/patient-view-request-operationoutcome-prefetch.json")
    body.pop("fhirServer")
    body.pop("fhirAuthorization")
    body["prefetch"] = {"patient": body["prefetch"]["patientToGreet"]}
    assert body["prefetch"]["patient"]["resourceType"] == "OperationOutcome"
    diagnostics = assert_operation_outcome(
        client.post("/cds-services/b12-patient-view", json=body), 412
    )
    assert "the client reported an error" in diagnostics
    assert "example prefetch error" not in diagnostics  # the EHR's own text is not relayed


@pytest.mark.parametrize(
    ("hook", "path"),
    [
        ("order-sign", "assembled/order-sign-request-r4.json"),
        ("order-select", "assembled/order-select-request-r4.json"),
    ],
)
def test_official_order_examples_with_a_prefetch_answer_200(client, no_fetch, official, hook, path):
    """Lenient draftOrders: the official R4 examples are not strictly valid FHIR."""
    body = official(path)
    body.pop("fhirServer", None)
    body.pop("fhirAuthorization", None)
    patient_id = body["context"]["patientId"]
    body["prefetch"] = {
        "patient": {"resourceType": "Patient", "id": patient_id},
        "labs": {"resourceType": "Bundle", "type": "searchset", "total": 0},
    }
    response = client.post(f"/cds-services/b12-{hook}", json=body)
    assert response.status_code == 200, response.get_json()
    assert_valid_response(response.get_json())
