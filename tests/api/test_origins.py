"""With authentication off, other web origins cannot act: only loopback Host names are
answered (DNS rebinding), a POST must be JSON (a form or a ``text/plain`` fetch needs no
CORS preflight), and links never follow the Host header. Every page sends its security
headers, and nothing with patient data may be cached."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from cds_b12.store.schema import Feedback

from .support import assert_operation_outcome, make_app, scenario_named, scenario_request

ISSUERS = {
    "https://ehr.example.org": {
        "jwks_url": "https://ehr.example.org/jwks.json",
        "fhir_servers": ["https://ehr.example.org/fhir"],
    }
}
PATIENT = "r11-monthly-overdue"
PV = "/cds-services/b12-patient-view"


def r1_request() -> dict:
    return scenario_request(scenario_named("R1-start-neuro-loading"))[1]


def fetching_request(base: str) -> dict:
    body = r1_request()
    del body["prefetch"]
    body["fhirServer"] = base
    return body


def feedback_rows(app) -> int:
    with app.extensions["cds_b12"].db.session() as session:
        return session.scalar(select(func.count()).select_from(Feedback))


# ------------------------------------------------------------------ Host (DNS rebinding)


@pytest.mark.parametrize(
    "host",
    [
        "rebind.example:8080",
        "rebind.example",
        "127.0.0.1.nip.io:8080",
        "localhost.rebind.example",
        "192.168.1.20:8080",
        "10.0.0.1",
        "0.0.0.0:8080",
        "[2001:db8::1]:8080",
        "evil.example\\@127.0.0.1",
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/cds-services"),
        ("POST", PV),
        ("POST", f"{PV}/feedback"),
        ("GET", "/preview"),
        ("GET", f"/timeline/data?patient={PATIENT}"),
        ("OPTIONS", PV),
    ],
)
def test_without_issuers_a_host_other_than_this_machine_is_400(host, method, path, httpserver):
    """A page on rebind.example whose name now resolves to 127.0.0.1 reaches the port, but
    the browser still sends its own name: nothing is read, stored or fetched for it."""
    app = make_app()
    client = app.test_client()
    stored = feedback_rows(app)
    body = fetching_request(httpserver.url_for("/fhir")) if path == PV else {"feedback": []}
    response = client.open(path, method=method, json=body, headers={"Host": host})
    assert "Host" in assert_operation_outcome(response, 400)
    assert httpserver.log == []
    assert feedback_rows(app) == stored


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:8080", "LOCALHOST:80", "127.0.0.1:8080", "127.0.0.2", "[::1]:8080"],
)
def test_without_issuers_loopback_hosts_are_answered(host):
    client = make_app().test_client()
    assert client.get("/cds-services", headers={"Host": host}).status_code == 200
    assert client.post(PV, json=r1_request(), headers={"Host": host}).status_code == 200


def test_without_issuers_the_public_url_host_is_answered_too():
    """A developer behind a tunnel or proxy names the address explicitly."""
    client = make_app(public_url="https://dev.example.org").test_client()
    assert client.get("/cds-services", headers={"Host": "dev.example.org"}).status_code == 200
    refused = client.get("/cds-services", headers={"Host": "other.example.org"})
    assert_operation_outcome(refused, 400)


def test_with_issuers_the_host_is_not_checked_the_token_is():
    """Behind a proxy the Host is whatever the proxy sends; the JWT's aud is built from
    CDS_B12_PUBLIC_URL, so a request under any Host still needs a token."""
    client = make_app(public_url="https://cds.example.org", trusted_issuers=ISSUERS).test_client()
    response = client.get("/cds-services", headers={"Host": "10.1.2.3:8080"})
    assert response.status_code == 401 and response.data == b""


# ------------------------------------------------------------------ JSON only


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/plain", None),
        ("text/plain;charset=UTF-8", None),
        ("application/x-www-form-urlencoded", None),
        ("multipart/form-data; boundary=x", None),
        (None, None),
    ],
    ids=["text", "text-charset", "form", "multipart", "none"],
)
def test_a_hook_call_that_is_not_json_is_415_and_fetches_nothing(content_type, data, httpserver):
    """What a cross-origin page can send without a preflight: a form, or fetch() with a
    string or Blob body. Today's answer to it is 415, before any FHIR server is contacted."""
    body = json.dumps(fetching_request(httpserver.url_for("/fhir"))).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    response = make_app().test_client().post(PV, data=body, headers=headers)
    assert "application/json" in assert_operation_outcome(response, 415)
    assert httpserver.log == []


def test_feedback_that_is_not_json_is_415_and_stores_nothing():
    app = make_app()
    card = app.test_client().post(PV, json=r1_request()).get_json()["cards"][0]
    entry = {
        "card": card["uuid"],
        "outcome": "overridden",
        "outcomeTimestamp": "2026-01-01T10:00:00Z",
    }
    stored = feedback_rows(app)
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = app.test_client().post(
            f"{PV}/feedback",
            data=json.dumps({"feedback": [entry]}),
            content_type=content_type,
        )
        assert_operation_outcome(response, 415)
    assert feedback_rows(app) == stored
    ok = app.test_client().post(
        f"{PV}/feedback",
        data=json.dumps({"feedback": [entry]}),
        content_type="application/json; charset=utf-8",
    )
    assert ok.status_code == 200 and feedback_rows(app) == stored + 1


def test_preview_requests_must_be_json_too():
    response = (
        make_app()
        .test_client()
        .post(
            "/preview/request",
            data=json.dumps({"hook": "patient-view", "patient": PATIENT}),
            content_type="text/plain",
        )
    )
    assert_operation_outcome(response, 415)


def test_with_issuers_a_caller_without_a_token_gets_401_whatever_it_sends():
    client = make_app(public_url="https://cds.example.org", trusted_issuers=ISSUERS).test_client()
    response = client.post(PV, data="x", content_type="text/plain")
    assert response.status_code == 401 and response.data == b""


def test_unknown_paths_and_methods_keep_their_own_status():
    client = make_app().test_client()
    assert_operation_outcome(client.post("/nowhere", data="x", content_type="text/plain"), 404)
    assert_operation_outcome(client.post("/healthz", data="x", content_type="text/plain"), 405)


# ------------------------------------------------------------------ links


def card_links(client, host: str) -> list[dict]:
    built = client.post(
        "/preview/request",
        json={"hook": "patient-view", "profile": "us", "patient": PATIENT},
        headers={"Host": host},
    ).get_json()
    response = client.post(PV, json=built["request"], headers={"Host": host})
    return response.get_json()["cards"][0]["links"]


@pytest.mark.parametrize("smart", [None, "cds-b12-test"])
def test_card_links_name_the_loopback_host_they_were_asked_on(smart):
    client = make_app(smart_client_id=smart).test_client()
    (link,) = card_links(client, "127.0.0.1:8080")
    assert link["url"].startswith("http://127.0.0.1:8080/timeline")


@pytest.mark.parametrize("smart", [None, "cds-b12-test"])
def test_card_links_use_the_public_url_when_it_is_set(smart):
    client = make_app(smart_client_id=smart, public_url="https://dev.example.org").test_client()
    (link,) = card_links(client, "localhost:8080")
    assert link["url"].startswith("https://dev.example.org/timeline")


# ------------------------------------------------------------------ headers

HTML_PAGES = ["/preview", f"/timeline?patient={PATIENT}"]


def get(client, path: str):
    """The answer, read and closed (a static file is streamed from an open file)."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


@pytest.mark.parametrize("path", HTML_PAGES)
def test_pages_carry_a_content_security_policy(path):
    response = get(make_app().test_client(), path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = csp_directives(response)
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'none'"]
    for directive in ("script-src", "style-src", "connect-src"):
        assert csp[directive] == ["'self'"], directive  # no inline script or style, no eval
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_ehr_that_frames_the_timeline_can_be_named():
    client = make_app(frame_ancestors="https://ehr.example.org 'self'").test_client()
    response = client.get(f"/timeline?patient={PATIENT}")
    assert csp_directives(response)["frame-ancestors"] == ["https://ehr.example.org", "'self'"]


def test_pages_have_no_inline_script_or_style():
    """What the policy would block: the pages must not need it."""
    client = make_app().test_client()
    for path in HTML_PAGES:
        html = get(client, path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\b(src|type=\"application/json\"))[^>]*>", html)
        assert " style=" not in html and "<style" not in html
        assert not re.search(r"\son[a-z]+=", html)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", PV, "hook"),
        ("GET", f"/timeline/data?patient={PATIENT}", None),
        ("POST", "/preview/request", {"hook": "patient-view", "patient": PATIENT}),
        ("GET", "/preview/feedback/some-card", None),
        ("POST", f"{PV}/feedback", {"feedback": []}),
        ("GET", "/cds-services", None),
    ],
)
def test_answers_about_patients_are_never_cached(method, path, body):
    payload = r1_request() if body == "hook" else body
    response = make_app().test_client().open(path, method=method, json=payload)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_may_be_cached_and_are_not_sniffed():
    response = get(make_app().test_client(), "/static/timeline.js")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
