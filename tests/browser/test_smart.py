"""A SMART EHR launch of the timeline, end to end in Chromium.

The test FHIR server plays the EHR (``/fhir/.well-known/smart-configuration``,
``/auth/authorize``, ``/auth/token``); a second ``cds-b12 serve`` has a SMART client id.
The browser follows the real redirects; the token stays between the two servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from ..integration.conftest import post_transaction, record_bundle
from ..serving import FhirTestServer, ServeProcess, service_env, start_fhir_server, started
from .conftest import ROOT

PATIENT = "r11-monthly-overdue"
BUNDLE = ROOT / "fhir_fixtures" / "R11-maintenance-overdue" / "monthly-overdue-fires.json"
CLIENT_ID = "cds-b12-test"


@pytest.fixture(scope="module")
def ehr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirTestServer]:
    server = start_fhir_server(tmp_path_factory.mktemp("ehr") / "stderr.log")
    try:
        post_transaction(server.base, record_bundle(BUNDLE, date.today()), BUNDLE.name)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def smart_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    store = tmp_path_factory.mktemp("smart-store")
    with started(service_env(store, smart_client_id=CLIENT_ID), store / "serve.log") as running:
        yield running


def test_the_test_ehr_speaks_smart(ehr: FhirTestServer):
    config = requests.get(f"{ehr.base}/.well-known/smart-configuration", timeout=10).json()
    assert config == {
        "authorization_endpoint": f"{ehr.root}/auth/authorize",
        "token_endpoint": f"{ehr.root}/auth/token",
        "capabilities": ["launch-ehr"],
    }
    back = "http://127.0.0.1:9/timeline/callback"
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": back,
        "launch": PATIENT,
        "state": "s1",
        "scope": "launch",
        "aud": ehr.base,
    }
    answer = requests.get(
        config["authorization_endpoint"], params=query, timeout=10, allow_redirects=False
    )
    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == back
    assert parse_qs(target.query) == {"code": [f"code-{PATIENT}"], "state": ["s1"]}
    for missing in ("redirect_uri", "state"):
        partial = {k: v for k, v in query.items() if k != missing}
        assert (
            requests.get(
                config["authorization_endpoint"], params=partial, timeout=10, allow_redirects=False
            ).status_code
            == 400
        )

    form = {
        "grant_type": "authorization_code",
        "code": f"code-{PATIENT}",
        "redirect_uri": back,
        "client_id": CLIENT_ID,
    }
    token = requests.post(config["token_endpoint"], data=form, timeout=10)
    assert token.status_code == 200
    assert token.json() == {
        "access_token": f"token-{PATIENT}",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "launch patient/*.read",
        "patient": PATIENT,
    }
    bad = requests.post(config["token_endpoint"], data={**form, "code": "stolen"}, timeout=10)
    assert bad.status_code == 400


def test_a_smart_launch_ends_on_the_patients_timeline(open_page, ehr, smart_service):
    expected = requests.get(
        f"{smart_service.base}/timeline/data",
        params={"patient": PATIENT, "fhirServer": ehr.base},
        timeout=10,
    ).json()
    assert expected["doses"], "the EHR's patient has injections"

    opened = open_page(origins=(smart_service.base, ehr.root))
    page = opened.page
    launch = f"{smart_service.base}/timeline/launch?" + urlencode(
        {"iss": ehr.base, "launch": PATIENT}
    )
    page.goto(launch)
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_have_attribute("data-ready", "true")

    # the browser went to the EHR to authorize, and came back to the service's callback
    visited = [urlsplit(url) for url in opened.watch.requests]
    assert any(
        u.netloc == urlsplit(ehr.root).netloc and u.path == "/auth/authorize" for u in visited
    )
    assert urlsplit(page.url).path == "/timeline/callback"
    assert urlsplit(page.url).netloc == urlsplit(smart_service.base).netloc
    # the data came embedded with the page: no call for it from the browser
    assert not any(u.path == "/timeline/data" for u in visited)

    assert timeline.get_attribute("data-patient") == PATIENT
    assert int(timeline.get_attribute("data-injections") or -1) == len(expected["doses"])
    expect(page.get_by_test_id("timeline-subtitle")).to_contain_text(f"Patient {PATIENT}")

    secret = f"token-{PATIENT}"
    html = page.content()
    assert secret not in html
    assert secret not in page.url
    assert not any(secret in url for url in opened.watch.requests)
    assert not any(c["value"] == secret for c in page.context.cookies())
