"""SSRF against real listeners: parser-differential URLs never reach the forbidden host.

Two listeners stand in for an allowed FHIR server and a host an attacker wants the
service to contact (with the EHR's token). Every hostile form of a ``fhirServer``,
a SMART ``iss``, a ``next`` link or a JWKS URL is refused, with authentication off
and on, and the forbidden listener sees no connection at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cds_b12.auth.issuers import IssuerConfigError, parse_issuers

from ..api.support import assert_operation_outcome, make_app, serve_r1_patient
from ..auth.support import (
    ISS,
    SERVICE_PATH,
    assert_bare_401,
    auth_app,
    bearer,
    close,
    fetching_body,
    issuer_config,
    jwks,
    make_token,
)
from .support import Listener

# {s}: the scheme; {A}: the allowed listener's port; {F}: the forbidden one's
FORMS = {
    "backslash": "{s}://127.0.0.1:{F}\\@127.0.0.1:{A}/fhir",
    "double-backslash": "{s}://127.0.0.1:{F}\\\\@127.0.0.1:{A}/fhir",
    "encoded-backslash": "{s}://127.0.0.1:{F}%5C@127.0.0.1:{A}/fhir",
    "tab": "{s}://127.0.0.1:{F}\t@127.0.0.1:{A}/fhir",
    "userinfo-forbidden-first": "{s}://127.0.0.1:{F}@127.0.0.1:{A}/fhir",
    "userinfo-allowed-first": "{s}://127.0.0.1:{A}@127.0.0.1:{F}/fhir",
    "mixed-case": "{S}://LocalHost:{F}\\@127.0.0.1:{A}/fhir",
    "trailing-dot": "{s}://localhost.:{F}\\@127.0.0.1:{A}/fhir",
    "ipv6": "{s}://[::1]:{F}\\@127.0.0.1:{A}/fhir",
    "decimal": "{s}://2130706433:{F}\\@127.0.0.1:{A}/fhir",
    "hex": "{s}://0x7f000001:{F}\\@127.0.0.1:{A}/fhir",
    "encoded-slash": "{s}://127.0.0.1:{F}%2F@127.0.0.1:{A}/fhir",
    "newline": "{s}://127.0.0.1:{F}\n@127.0.0.1:{A}/fhir",
}


@pytest.fixture
def hosts() -> Iterator[tuple[Listener, Listener]]:
    allowed, forbidden = Listener(), Listener()
    yield allowed, forbidden
    allowed.close()
    forbidden.close()


def form(name: str, scheme: str, allowed: Listener, forbidden: Listener) -> str:
    s = scheme.lower()
    return FORMS[name].format(s=s, S=s.upper()[:2] + s[2:], A=allowed.port, F=forbidden.port)


def base(scheme: str, listener: Listener) -> str:
    return f"{scheme}://127.0.0.1:{listener.port}/fhir"


@pytest.mark.parametrize("name", FORMS)
def test_a_hostile_fhir_server_is_412_and_never_contacted_with_auth_off(name, hosts):
    allowed, forbidden = hosts
    app = make_app(fhir_server_allowlist=(base("http", allowed),))
    try:
        response = app.test_client().post(
            SERVICE_PATH, json=fetching_body(form(name, "http", *hosts), "at-secret")
        )
    finally:
        close(app)
    assert "fhirServer" in assert_operation_outcome(response, 412)
    assert (forbidden.connections, allowed.connections) == (0, 0)


@pytest.mark.parametrize("name", FORMS)
def test_a_hostile_fhir_server_is_412_and_never_contacted_with_auth_on(name, hosts):
    allowed, forbidden = hosts
    app = auth_app({ISS: issuer_config(fhir_servers=[base("https", allowed)])})
    try:
        response = app.test_client().post(
            SERVICE_PATH,
            json=fetching_body(form(name, "https", *hosts), "at-secret"),
            headers=bearer(make_token()),
        )
    finally:
        close(app)
    assert "fhirServer" in assert_operation_outcome(response, 412)
    assert (forbidden.connections, allowed.connections) == (0, 0)


def test_the_listeners_would_notice_a_connection(hosts):
    """The control: a plain allowed URL is contacted (and its non-FHIR answer is a 412)."""
    allowed, forbidden = hosts
    app = auth_app({ISS: issuer_config(fhir_servers=[base("https", allowed)])})
    try:
        response = app.test_client().post(
            SERVICE_PATH,
            json=fetching_body(base("https", allowed), "at-secret"),
            headers=bearer(make_token()),
        )
    finally:
        close(app)
    assert response.status_code == 412
    assert allowed.connections > 0 and forbidden.connections == 0


@pytest.mark.parametrize("name", FORMS)
def test_a_hostile_smart_iss_is_400_and_never_contacted(name, hosts):
    allowed, forbidden = hosts
    app = make_app(smart_client_id="cds-b12-test", fhir_server_allowlist=(base("http", allowed),))
    try:
        response = app.test_client().get(
            "/timeline/launch", query_string={"iss": form(name, "http", *hosts), "launch": "x"}
        )
    finally:
        close(app)
    assert "iss" in assert_operation_outcome(response, 400)
    assert "Location" not in response.headers
    assert (forbidden.connections, allowed.connections) == (0, 0)


@pytest.mark.parametrize("name", ["backslash", "decimal", "userinfo-forbidden-first", "tab"])
def test_a_hostile_next_link_is_not_followed(name, httpserver, hosts):
    """The server's own ``next`` link, read as its host by urlsplit, goes nowhere else."""
    _, forbidden = hosts
    fhir = httpserver.url_for("/fhir")
    here = f"{httpserver.host}:{httpserver.port}"  # as the base spells it
    link = FORMS[name].format(s="http", S="HTTP", A=httpserver.port, F=forbidden.port)
    link = link.replace(f"127.0.0.1:{httpserver.port}", here) + "/Observation?p=2"
    assert serve_r1_patient(httpserver, next_links={"Observation": link}) == fhir
    app = make_app(fhir_server_allowlist=(fhir,))
    try:
        response = app.test_client().post(SERVICE_PATH, json=fetching_body(fhir, "at-secret"))
    finally:
        close(app)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["cards"]
    assert forbidden.connections == 0


@pytest.mark.parametrize("name", ["backslash", "decimal", "userinfo-forbidden-first", "tab"])
@pytest.mark.parametrize("field", ["jwks_url", "jku_allowlist"])
def test_a_hostile_jwks_url_is_refused_when_the_issuers_are_read(name, field, hosts):
    url = FORMS[name].format(s="http", S="HTTP", A=hosts[0].port, F=hosts[1].port) + "/jwks"
    entry = {"jwks_url": url} if field == "jwks_url" else {**issuer_config(), field: [url]}
    with pytest.raises(IssuerConfigError, match="https"):
        parse_issuers({ISS: entry})
    assert hosts[1].connections == 0


@pytest.mark.parametrize("name", ["backslash", "decimal", "userinfo-forbidden-first", "tab"])
def test_a_hostile_jku_is_a_bare_401_and_never_fetched(name, hosts):
    allowed, forbidden = hosts
    listed = f"http://127.0.0.1:{allowed.port}/jwks"
    hostile = FORMS[name].format(s="http", S="HTTP", A=allowed.port, F=forbidden.port) + "/jwks"
    app = auth_app({ISS: {"jwks": jwks(), "jku_allowlist": [listed]}})
    try:
        response = app.test_client().post(
            SERVICE_PATH,
            json=fetching_body(base("https", allowed)),
            headers=bearer(make_token(jku=hostile)),
        )
    finally:
        close(app)
    assert_bare_401(response)
    assert (forbidden.connections, allowed.connections) == (0, 0)
