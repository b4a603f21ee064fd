"""``CDS_B12_*`` environment variables become Settings; a bad value stops start-up, named."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from cds_b12.config import Settings, describe_error

from .support import make_app


def settings_from(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(f"CDS_B12_{name.upper()}", value)
    return Settings()


def test_defaults_with_nothing_configured():
    settings = Settings()
    assert settings.profile == "us"
    assert settings.fhir_server_allowlist == ()
    assert settings.trusted_issuers == {}
    assert settings.cors_origins is None  # chosen by whether callers authenticate
    assert settings.frame_ancestors == "'none'"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("us", "us"),
        ("US", "us"),
        ("Uk", "uk"),
        ("UK", "uk"),
    ],
)
def test_profile_is_case_insensitive(monkeypatch, value, expected):
    assert settings_from(monkeypatch, profile=value).profile == expected


@pytest.mark.parametrize("value", ["fr", "", "usa"])
def test_unknown_profile_is_an_error_naming_the_variable(monkeypatch, value):
    with pytest.raises(ValidationError) as exc:
        settings_from(monkeypatch, profile=value)
    assert describe_error(exc.value).startswith("CDS_B12_PROFILE: ")


def test_log_level_is_case_insensitive(monkeypatch):
    assert settings_from(monkeypatch, log_level="debug").log_level == "DEBUG"
    with pytest.raises(ValidationError):
        settings_from(monkeypatch, log_level="verbose")


@pytest.mark.parametrize(
    "value",
    [
        "https://a.example/fhir/, https://b.example/r4 ,,",
        '["https://a.example/fhir/", "https://b.example/r4"]',
        ' ["https://a.example/fhir", "https://b.example/r4/"] ',
    ],
)
def test_fhir_server_allowlist_as_comma_list_or_json_list(monkeypatch, value):
    settings = settings_from(monkeypatch, fhir_server_allowlist=value)
    assert settings.fhir_server_allowlist == ("https://a.example/fhir", "https://b.example/r4")


def test_cors_origins_as_a_comma_list(monkeypatch):
    settings = settings_from(monkeypatch, cors_origins="https://ehr.example, https://b.example")
    assert settings.cors_origins == ("https://ehr.example", "https://b.example")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("'self'", "'self'"),
        ("https://ehr.example.org  https://*.example.net:8443", None),
        ("'self' http://localhost:3000", None),
    ],
)
def test_frame_ancestors_are_csp_sources(monkeypatch, value, expected):
    settings = settings_from(monkeypatch, frame_ancestors=value)
    assert settings.frame_ancestors == (expected or " ".join(value.split()))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "'self'; script-src *",
        "https://a.example, https://b.example",
        "'unsafe-inline'",
        "https://a.example\r\nSet-Cookie: x=1",
        "data:",
    ],
)
def test_frame_ancestors_that_would_change_the_policy_are_refused(monkeypatch, value):
    with pytest.raises(ValidationError) as exc:
        settings_from(monkeypatch, frame_ancestors=value)
    assert describe_error(exc.value).startswith("CDS_B12_FRAME_ANCESTORS: ")


@pytest.mark.parametrize("value", ['["https://a.example"', '[1, {"x": 2}]'])
def test_bad_fhir_server_allowlist_is_an_error(monkeypatch, value):
    with pytest.raises(ValidationError) as exc:
        settings_from(monkeypatch, fhir_server_allowlist=value)
    assert describe_error(exc.value).startswith("CDS_B12_FHIR_SERVER_ALLOWLIST: ")


ISSUERS = {
    "https://sandbox.cds-hooks.org": {
        "jwks_url": "https://sandbox.cds-hooks.org/.well-known/jwks.json",
        "jku_allowlist": ["https://sandbox.cds-hooks.org/.well-known/jwks.json"],
        "algorithms": ["ES384"],
    }
}
PUBLIC = "https://cds.example.org"


def test_trusted_issuers_inline_json(monkeypatch):
    settings = settings_from(monkeypatch, trusted_issuers=json.dumps(ISSUERS), public_url=PUBLIC)
    assert settings.trusted_issuers == ISSUERS
    assert settings.authenticating


def test_trusted_issuers_from_a_file(monkeypatch, tmp_path):
    path = tmp_path / "issuers.json"
    path.write_text(json.dumps(ISSUERS), encoding="utf-8")
    settings = settings_from(monkeypatch, trusted_issuers=str(path), public_url=PUBLIC)
    assert settings.trusted_issuers == ISSUERS


def test_trusted_issuers_need_the_public_url(monkeypatch):
    with pytest.raises(ValidationError) as exc:
        settings_from(monkeypatch, trusted_issuers=json.dumps(ISSUERS))
    assert "CDS_B12_PUBLIC_URL is required" in describe_error(exc.value)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({}, "exactly one of jwks_url and jwks"),
        ({"jwks_url": "ftp://x"}, "ftp://x must be https (http only on loopback)"),
        ({"jwks_url": "http://keys.example/jwks"}, "must be https (http only on loopback)"),
        (
            {"jwks_url": "https://x", "jku_allowlist": ["http://x/jwks"]},
            "http://x/jwks must be https",
        ),
        ({"jwks": {"nokeys": []}}, "jwks: not a JWK Set"),
        ({"jwks": {"keys": [{"kty": "EC"}]}}, "jwks: every key in a JWK Set needs a unique kid"),
        ({"jwks_url": "https://x", "algorithms": ["HS256"]}, "algorithms not allowed: HS256"),
        ({"jwks_url": "https://x", "algorithms": ["none"]}, "algorithms not allowed: none"),
        ({"jwks_url": "https://x", "fhir_servers": "https://x"}, "fhir_servers must be a list"),
    ],
)
def test_bad_issuer_entries_are_named(monkeypatch, entry, message):
    with pytest.raises(ValidationError) as exc:
        settings_from(
            monkeypatch,
            trusted_issuers=json.dumps({"https://iss.example": entry}),
            public_url=PUBLIC,
        )
    text = describe_error(exc.value)
    assert text.startswith("CDS_B12_TRUSTED_ISSUERS: https://iss.example: ") and message in text


def test_empty_trusted_issuers_is_none_trusted(monkeypatch):
    assert settings_from(monkeypatch, trusted_issuers="  ").trusted_issuers == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "not a JSON object"),
        ('["https://sandbox.cds-hooks.org"]', ""),
        ('{"https://iss.example": "not an object"}', ""),
    ],
)
def test_bad_trusted_issuers_file_is_an_error(monkeypatch, tmp_path, content, message):
    path = tmp_path / "issuers.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        settings_from(monkeypatch, trusted_issuers=str(path))
    text = describe_error(exc.value)
    assert text.startswith("CDS_B12_TRUSTED_ISSUERS: ") and message in text


@pytest.mark.parametrize("value", ['{"https://iss.example": ', '["https://iss.example"]'])
def test_bad_inline_trusted_issuers_is_an_error(monkeypatch, value):
    """An inline array is read as JSON and refused as such, not taken for a missing file."""
    with pytest.raises(ValidationError) as exc:
        settings_from(monkeypatch, trusted_issuers=value)
    assert "not a JSON object" in describe_error(exc.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("fhir_deadline", "0"),
        ("fhir_deadline", "soon"),
        ("fhir_deadline", "16"),
        ("fhir_deadline", "inf"),
        ("fhir_deadline", "nan"),
        ("fhir_read_timeout", "-1"),
        ("fhir_connect_timeout", "0"),
        ("fhir_max_pages", "0"),
        ("fhir_max_pages", "2.5"),
    ],
)
def test_bad_fetch_limits_are_errors_naming_the_variable(monkeypatch, name, value):
    with pytest.raises(ValidationError) as exc:
        settings_from(monkeypatch, **{name: value})
    assert describe_error(exc.value).startswith(f"CDS_B12_{name.upper()}: ")


def test_fetch_limits_from_the_environment(monkeypatch):
    settings = settings_from(
        monkeypatch, fhir_deadline="1.5", fhir_max_pages="3", fhir_read_timeout="0.25"
    )
    assert (settings.fhir_deadline, settings.fhir_max_pages, settings.fhir_read_timeout) == (
        1.5,
        3,
        0.25,
    )


def test_settings_from_the_environment_reach_the_app(monkeypatch):
    monkeypatch.setenv("CDS_B12_PROFILE", "UK")
    monkeypatch.setenv("CDS_B12_FHIR_DEADLINE", "1.25")
    runtime = make_app().extensions["cds_b12"]
    assert runtime.profile.name == "UK"
    assert runtime.client.limits.deadline == 1.25
