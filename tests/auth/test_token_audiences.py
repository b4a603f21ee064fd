"""Which URL a token is for: discovery, the service and feedback each need a token whose
aud is their own URL (a trailing slash still matches), and what needs no token at all
(/healthz, the CORS preflight). An unknown service is not revealed without one.

A token minted for one endpoint must not open another (CDS Hooks 2.0 §Trusting CDS
Clients: aud is the URL being called).
"""

from __future__ import annotations

import pytest

from ..conformance import assert_valid_response
from .support import (
    DISCOVERY_AUD,
    FEEDBACK_AUD,
    FEEDBACK_BODY,
    ISS,
    ORIGIN,
    PUBLIC_URL,
    SERVICE,
    SERVICE_AUD,
    SERVICE_PATH,
    assert_bare_401,
    auth_app,
    bearer,
    make_token,
    prefetched_body,
)


def test_discovery_with_a_token_for_the_discovery_url():
    client = auth_app().test_client()
    response = client.get("/cds-services", headers=bearer(make_token(DISCOVERY_AUD)))
    assert response.status_code == 200
    assert SERVICE in {s["id"] for s in response.get_json()["services"]}
    assert_bare_401(client.get("/cds-services", headers=bearer(make_token(SERVICE_AUD))))


def test_feedback_with_a_token_for_the_feedback_url():
    client = auth_app().test_client()
    body = FEEDBACK_BODY
    response = client.post(
        f"{SERVICE_PATH}/feedback", json=body, headers=bearer(make_token(FEEDBACK_AUD))
    )
    assert response.status_code == 200 and response.get_json() == {}
    assert_bare_401(
        client.post(f"{SERVICE_PATH}/feedback", json=body, headers=bearer(make_token(SERVICE_AUD)))
    )


def test_a_service_call_with_a_token_for_the_service_url(logs):
    body = prefetched_body()
    response = (
        auth_app()
        .test_client()
        .post(SERVICE_PATH, json=body, headers=bearer(make_token(jti="jti-for-the-log")))
    )
    assert response.status_code == 200
    assert_valid_response(response.get_json())
    (line,) = logs.requests()
    assert (line["iss"], line["jti"], line["tenant"]) == (ISS, "jti-for-the-log", None)
    assert line["hookInstance"] == body["hookInstance"] and line["rules"]


@pytest.mark.parametrize(
    ("method", "path", "aud"),
    [
        ("POST", f"{SERVICE_PATH}/", SERVICE_AUD),
        ("GET", "/cds-services/", DISCOVERY_AUD),
        ("POST", f"{SERVICE_PATH}/feedback/", FEEDBACK_AUD),
    ],
    ids=["service", "discovery", "feedback"],
)
def test_a_trailing_slash_on_the_path_still_matches_the_aud(method, path, aud):
    body = FEEDBACK_BODY if "feedback" in path else prefetched_body()
    response = (
        auth_app()
        .test_client()
        .open(path, method=method, json=body, headers=bearer(make_token(aud)))
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def test_an_unknown_service_is_not_revealed_without_a_token():
    client = auth_app().test_client()
    assert_bare_401(
        client.post("/cds-services/no-such-service", json={}, headers={"Origin": ORIGIN})
    )
    response = client.post(
        "/cds-services/no-such-service",
        json={},
        headers=bearer(make_token(f"{PUBLIC_URL}/cds-services/no-such-service")),
    )
    assert response.status_code == 404


def test_healthz_needs_no_token():
    response = auth_app().test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/cds-services", SERVICE_PATH, f"{SERVICE_PATH}/feedback"])
def test_the_cors_preflight_needs_no_token(path):
    response = (
        auth_app()
        .test_client()
        .options(
            path,
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
    )
    assert 200 <= response.status_code < 300
    assert response.headers.get("Access-Control-Allow-Origin") in (ORIGIN, "*")
    assert "authorization" in response.headers.get("Access-Control-Allow-Headers", "").lower()
