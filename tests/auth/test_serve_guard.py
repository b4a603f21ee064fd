"""``cds-b12 serve`` refuses to listen beyond loopback unless callers are authenticated,
and refuses issuers without the public URL their tokens' ``aud`` is checked against."""

from __future__ import annotations

import json

import pytest

from cds_b12 import cli, serve

from .support import ISS, issuer_config


@pytest.fixture(autouse=True)
def _never_start_gunicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("serve() was reached: gunicorn would have started")

    monkeypatch.setattr(serve, "serve", refuse)


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "cds.example.org"])
def test_serving_beyond_loopback_without_issuers_is_refused(host, capsys):
    assert cli.main(["serve", "--host", host]) == 2
    line = error_line(capsys)
    assert line.startswith(f"cds-b12: error: refusing to serve on {host}")
    assert "CDS_B12_TRUSTED_ISSUERS" in line


def test_issuers_without_a_public_url_are_refused(monkeypatch, capsys):
    monkeypatch.setenv("CDS_B12_TRUSTED_ISSUERS", json.dumps({ISS: issuer_config()}))
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    line = error_line(capsys)
    assert line.startswith("cds-b12: error: ")
    assert "CDS_B12_PUBLIC_URL" in line and "required" in line


def test_a_bad_issuer_entry_is_refused_naming_the_issuer(monkeypatch, capsys):
    monkeypatch.setenv("CDS_B12_PUBLIC_URL", "https://cds.example.org")
    monkeypatch.setenv(
        "CDS_B12_TRUSTED_ISSUERS", json.dumps({ISS: issuer_config(algorithms=["HS256"])})
    )
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    line = error_line(capsys)
    assert line.startswith("cds-b12: error: CDS_B12_TRUSTED_ISSUERS")
    assert ISS in line and "HS256" in line
