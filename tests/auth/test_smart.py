"""Where an EHR's SMART endpoints may be: its own origin, https on its host, or an
https base the operator lists; never a plain-http host, never an ambiguous URL."""

from __future__ import annotations

import pytest

from cds_b12.auth.smart import EndpointPolicy, pkce
from cds_b12.net.urls import UrlRefused, parse

ISS = parse("https://ehr.example.org/fhir/r4")
DEV_ISS = parse("http://127.0.0.1:8080/fhir")  # local development, authentication off
LISTED = ("https://authorization.example.org/tenants/a",)


@pytest.mark.parametrize(
    ("iss", "url", "listed"),
    [
        (ISS, "https://ehr.example.org/oauth2/authorize", ()),
        (ISS, "https://EHR.example.org:443/oauth2/token", ()),
        (ISS, "https://ehr.example.org:8443/oauth2/authorize", ()),
        (ISS, "https://authorization.example.org/tenants/a/authorize", LISTED),
        (DEV_ISS, "http://127.0.0.1:8080/auth/authorize", ()),
    ],
)
def test_allowed_endpoints(iss, url, listed):
    assert EndpointPolicy(listed).check(url, iss) == parse(url)


@pytest.mark.parametrize(
    ("iss", "url", "listed", "reason"),
    [
        (ISS, "http://ehr.example.org/oauth2/authorize", (), "must use https"),
        (ISS, "https://evil.example/authorize", (), "not allowed"),
        (ISS, "https://authorization.example.org/tenants/b/authorize", LISTED, "allowlist"),
        (ISS, "http://authorization.example.org/tenants/a/authorize", LISTED, "https"),
        (ISS, "https://ehr.example.org\\@evil.example/authorize", (), "backslash"),
        (ISS, "https://ehr.example.org@evil.example/authorize", (), "userinfo"),
        (ISS, "https://ehr.example.org.evil.example/authorize", (), "not allowed"),
        (ISS, None, (), "not a URL"),
        (DEV_ISS, "http://127.0.0.1:9999/auth/token", (), "must use https"),
        (DEV_ISS, "http://localhost:8080/auth/token", (), "must use https"),
    ],
)
def test_refused_endpoints(iss, url, listed, reason):
    with pytest.raises(UrlRefused, match=reason):
        EndpointPolicy(listed).check(url, iss)


def test_loopback_http_endpoints_only_with_the_setting():
    url = "http://127.0.0.1:9000/auth/token"
    with pytest.raises(UrlRefused):
        EndpointPolicy(("http://127.0.0.1:9000",)).check(url, ISS)
    assert EndpointPolicy(("http://127.0.0.1:9000",), http_loopback=True).check(url, ISS)


def test_the_pkce_verifier_is_the_servers_own_and_differs_per_launch():
    one, two = pkce(b"key", "state-1"), pkce(b"key", "state-2")
    assert one == pkce(b"key", "state-1") and one != two
    assert one != pkce(b"another key", "state-1")
    assert len(one[0]) == 43 and one[0] != one[1]
