"""``GET /metrics`` in one process: each metric counts what happened, labels stay a closed
set, and the endpoint is closed to strangers once authentication is on.

The multi-worker case (counts added up across gunicorn workers) is in
``tests/deploy/test_metrics_serve.py``.
"""

from __future__ import annotations

import time
from uuid import uuid4

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cds_b12.api.metrics import refusal_category
from cds_b12.clinical.codes import OVERRIDE_REASON_SYSTEM
from cds_b12.store.db import Database

from ..issuer import TestIssuer
from ..store.support import UNREACHABLE
from .support import TYPE_BY_KEY, make_app, scenario_named, scenario_request, serve_r1_patient

PUBLIC_URL = "https://cds.example.org"
METRICS_TOKEN = "metrics-token-0123456789abcdef"


def scrape(client, headers: dict | None = None) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain"
    return samples(response.get_data(as_text=True))


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(got: dict, name: str, **labels: str) -> float:
    return got.get((name, frozenset(labels.items())), 0.0)


def r1_call() -> tuple[str, dict]:
    return scenario_request(scenario_named("R1-start-neuro-loading"))


def test_hook_calls_cards_and_latency_are_counted_per_service_and_status():
    client = make_app().test_client()
    service, body = r1_call()
    cards = []
    for _ in range(3):
        response = client.post(f"/cds-services/{service}", json=body)
        assert response.status_code == 200
        cards += response.get_json()["cards"]
    assert client.post(f"/cds-services/{service}", json={"hook": 1}).status_code == 400
    assert client.post("/cds-services/no-such-service", json=body).status_code == 404

    got = scrape(client)
    assert value(got, "cds_b12_hook_calls_total", service=service, status="200") == 3
    assert value(got, "cds_b12_hook_calls_total", service=service, status="400") == 1
    # a made-up service id never becomes a label of its own
    assert value(got, "cds_b12_hook_calls_total", service="unknown", status="404") == 1
    assert not any("no-such-service" in str(labels) for _, labels in got)
    assert value(got, "cds_b12_hook_call_duration_seconds_count", service=service) == 4
    assert value(got, "cds_b12_hook_call_duration_seconds_bucket", service=service, le="+Inf") == 4
    assert value(got, "cds_b12_hook_call_duration_seconds_sum", service=service) > 0
    issued = {
        (dict(labels)["rule"], dict(labels)["indicator"]): v
        for (name, labels), v in got.items()
        if name == "cds_b12_cards_issued_total"
    }
    assert sum(issued.values()) == len(cards) > 0
    assert issued[("R1-start-neuro-loading", "critical")] == 3


def test_feedback_is_counted_by_outcome_and_our_override_reasons_only():
    client = make_app().test_client()
    when = "2026-01-01T10:05:31Z"

    def overridden(reason: dict | None, comment: str | None = None) -> dict:
        override: dict = {}
        if reason:
            override["reason"] = reason
        if comment:
            override["userComment"] = comment
        return {
            "card": str(uuid4()),
            "outcome": "overridden",
            "overrideReason": override,
            "outcomeTimestamp": when,
        }

    accepted = {
        "card": str(uuid4()),
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": str(uuid4())}],
        "outcomeTimestamp": when,
    }
    ours = {"system": OVERRIDE_REASON_SYSTEM, "code": "patient-declined"}
    theirs = {"system": "https://ehr.example/reasons", "code": "Patient 123 refused"}
    body = {
        "feedback": [
            accepted,
            overridden(ours),
            overridden(theirs),
            overridden(None, "spoke to Mrs Smith"),
        ]
    }
    path = "/cds-services/b12-patient-view/feedback"
    assert client.post(path, json=body).status_code == 200
    assert client.post(path, json={"feedback": [accepted]}).status_code == 200  # a resend
    assert client.post(path, json={"feedback": []}).status_code == 400

    got = scrape(client)
    entries = "cds_b12_feedback_entries_total"
    assert value(got, entries, outcome="accepted", reason="none") == 2
    assert value(got, entries, outcome="overridden", reason="patient-declined") == 1
    assert value(got, entries, outcome="overridden", reason="other") == 1
    assert value(got, entries, outcome="overridden", reason="comment-only") == 1
    assert value(got, "cds_b12_feedback_duplicates_total") == 1
    requests = "cds_b12_feedback_requests_total"
    assert value(got, requests, service="b12-patient-view", status="200") == 2
    assert value(got, requests, service="b12-patient-view", status="400") == 1
    text = str(got)
    assert "Smith" not in text and "refused" not in text


def test_fallback_fetches_are_counted_by_key_and_outcome_412s_included(httpserver):
    """(Timeouts are told apart in tests/hooks/test_gather.py and test_fetch.py.)"""
    service, body = r1_call()
    del body["prefetch"]
    app = make_app()
    client = app.test_client()
    body["fhirServer"] = serve_r1_patient(httpserver, failing={"Condition": 500})
    assert client.post(f"/cds-services/{service}", json=body).status_code == 200
    httpserver.clear()
    body["fhirServer"] = serve_r1_patient(httpserver, failing={"Observation": 500})
    assert client.post(f"/cds-services/{service}", json=body).status_code == 412

    refusing = make_app(fhir_server_allowlist=("https://ehr.example/fhir",)).test_client()
    partial = {**body, "prefetch": {"patient": r1_call()[1]["prefetch"]["patient"]}}
    assert refusing.post(f"/cds-services/{service}", json=partial).status_code == 412
    try:
        got = scrape(client)
        refused = scrape(refusing)
    finally:
        for a in (app, refusing.application):
            a.extensions["cds_b12"].client.session.close()

    fetches = "cds_b12_fhir_fetches_total"
    assert value(got, fetches, key="patient", outcome="ok") == 2
    assert value(got, fetches, key="labs", outcome="ok") == 1
    assert value(got, fetches, key="labs", outcome="error") == 1
    assert value(got, fetches, key="conditions", outcome="error") == 1
    assert value(got, fetches, key="conditions", outcome="ok") == 1
    assert sum(v for (n, _), v in got.items() if n == fetches) == 2 * len(TYPE_BY_KEY)
    # the prefetched patient is not a fetch; every other key was refused by the policy
    assert value(refused, fetches, key="patient", outcome="refused") == 0
    assert value(refused, fetches, key="labs", outcome="refused") == 1
    assert sum(v for (n, _), v in refused.items() if n == fetches) == len(TYPE_BY_KEY) - 1


def test_audit_queue_depth_and_failures_are_reported():
    app = make_app()
    app.extensions["cds_b12"].audit.db = Database(UNREACHABLE)
    client = app.test_client()
    service, body = r1_call()
    assert client.post(f"/cds-services/{service}", json=body).status_code == 200  # cards anyway
    got = scrape(client)
    assert value(got, "cds_b12_audit_write_failures_total") == 1
    assert ("cds_b12_audit_queue_depth", frozenset()) in got


@pytest.fixture(scope="module")
def issuer() -> TestIssuer:
    return TestIssuer()


def auth_client(issuer: TestIssuer, **settings: object):
    return make_app(
        public_url=PUBLIC_URL, trusted_issuers={issuer.iss: {"jwks": issuer.jwks}}, **settings
    ).test_client()


def test_with_authentication_metrics_need_their_own_token(issuer):
    closed = auth_client(issuer)
    assert closed.get("/metrics").status_code == 404  # no CDS_B12_METRICS_TOKEN: off
    client = auth_client(issuer, metrics_token=METRICS_TOKEN)
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-0123456789abcdef"},
        {"Authorization": METRICS_TOKEN},
        issuer.bearer(f"{PUBLIC_URL}/metrics"),  # an EHR's JWT is not the metrics token
    ):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401 and response.data == b""
    scrape(client, {"Authorization": f"Bearer {METRICS_TOKEN}"})


def test_jwt_refusals_are_counted_by_category_never_by_content(issuer):
    client = auth_client(issuer, metrics_token=METRICS_TOKEN)
    path = "/cds-services/b12-patient-view"
    service, body = r1_call()
    aud = PUBLIC_URL + path
    replayed = issuer.bearer(aud, jti="jti-secret-value")
    stranger = TestIssuer("https://stranger.example")
    cases = {
        "missing": {},
        "malformed": {"Authorization": "Bearer not.a-jwt"},
        "issuer": stranger.bearer(aud),
        "expired": issuer.bearer(aud, exp=int(time.time()) - 3600, iat=int(time.time()) - 4000),
        "audience": issuer.bearer("https://elsewhere.example/cds-services/b12-patient-view"),
        "replay": replayed,
    }
    assert client.post(path, json=body, headers=replayed).status_code == 200
    for headers in cases.values():
        assert client.post(path, json=body, headers=headers).status_code == 401
    got = scrape(client, {"Authorization": f"Bearer {METRICS_TOKEN}"})
    for category in cases:
        assert value(got, "cds_b12_auth_refusals_total", reason=category) == 1, category
    assert value(got, "cds_b12_hook_calls_total", service=service, status="401") == len(cases)
    labels = {v for (name, labels) in got for _, v in labels}
    assert not any("secret" in v or "stranger" in v or "elsewhere" in v for v in labels)


@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("no Authorization header", "missing"),
        ("header typ is not JWT", "header"),
        ("algorithm 'HS256' not allowed", "algorithm"),
        ("jku 'https://evil.example/jwks' is not on the issuer's allowlist", "key"),
        ("no key 'k1' in the configured JWKS", "key"),
        ("key 'k1' is for 'RS256', not the token's 'RS384'", "key"),
        ("InvalidSignatureError: Signature verification failed", "signature"),
        ("iat is in the future", "claims"),
        ("tenant 'x' not allowed for this issuer", "tenant"),
        ("something new", "other"),
    ],
)
def test_refusal_categories(message, category):
    assert refusal_category(message) == category


def test_metrics_can_be_switched_off():
    client = make_app(metrics=False).test_client()
    assert client.get("/metrics").status_code == 404
    service, body = r1_call()
    assert client.post(f"/cds-services/{service}", json=body).status_code == 200
