"""``/openapi.json`` describes what the service really accepts, and needs no token."""

from __future__ import annotations

from cds_b12.hooks.services import SERVICES

from .support import make_app

ISSUERS = {"https://ehr.example.org": {"jwks_url": "https://ehr.example.org/jwks.json"}}


def test_every_service_and_its_feedback_is_described():
    doc = make_app().test_client().get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    for service in SERVICES:
        post = doc["paths"][f"/cds-services/{service.id}"]["post"]
        assert set(post["responses"]) >= {"200", "400", "401", "404", "412", "413"}
        parts = post["requestBody"]["content"]["application/json"]["schema"]["allOf"]
        assert parts[1]["properties"]["hook"] == {"const": service.hook}
        assert f"/cds-services/{service.id}/feedback" in doc["paths"]


def test_request_schema_is_the_validating_model():
    schemas = make_app().test_client().get("/openapi.json").get_json()["components"]["schemas"]
    assert set(schemas["Envelope"]["required"]) == {"hook", "hookInstance", "context"}
    assert {"userId", "patientId", "draftOrders"} <= set(schemas["OrderSignContext"]["required"])
    assert schemas["Card"]["properties"]["summary"]["maxLength"] == 139


def test_the_document_is_open_when_callers_must_authenticate():
    app = make_app(public_url="https://cds.example.org", trusted_issuers=ISSUERS)
    client = app.test_client()
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/cds-services").status_code == 401
