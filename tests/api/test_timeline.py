"""The timeline routes: local data, and the SMART launch against a fake EHR on a real socket."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug import Request, Response

from cds_b12.api.timeline import script_json
from cds_b12.hooks.fixtures import find_fixture

from ..net.support import Listener
from ..scenarios import as_patient, serve_record
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


def _fake_ehr(httpserver, patient: str = MAINTENANCE, token_patient: str | None = None) -> str:
    """A SMART authorization server and FHIR server in one, serving the fixture patient
    (as ``token_patient`` if given: the id the EHR's token answer names)."""
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
        body = {
            "access_token": "ehr-token-xyz",
            "token_type": "Bearer",
            "patient": token_patient or patient,
        }
        return Response(
            json.dumps(body if ok else {"error": "invalid_grant"}),
            status=200 if ok else 400,
            content_type="application/json",
        )

    httpserver.expect_request("/token", method="POST").respond_with_handler(token)
    resources, _ = find_fixture(patient).data(TODAY)
    if token_patient:
        resources = as_patient(resources, patient, token_patient)
    serve_record(httpserver, resources, token_patient or patient)
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
    assert json.loads(embedded_data(html))["patient"] == MAINTENANCE


# no "/": an id with one cannot be fetched at all (an encoded slash in the path is refused)
HOSTILE = "p<!--<script>alert(1)<!--&amp;\u2028]]>"


def embedded_data(html: str) -> str:
    """What an HTML parser hands the script as the data block's text: everything up to the
    first ``</script`` (the exact end tag is what ``<!--`` and ``<script`` can move)."""
    opening = '<script type="application/json" id="timeline-data">'
    assert html.count(opening) == 1
    return html.split(opening, 1)[1].split("</script", 1)[0]


def test_the_callback_page_embeds_any_patient_id_as_inert_data(httpserver):
    """An id from the EHR's token answer (or any other string in the data) cannot end the
    data block, open a comment or a script, or stop the page from loading."""
    base = _fake_ehr(httpserver, token_patient=HOSTILE)
    client = make_app(smart_client_id="cds-b12-test").test_client()
    state = parse_qs(
        urlsplit(client.get(f"/timeline/launch?iss={base}&launch=abc").headers["Location"]).query
    )["state"][0]
    page = client.get(f"/timeline/callback?code=the-code&state={state}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    block = embedded_data(html)
    assert not {"<", ">", "&"} & set(block)
    data = json.loads(block)
    assert data["patient"] == HOSTILE and data["doses"]
    assert "alert(1)" not in html.replace(block, "")
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_embedded_json_cannot_close_its_block_or_open_a_comment():
    text = script_json({"name": "</script><!--<script>&amp;", "n": 1})
    assert not {"<", ">", "&"} & set(text)
    assert json.loads(text) == {"name": "</script><!--<script>&amp;", "n": 1}
    assert script_json(None) == "null"


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


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        ("access_denied" + "x" * 5000, "access_denied" + "x" * 187),
        ('access_denied\r\n{"forged": 1}\x1b[2J\x00', 'access_denied{"forged": 1}[2J'),
    ],
    ids=["long", "control-characters"],
)
def test_the_ehrs_error_is_said_capped_and_printable_in_the_answer_and_the_log(
    httpserver, logs, error, shown
):
    client = make_app(smart_client_id="cds-b12-test").test_client()
    state = _launch(client, _fake_ehr(httpserver))[0]["state"][0]
    response = client.get("/timeline/callback", query_string={"state": state, "error": error})
    said = f"the EHR did not authorize: {shown}"
    assert assert_operation_outcome(response, 400) == said
    (line,) = [r for r in logs.requests() if r["path"] == "/timeline/callback"]
    assert line["reason"] == said


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


def _launch(client, base: str) -> tuple[dict[str, list[str]], str]:
    """Start a launch; the authorize query, and the state cookie as the browser holds it."""
    launch = client.get(f"/timeline/launch?iss={base}&launch=abc")
    assert launch.status_code == 302, launch.get_data(as_text=True)
    cookie = launch.headers["Set-Cookie"]
    return parse_qs(urlsplit(launch.headers["Location"]).query), cookie


def _name_value(set_cookie: str) -> tuple[str, str]:
    name, _, value = set_cookie.split(";", 1)[0].partition("=")
    return name, value


def test_smart_launch_binds_the_code_to_the_launch_with_pkce_s256(httpserver):
    base = _fake_ehr(httpserver)
    client = make_app(smart_client_id="cds-b12-test").test_client()
    query, _ = _launch(client, base)
    assert query["code_challenge_method"] == ["S256"]
    page = client.get(f"/timeline/callback?code=the-code&state={query['state'][0]}")
    assert page.status_code == 200
    (token_request,) = [r for r, _ in httpserver.log if r.path == "/token"]
    verifier = token_request.form["code_verifier"]
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query["code_challenge"][0]
    assert verifier not in page.get_data(as_text=True) and verifier not in str(query)


def test_a_launch_state_is_accepted_once_even_with_the_cookie_replayed(httpserver):
    base = _fake_ehr(httpserver)
    client = make_app(smart_client_id="cds-b12-test").test_client()
    query, cookie = _launch(client, base)
    callback = f"/timeline/callback?code=the-code&state={query['state'][0]}"
    assert client.get(callback).status_code == 200
    client.set_cookie(*_name_value(cookie))  # the browser (or an attacker) sends it again
    assert "already completed" in assert_operation_outcome(client.get(callback), 400)
    assert len([r for r, _ in httpserver.log if r.path == "/token"]) == 1


def test_a_launch_state_is_accepted_once_across_workers_sharing_a_store(httpserver):
    """Two app instances (two workers) with the shared replay store: a callback replayed
    to the other one is refused."""
    base = _fake_ehr(httpserver)
    shared = {
        "smart_client_id": "cds-b12-test",
        "pseudonym_key": "the-same-key-on-every-worker",
        "redis_url": "redis://127.0.0.1:6379/0",
    }
    first, second = make_app(**shared).test_client(), make_app(**shared).test_client()
    query, cookie = _launch(first, base)
    callback = f"/timeline/callback?code=the-code&state={query['state'][0]}"
    assert first.get(callback).status_code == 200
    second.set_cookie(*_name_value(cookie))
    assert "already completed" in assert_operation_outcome(second.get(callback), 400)


def test_the_state_cookie_is_secure_when_the_public_url_is_https(httpserver):
    base = _fake_ehr(httpserver)
    app = make_app(smart_client_id="cds-b12-test", public_url="https://cds.example.org")
    _, cookie = _launch(app.test_client(), base)
    assert "Secure" in cookie and "HttpOnly" in cookie
    _, plain = _launch(make_app(smart_client_id="cds-b12-test").test_client(), base)
    assert "Secure" not in plain


@pytest.mark.parametrize("endpoint", ["authorization_endpoint", "token_endpoint"])
def test_smart_endpoints_off_the_ehrs_origin_are_refused_and_never_contacted(httpserver, endpoint):
    forbidden = Listener()
    try:
        config = {
            "authorization_endpoint": httpserver.url_for("/authorize"),
            "token_endpoint": httpserver.url_for("/token"),
            endpoint: f"http://127.0.0.1:{forbidden.port}/steal",
        }
        httpserver.expect_request("/fhir/.well-known/smart-configuration").respond_with_json(config)
        client = make_app(smart_client_id="cds-b12-test").test_client()
        response = client.get(f"/timeline/launch?iss={httpserver.url_for('/fhir')}&launch=abc")
        assert endpoint in assert_operation_outcome(response, 412)
        assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    finally:
        forbidden.close()
    assert forbidden.connections == 0
