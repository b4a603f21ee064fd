"""The pages under their Content-Security-Policy in Chromium: they run without a single
violation, and a SMART launch for a patient whose id holds ``<!--<script>`` still draws the
timeline (the embedded data cannot change how the page is parsed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Page, expect
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cds_b12.hooks.fixtures import find_fixture

from ..scenarios import as_patient, serve_record
from ..serving import ServeProcess, service_env, started
from .conftest import choose, get_cards

PATIENT = "r11-monthly-overdue"
HOSTILE = "p<!--<script>document.body.dataset.owned=1<!--"  # no "/": it must be fetchable
# every violation the browser reports, kept where the test can read it
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def watched(page: Page) -> Page:
    page.add_init_script(RECORD_VIOLATIONS)
    return page


def assert_policy(page: Page, response) -> None:
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert page.evaluate("window.__violations") == []


def test_the_preview_works_under_its_policy(open_page, service):
    opened = open_page()
    page = watched(opened.page)
    response = page.goto(f"{service.base}/preview")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    choose(page, "r1-pa-neuro-low-b12")
    get_cards(page)
    expect(page.get_by_test_id("card").first).to_be_visible()
    assert_policy(page, response)


def test_the_timeline_works_under_its_policy(open_page, service):
    page = watched(open_page().page)
    response = page.goto(f"{service.base}/timeline?patient={PATIENT}")
    expect(page.get_by_test_id("timeline")).to_have_attribute("data-ready", "true")
    assert page.evaluate("window.timelineCharts.length") >= 1
    assert_policy(page, response)


@pytest.fixture(scope="module")
def smart_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    store = tmp_path_factory.mktemp("policy-store")
    with started(service_env(store, smart_client_id="c"), store / "serve.log") as running:
        yield running


def hostile_ehr(server: HTTPServer) -> str:
    """A SMART EHR whose token answer names a patient id that is markup."""
    root = f"http://127.0.0.1:{server.port}"  # the browser tests allow 127.0.0.1 only
    base = f"{root}/fhir"
    server.expect_request("/fhir/.well-known/smart-configuration").respond_with_json(
        {"authorization_endpoint": f"{root}/authorize", "token_endpoint": f"{root}/token"}
    )

    def authorize(request: Request) -> Response:
        back = (
            request.args["redirect_uri"]
            + "?"
            + urlencode({"code": "the-code", "state": request.args["state"]})
        )
        return Response(status=302, headers={"Location": back})

    server.expect_request("/authorize").respond_with_handler(authorize)
    server.expect_request("/token", method="POST").respond_with_json(
        {"access_token": "t", "token_type": "Bearer", "patient": HOSTILE}
    )
    resources, _ = find_fixture(PATIENT).data(date.today())
    resources = as_patient(resources, PATIENT, HOSTILE)
    serve_record(server, resources, HOSTILE)
    return base


def test_a_patient_id_that_is_markup_cannot_stop_the_callback_page(
    open_page, smart_service, httpserver
):
    base = hostile_ehr(httpserver)
    ehr_origin = f"http://{urlsplit(base).netloc}"
    page = watched(open_page(origins=(smart_service.base, ehr_origin)).page)
    launch = f"{smart_service.base}/timeline/launch?" + urlencode({"iss": base, "launch": "x"})
    page.goto(launch)
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_have_attribute("data-ready", "true")
    assert urlsplit(page.url).path == "/timeline/callback"
    assert timeline.get_attribute("data-patient") == HOSTILE
    assert int(timeline.get_attribute("data-injections") or -1) > 0
    assert page.evaluate("document.body.dataset.owned") is None  # no markup ran
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 1
    embedded = page.evaluate("document.getElementById('timeline-data').textContent")
    assert json.loads(embedded)["patient"] == HOSTILE
    assert page.evaluate("window.__violations") == []
    (call,) = [r for r, _ in httpserver.log if r.path == "/authorize"]
    assert parse_qs(urlsplit(call.url).query)["redirect_uri"] == [
        f"{smart_service.base}/timeline/callback"
    ]
