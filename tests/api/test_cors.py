"""CORS for browser clients (the sandbox): preflight without auth, headers on every answer,
only on the CDS Hooks endpoints, and by default no other web origin while auth is off."""

from __future__ import annotations

import pytest

from .support import assert_operation_outcome, make_app, scenario_named, scenario_request

ORIGIN = "https://sandbox.cds-hooks.org"
ISSUERS = {
    "https://sandbox.cds-hooks.org": {
        "jwks_url": "https://sandbox.cds-hooks.org/.well-known/jwks.json"
    }
}
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


@pytest.fixture
def client():
    """A developer who tries the service from the public sandbox allows its origin."""
    return make_app(cors_origins=(ORIGIN,)).test_client()


def allowed_origin(response) -> str | None:
    return response.headers.get("Access-Control-Allow-Origin")


def header_set(response, name: str) -> set[str]:
    return {h.strip().lower() for h in response.headers.get(name, "").split(",") if h.strip()}


@pytest.mark.parametrize(
    "path",
    [
        "/cds-services",
        "/cds-services/b12-patient-view",
        "/cds-services/b12-order-sign/",
        "/cds-services/b12-order-select/feedback",
    ],
)
def test_preflight_is_answered_without_auth(client, path):
    response = client.options(path, headers=PREFLIGHT)
    assert 200 <= response.status_code < 300
    assert allowed_origin(response) in (ORIGIN, "*")
    assert {"authorization", "content-type"} <= header_set(response, "Access-Control-Allow-Headers")
    assert "post" in header_set(response, "Access-Control-Allow-Methods")
    assert not response.get_data()


def test_preflight_does_not_need_a_token_when_issuers_are_configured():
    app = make_app(public_url="https://cds.example.org", trusted_issuers=ISSUERS)
    client = app.test_client()
    response = client.options("/cds-services/b12-patient-view", headers=PREFLIGHT)
    assert 200 <= response.status_code < 300
    assert allowed_origin(response) in (ORIGIN, "*")
    # the call itself does need one, and its bare 401 still carries CORS headers
    refused = client.post("/cds-services/b12-patient-view", json={}, headers={"Origin": ORIGIN})
    assert refused.status_code == 401 and refused.data == b""
    assert allowed_origin(refused) in (ORIGIN, "*")


def test_configured_origins_are_the_only_ones_allowed():
    client = make_app(cors_origins=("https://ehr.example",)).test_client()
    ok = client.get("/cds-services", headers={"Origin": "https://ehr.example"})
    assert allowed_origin(ok) == "https://ehr.example"
    other = client.get("/cds-services", headers={"Origin": "https://evil.example"})
    assert other.status_code == 200 and allowed_origin(other) is None


@pytest.mark.parametrize(
    "origin", ["https://sandbox.cds-hooks.org", "https://evil.example", "null", "http://10.0.0.5"]
)
def test_without_issuers_no_other_web_origin_is_allowed_by_default(origin):
    """Nothing authenticates a caller then: a page elsewhere must not read cards or make the
    service fetch from its server (the preflight fails, so the browser never sends the POST)."""
    client = make_app().test_client()
    preflight = client.options(
        "/cds-services/b12-patient-view", headers={**PREFLIGHT, "Origin": origin}
    )
    assert allowed_origin(preflight) is None
    assert allowed_origin(client.get("/cds-services", headers={"Origin": origin})) is None


@pytest.mark.parametrize(
    "origin", ["http://localhost:3000", "http://127.0.0.1:8081", "http://[::1]:5173"]
)
def test_without_issuers_pages_on_this_machine_are_allowed(origin):
    """A sandbox or EHR simulator run locally (another port is another origin)."""
    client = make_app().test_client()
    preflight = client.options(
        "/cds-services/b12-patient-view", headers={**PREFLIGHT, "Origin": origin}
    )
    assert allowed_origin(preflight) == origin


def test_with_issuers_any_origin_is_allowed_by_default_and_credentials_never():
    """Browser-based EHRs (the sandbox) need CORS; every call carries a bearer token,
    never a cookie, so a foreign page gains nothing without a token."""
    client = make_app(public_url="https://cds.example.org", trusted_issuers=ISSUERS).test_client()
    preflight = client.options(
        "/cds-services/b12-patient-view", headers={**PREFLIGHT, "Origin": "https://ehr.example"}
    )
    assert allowed_origin(preflight) in ("https://ehr.example", "*")
    assert "Access-Control-Allow-Credentials" not in preflight.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/preview/request"),
        ("GET", "/preview/patients"),
        ("GET", "/timeline/data"),
        ("GET", "/healthz"),
        ("GET", "/openapi.json"),
    ],
)
def test_cors_is_only_on_the_cds_hooks_endpoints(client, method, path):
    """The pages call only their own origin; no other origin may read patient data."""
    preflight = client.options(path, headers={**PREFLIGHT, "Access-Control-Request-Method": method})
    assert allowed_origin(preflight) is None
    assert allowed_origin(client.get(path, headers={"Origin": ORIGIN})) is None


def post(client, path, **kwargs):
    return client.post(path, headers={"Origin": ORIGIN}, **kwargs)


def test_cors_header_on_200(client):
    service, body = scenario_request(scenario_named("R1-start-neuro-loading"))
    response = post(client, f"/cds-services/{service}", json=body)
    assert response.status_code == 200
    assert allowed_origin(response) in (ORIGIN, "*")
    discovery = client.get("/cds-services", headers={"Origin": ORIGIN})
    assert allowed_origin(discovery) in (ORIGIN, "*")


def test_cors_header_on_400(client):
    response = post(
        client, "/cds-services/b12-patient-view", data=b"nope", content_type="application/json"
    )
    assert_operation_outcome(response, 400)
    assert allowed_origin(response) in (ORIGIN, "*")


def test_cors_header_on_415(client):
    response = post(client, "/cds-services/b12-patient-view", data=b"{}")
    assert_operation_outcome(response, 415)
    assert allowed_origin(response) in (ORIGIN, "*")


def test_cors_header_on_404(client):
    response = post(client, "/cds-services/no-such-service", json={})
    assert_operation_outcome(response, 404)
    assert allowed_origin(response) in (ORIGIN, "*")


def test_cors_header_on_405(client):
    response = client.get("/cds-services/b12-patient-view", headers={"Origin": ORIGIN})
    assert_operation_outcome(response, 405)
    assert allowed_origin(response) in (ORIGIN, "*")


def test_cors_header_on_412(client):
    service, body = scenario_request(scenario_named("R1-start-neuro-loading"))
    del body["prefetch"]
    response = post(client, f"/cds-services/{service}", json=body)
    assert_operation_outcome(response, 412)
    assert allowed_origin(response) in (ORIGIN, "*")


def test_500_has_cors_and_an_operation_outcome_without_the_details(client, logs, monkeypatch):
    def explode(*_args, **_kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr("cds_b12.api.services.invoke", explode)
    service, body = scenario_request(scenario_named("R1-start-neuro-loading"))
    response = post(client, f"/cds-services/{service}", json=body)
    assert_operation_outcome(response, 500)
    assert allowed_origin(response) in (ORIGIN, "*")
    text = response.get_data(as_text=True)
    assert "secret detail" not in text and "Traceback" not in text
    assert "RuntimeError" not in text
    # the details go to the service log instead, and the request is still logged
    (error,) = [r for r in logs.records() if r["level"] == "error"]
    assert "secret detail" in error["exception"]
    assert [r["status"] for r in logs.requests()] == [500]


def test_every_origin_without_issuers_is_allowed_only_when_asked_and_then_warned(logs):
    client = make_app(cors_origins=("*",)).test_client()
    preflight = client.options(
        "/cds-services/b12-patient-view", headers={**PREFLIGHT, "Origin": "https://a.example"}
    )
    assert allowed_origin(preflight) in ("https://a.example", "*")
    (warning,) = [r for r in logs.records() if r["level"] == "warning"]
    assert "authentication is off" in warning["message"]


@pytest.mark.parametrize(
    ("settings", "sent"),
    [
        ({}, None),  # loopback origins are patterns: nothing to send unasked
        ({"cors_origins": (ORIGIN,)}, ORIGIN),
        ({"public_url": "https://cds.example.org", "trusted_issuers": ISSUERS}, "*"),
    ],
)
def test_a_call_without_origin_gets_what_the_configured_origins_send_unasked(settings, sent):
    """EHR servers call without an Origin header; they get the same headers as ever."""
    client = make_app(**settings).test_client()
    for response in (
        client.get("/cds-services"),
        client.post("/cds-services/b12-patient-view", json={}),
        client.options("/cds-services/b12-patient-view"),
    ):
        assert allowed_origin(response) == sent
        assert "Vary" not in response.headers
        assert allowed_origin(client.get("/healthz")) is None
