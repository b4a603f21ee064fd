"""The timeline routes: local data, and the SMART launch against a fake EHR on a real socket."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from werkzeug import Request, Response

from cds_b12.hooks.fixtures import find_fixture

from .support import TODAY, assert_operation_outcome, make_app

ISSUERS = {
    "https://ehr.example.org": {
        "jwks_url": "https://ehr.example.org/jwks.json",
        "fhir_servers": ["https://ehr.example.org/fhir"],
    }
}
MAINTENANCE = "r11-monthly-overdue"


def test_data_for_a_bundled_patient():
    data = make_app().test_client().get(f"/timeline/data?patient={MAINTENANCE}").get_json()
    resources, _ = find_fixture(MAINTENANCE).data(TODAY)
    given = sum(r["resourceType"] == "MedicationAdministration" for r in resources)
    assert data["patient"] == MAINTENANCE and len(data["doses"]) == given
    assert [s["kind"] for s in data["series"]] == ["B12", "MMA", "HB", "MCV"]
    assert data["phases"][0]["phase"] == "MAINTENANCE"


def test_page_and_data_are_local_development_only():
    client = make_app(public_url="https://cds.example.org", trusted_issuers=ISSUERS).test_client()
    assert client.get(f"/timeline?patient={MAINTENANCE}").status_code == 401
    assert client.get(f"/timeline/data?patient={MAINTENANCE}").status_code == 401


def test_unknown_patient_is_400():
    response = make_app().test_client().get("/timeline/data?patient=nobody")
    assert "no bundled patient" in assert_operation_outcome(response, 400)


def _fake_ehr(httpserver, patient: str = MAINTENANCE) -> str:
    """A SMART authorization server and FHIR server in one, serving the fixture patient."""
    base = httpserver.url_for("/fhir")
    httpserver.expect_request("/fhir/.well-known/smart-configuration").respond_with_json(
        {
            "authorization_endpoint": httpserver.url_for("/authorize"),
            "token_endpoint": httpserver.url_for("/token"),
        }
    )

    def token(request: Request) -> Response:
        form = request.form
        ok = form.get("code") == "the-code" and form.get("grant_type") == "authorization_code"
        body = {"access_token": "ehr-token-xyz", "token_type": "Bearer", "patient": patient}
        return Response(
            json.dumps(body if ok else {"error": "invalid_grant"}),
            status=200 if ok else 400,
            content_type="application/json",
        )

    httpserver.expect_request("/token", method="POST").respond_with_handler(token)
    resources, _ = find_fixture(patient).data(TODAY)
    by_type: dict[str, list[dict]] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(r)
    httpserver.expect_request(f"/fhir/Patient/{patient}").respond_with_json(by_type["Patient"][0])
    for kind in (
        "Observation",
        "MedicationRequest",
        "MedicationAdministration",
        "MedicationStatement",
        "Condition",
        "Procedure",
        "AllergyIntolerance",
    ):
        httpserver.expect_request(f"/fhir/{kind}").respond_with_json(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": r} for r in by_type.get(kind, [])],
            }
        )
    return base


def test_smart_launch_authorizes_then_draws_the_patient(httpserver):
    base = _fake_ehr(httpserver)
    client = make_app(smart_client_id="cds-b12-test").test_client()
    launch = client.get(f"/timeline/launch?iss={base}&launch=abc")
    assert launch.status_code == 302
    target = urlsplit(launch.headers["Location"])
    query = parse_qs(target.query)
    assert target.path == "/authorize" and query["client_id"] == ["cds-b12-test"]
    assert query["launch"] == ["abc"] and query["aud"] == [base]
    assert query["redirect_uri"] == ["http://localhost/timeline/callback"]

    page = client.get(f"/timeline/callback?code=the-code&state={query['state'][0]}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "ehr-token-xyz" not in html and "/*TIMELINE_DATA*/null" not in html
    fhir_calls = [
        r
        for r, _ in httpserver.log
        if r.path.startswith("/fhir/") and "smart-configuration" not in r.path
    ]
    assert fhir_calls and all(
        r.headers["Authorization"] == "Bearer ehr-token-xyz" for r in fhir_calls
    )
    assert f'"patient": "{MAINTENANCE}"' in html


def test_smart_callback_refuses_a_foreign_state_or_a_bad_code(httpserver):
    base = _fake_ehr(httpserver)
    client = make_app(smart_client_id="cds-b12-test").test_client()
    state = parse_qs(
        urlsplit(client.get(f"/timeline/launch?iss={base}&launch=abc").headers["Location"]).query
    )["state"][0]
    assert "state does not match" in assert_operation_outcome(
        client.get("/timeline/callback?code=the-code&state=forged"), 400
    )
    assert "did not give a token" in assert_operation_outcome(
        client.get(f"/timeline/callback?code=wrong&state={state}"), 412
    )
    fresh = make_app(smart_client_id="cds-b12-test").test_client()
    assert "launch again" in assert_operation_outcome(
        fresh.get(f"/timeline/callback?code=the-code&state={state}"), 400
    )


def test_smart_launch_needs_a_client_id_and_an_allowed_iss(httpserver):
    assert make_app().test_client().get("/timeline/launch?iss=x&launch=y").status_code == 404
    client = make_app(
        smart_client_id="c", public_url="https://cds.example.org", trusted_issuers=ISSUERS
    ).test_client()
    refused = client.get(f"/timeline/launch?iss={httpserver.url_for('/fhir')}&launch=y")
    assert "https" in assert_operation_outcome(refused, 400)
    assert not httpserver.log  # never contacted


def test_cards_carry_a_smart_link_when_the_service_is_a_smart_app():
    client = make_app(smart_client_id="cds-b12-test").test_client()
    built = client.post(
        "/preview/request", json={"hook": "patient-view", "profile": "us", "patient": MAINTENANCE}
    ).get_json()
    cards = client.post("/cds-services/b12-patient-view", json=built["request"]).get_json()
    (link,) = cards["cards"][0]["links"]
    assert link == {
        "label": link["label"],
        "url": "http://localhost/timeline/launch",
        "type": "smart",
    }
