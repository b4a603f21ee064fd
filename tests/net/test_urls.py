"""``net.urls``: one parse, the HTTP client's, and one policy on its result.

Each refused form is one that ``urlsplit`` and urllib3 (what ``requests`` connects
with) can read differently, or that reaches a host other than the one it spells.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from urllib3.util import parse_url

from cds_b12.net.urls import Target, UrlPolicy, UrlRefused, parse

A, B = 8001, 8002  # A: the allowed host's port; B: where an attacker wants the request to go

REFUSED = {
    "backslash before @": (f"http://127.0.0.1:{B}\\@127.0.0.1:{A}/fhir", "backslash"),
    "double backslash": (f"http://127.0.0.1:{B}\\\\@127.0.0.1:{A}/fhir", "backslash"),
    "backslash as a slash": (f"http://127.0.0.1:{A}\\fhir", "backslash"),
    "%5C before @": (f"http://127.0.0.1:{B}%5C@127.0.0.1:{A}/fhir", "userinfo"),
    "userinfo, allowed host last": (f"http://127.0.0.1:{B}@127.0.0.1:{A}/fhir", "userinfo"),
    "userinfo, allowed host first": (f"http://127.0.0.1:{A}@127.0.0.1:{B}/fhir", "userinfo"),
    "user and password": (f"http://u:p@127.0.0.1:{A}/fhir", "userinfo"),
    "encoded @ in the authority": (f"http://127.0.0.1:{B}%40127.0.0.1:{A}/fhir", "well-formed"),
    "encoded slash in the host": (f"http://127.0.0.1%2F:{A}/fhir", "percent-encoding"),
    "tab before @": (f"http://127.0.0.1:{B}\t@127.0.0.1:{A}/fhir", "whitespace"),
    "tab in the host": (f"http://127.0.0.1\t:{A}/fhir", "whitespace"),
    "newline": (f"http://127.0.0.1:{A}/fhir\n", "whitespace"),
    "space": (f"http://127.0.0.1:{A}/fhir x", "whitespace"),
    "NUL": (f"http://127.0.0.1:{A}\x00@127.0.0.1:{B}/fhir", "control"),
    "DEL": (f"http://127.0.0.1:{A}/fhir\x7f", "control"),
    "mixed-case scheme with a backslash": (f"HtTp://127.0.0.1:{B}\\@127.0.0.1:{A}/", "backslash"),
    "trailing dot": (f"http://localhost.:{A}/fhir", "dot"),
    "decimal IPv4": (f"http://2130706433:{A}/fhir", "dotted-decimal"),
    "hex IPv4": (f"http://0x7f000001:{A}/fhir", "dotted-decimal"),
    "octal IPv4": (f"http://0177.0.0.1:{A}/fhir", "dotted-decimal"),
    "short IPv4": (f"http://127.1:{A}/fhir", "dotted-decimal"),
    "IPv4-mapped IPv6": (f"http://[::ffff:127.0.0.1]:{A}/fhir", "IPv4-mapped"),
    "IPv6 zone": (f"http://[fe80::1%25eth0]:{A}/fhir", "percent-encoding"),
    "bad IPv6": (f"http://[::g]:{A}/fhir", "well-formed"),
    "non-ASCII host": (f"http://exämple.org:{A}/fhir", "non-ASCII"),
    "fullwidth dot": ("http://127.0.0.1\uff0e/fhir", "non-ASCII"),
    "dot segment": (f"http://127.0.0.1:{A}/fhir/../admin", "segment"),
    "encoded dot segment": (f"http://127.0.0.1:{A}/fhir/%2e%2E/admin", "segment"),
    "encoded slash in the path": (f"http://127.0.0.1:{A}/fhir%2F..%2Fadmin", "encoded slash"),
    "no host": ("http:///fhir", "no host"),
    "one slash": ("http:/127.0.0.1/fhir", "no host"),
    "no scheme": ("127.0.0.1/fhir", "http or https"),
    "ftp": ("ftp://127.0.0.1/fhir", "http or https"),
    "file": ("file:///etc/passwd", "http or https"),
    "port out of range": ("http://127.0.0.1:99999/fhir", "well-formed"),
    "not a string": (42, "not a URL"),
}


@pytest.mark.parametrize(("url", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_ambiguous_forms_are_refused_with_a_reason(url, reason):
    with pytest.raises(UrlRefused, match=reason):
        parse(url)


def test_the_table_covers_forms_on_which_the_parsers_disagree():
    """The reason for all this: some of these really do name two different hosts."""
    disagree = 0
    for url, _ in REFUSED.values():
        if not isinstance(url, str):
            continue
        try:
            ours, theirs = urlsplit(url), parse_url(url)
            if (ours.hostname, ours.port) != (theirs.host, theirs.port):
                disagree += 1
        except ValueError:  # urllib3's LocationParseError is one too
            continue
    assert disagree >= 3


def test_a_refusal_never_repeats_the_url():
    with pytest.raises(UrlRefused) as caught:
        parse("https://user:secret-password@ehr.example.org/fhir")
    assert "secret-password" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://EHR.Example.ORG/fhir/R4", "https://ehr.example.org/fhir/R4"),
        ("https://ehr.example.org:443/fhir", "https://ehr.example.org/fhir"),
        ("http://127.0.0.1:08080/fhir", "http://127.0.0.1:8080/fhir"),
        ("http://[0:0:0:0:0:0:0:1]:8080/fhir", "http://[::1]:8080/fhir"),
        ("https://ehr.example.org", "https://ehr.example.org/"),
        ("https://ehr.example.org/fhir#frag", "https://ehr.example.org/fhir"),
        (
            "https://ehr.example.org/fhir/Observation?code=http://loinc.org|2132-9&_count=200",
            "https://ehr.example.org/fhir/Observation?code=http://loinc.org%7C2132-9&_count=200",
        ),
    ],
)
def test_the_client_is_given_the_url_as_parsed(url, expected):
    target = parse(url)
    assert target.url == expected
    # and requests reads that string exactly as we did: nothing left to reinterpret
    prepared = parse_url(requests.Request("GET", target.url).prepare().url)
    assert (prepared.host, prepared.port or 0) == (target.host, prepared.port or 0)
    assert parse(target.url) == target


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("[::1]", True),
        ("localhost.evil.example", False),
        ("127.0.0.1.nip.io", False),
        ("10.0.0.5", False),
        ("0.0.0.0", False),
    ],
)
def test_loopback_is_this_machine_only(host, loopback):
    assert parse(f"http://{host}:8080/").loopback is loopback


BASES = ("https://ehr.example.org/fhir/r4", "http://127.0.0.1:8080/fhir")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://ehr.example.org/fhir/r4", True),
        ("https://EHR.example.org:443/fhir/r4/", True),
        ("https://ehr.example.org/fhir/r4/Patient/1", True),
        ("https://ehr.example.org/fhir/r4b", False),
        ("https://ehr.example.org/fhir", False),
        ("https://ehr.example.org:8443/fhir/r4", False),
        ("http://ehr.example.org/fhir/r4", False),
        ("https://ehr.example.org.evil.example/fhir/r4", False),
        ("https://evil.example/ehr.example.org/fhir/r4", False),
    ],
)
def test_a_url_is_allowed_only_under_an_allowed_base(url, allowed):
    policy = UrlPolicy.of(BASES, open=False)
    if allowed:
        assert isinstance(policy.check(url), Target)
    else:
        with pytest.raises(UrlRefused):
            policy.check(url)


def test_https_only_refuses_http_unless_loopback_is_explicitly_allowed():
    url = "http://127.0.0.1:8080/fhir/Patient/1"
    with pytest.raises(UrlRefused, match="must use https"):
        UrlPolicy.of(BASES, open=False, https_only=True).check(url)
    assert UrlPolicy.of(BASES, open=False, https_only=True, http_loopback=True).check(url)
    with pytest.raises(UrlRefused, match="only to this machine"):
        UrlPolicy(https_only=True, http_loopback=True).check("http://10.0.0.5/fhir")


def test_a_closed_policy_with_no_bases_allows_nothing_and_an_open_one_anything_well_formed():
    with pytest.raises(UrlRefused, match="no server"):
        UrlPolicy(open=False).check("https://ehr.example.org/fhir")
    assert UrlPolicy().check("http://10.0.0.5:1234/fhir")
    with pytest.raises(UrlRefused, match="backslash"):
        UrlPolicy().check("http://10.0.0.5:1234\\@ehr.example.org/fhir")


def test_bases_that_can_never_match_are_named():
    policy = UrlPolicy(https_only=True)
    assert policy.unreachable(
        ["https://ehr.example.org/fhir", "http://ehr.example.org/fhir", "http://127.0.0.1/f", "x"]
    ) == [
        ("http://ehr.example.org/fhir", "must use https"),
        ("http://127.0.0.1/f", "must use https"),
        ("x", "must be an http or https URL"),
    ]
    assert UrlPolicy(https_only=True, http_loopback=True).unreachable(["http://127.0.0.1/f"]) == []


def test_an_allowlist_of_only_unusable_entries_allows_nothing():
    with pytest.raises(UrlRefused):
        UrlPolicy.of(["https://ehr.example.org\\@evil.example/fhir"]).check("https://evil.example/")
