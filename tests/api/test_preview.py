"""The preview's helpers: the bundled patients, the request it builds, the feedback it shows.

The page itself is driven in a real browser in tests/browser; these check the routes.
"""

from __future__ import annotations

from cds_b12.hooks.fixtures import fixture_patients

from ..conformance import assert_valid_response
from .support import assert_operation_outcome, make_app

ISSUERS = {"https://ehr.example.org": {"jwks_url": "https://ehr.example.org/jwks.json"}}
R1 = "r1-pa-neuro-low-b12"


def _request(client, **body):
    return client.post(
        "/preview/request", json={"hook": "patient-view", "profile": "us", "patient": R1, **body}
    )


def test_patients_lists_every_bundled_fixture():
    patients = make_app().test_client().get("/preview/patients").get_json()
    assert {p["id"] for p in patients} == {f.patient_id for f in fixture_patients()}
    r1 = next(p for p in patients if p["id"] == R1)
    assert r1["rules"] == ["R1-start-neuro-loading"] and r1["hook"] == "patient-view"


def test_the_built_request_gets_the_fixture_cards_in_the_chosen_profile():
    client = make_app().test_client()
    for profile, source in (("us", "Stabler"), ("uk", "BNF")):
        built = _request(client, profile=profile).get_json()
        assert built["request"]["extension"] == {"cds-b12.profile": profile}
        answer = client.post(f"/cds-services/{built['service']}", json=built["request"])
        assert answer.status_code == 200
        assert_valid_response(answer.get_json())
        (card,) = answer.get_json()["cards"]
        assert card["indicator"] == "critical" and card["source"]["label"].startswith(source)


def test_editor_drafts_reach_the_order_hooks():
    client = make_app().test_client()
    built = _request(
        client,
        hook="order-sign",
        drafts=[
            {"kind": "b12", "product": "cyanocobalamin-im", "dose_mcg": 1000, "every": "month"},
            {"kind": "folic-acid"},
        ],
    ).get_json()
    assert built["service"] == "b12-order-sign"
    entries = built["request"]["context"]["draftOrders"]["entry"]
    assert len(entries) == 2
    answer = client.post("/cds-services/b12-order-sign", json=built["request"]).get_json()
    summaries = [c["summary"] for c in answer["cards"]]
    assert any(s.startswith("Check B12 before or with folic acid") for s in summaries)


def test_a_fhir_server_patient_is_requested_without_prefetch():
    built = _request(
        make_app().test_client(), patient="123", fhirServer="https://fhir.example.org/r4"
    ).get_json()["request"]
    assert "prefetch" not in built and built["fhirServer"] == "https://fhir.example.org/r4"
    assert built["context"]["patientId"] == "123"


def test_bad_preview_requests_are_400():
    client = make_app().test_client()
    assert "no bundled patient" in assert_operation_outcome(_request(client, patient="x"), 400)
    assert "hook must be" in assert_operation_outcome(_request(client, hook="x"), 400)
    assert "profile must be" in assert_operation_outcome(_request(client, profile="fr"), 400)
    bad = _request(client, hook="order-sign", drafts=[{"kind": "b12", "product": "x"}])
    assert "draft product" in assert_operation_outcome(bad, 400)


def test_feedback_shows_as_recorded():
    client = make_app().test_client()
    built = _request(client).get_json()
    card = client.post("/cds-services/b12-patient-view", json=built["request"]).get_json()["cards"][
        0
    ]
    assert client.get(f"/preview/feedback/{card['uuid']}").get_json()["feedback"] == []
    reason = card["overrideReasons"][0]
    client.post(
        "/cds-services/b12-patient-view/feedback",
        json={
            "feedback": [
                {
                    "card": card["uuid"],
                    "outcome": "overridden",
                    "overrideReason": {"reason": reason},
                    "outcomeTimestamp": "2026-11-21T10:00:00Z",
                }
            ]
        },
    )
    (shown,) = client.get(f"/preview/feedback/{card['uuid']}").get_json()["feedback"]
    assert shown["outcome"] == "overridden" and shown["reason"] == reason["code"]


def test_cards_link_to_the_timeline_in_local_development():
    client = make_app().test_client()
    built = _request(client).get_json()
    card = client.post("/cds-services/b12-patient-view", json=built["request"]).get_json()["cards"][
        0
    ]
    (link,) = card["links"]
    assert link["type"] == "absolute" and link["url"].endswith(f"/timeline?patient={R1}")


def test_preview_is_not_served_when_callers_must_authenticate():
    app = make_app(public_url="https://cds.example.org", trusted_issuers=ISSUERS)
    client = app.test_client()
    for path in ("/preview", "/preview/patients"):
        assert client.get(path).status_code == 401


MONTHLY_CYANOCOBALAMIN = {
    "kind": "b12",
    "product": "cyanocobalamin-im",
    "dose_mcg": 1000,
    "every": "month",
}


def test_an_editor_draft_is_changed_by_the_loading_card_not_doubled():
    client = make_app().test_client()
    built = _request(
        client,
        patient="r2-pa-low-b12",
        hook="order-sign",
        drafts=[MONTHLY_CYANOCOBALAMIN],
    ).get_json()
    (draft,) = [e["resource"] for e in built["request"]["context"]["draftOrders"]["entry"]]
    answer = client.post("/cds-services/b12-order-sign", json=built["request"]).get_json()
    assert_valid_response(answer)
    medication = [
        action
        for card in answer["cards"]
        for s in card.get("suggestions", [])
        for action in s["actions"]
        if action.get("resource", {}).get("resourceType") == "MedicationRequest"
    ]
    assert medication and {a["type"] for a in medication} == {"update"}
    assert {a["resource"]["id"] for a in medication} == {draft["id"]}
