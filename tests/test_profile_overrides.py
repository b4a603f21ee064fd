"""``CDS_B12_PROFILE_OVERRIDES``: a deployment changes judgement values through a TOML file,
checked at start (a bad file stops ``serve`` and ``evaluate`` in one line, exit 2), shown
in ``/healthz`` and the start-up log, and used by every call and the CLI."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from cds_b12.api import create_app
from cds_b12.cli import main
from cds_b12.clinical.profiles import UK, US
from cds_b12.config import Settings, describe_error

from .scenarios import FIXTURES
from .serving import refused_serve

OVERDUE = FIXTURES / "R11-maintenance-overdue" / "monthly-overdue-fires.json"  # 15 days late
ENV = "CDS_B12_PROFILE_OVERRIDES"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "overrides.toml"
    path.write_text(text, encoding="utf-8")
    return path


def evaluate(args: list[str], capsys) -> dict:
    assert (
        main(["evaluate", "--bundle", str(OVERDUE), "--json", "--as-of", "2026-11-21", *args]) == 0
    )
    return json.loads(capsys.readouterr().out)


def test_the_file_changes_the_named_values(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(write(tmp_path, "[us]\noverdue_grace_monthly_days = 20\n")))
    settings = Settings()
    assert settings.profiles["us"].overdue_grace_monthly_days == 20
    assert settings.profiles["uk"].overdue_grace_monthly_days == 7


def test_evaluate_honours_the_overrides(tmp_path, monkeypatch, capsys):
    assert [c["summary"] for c in evaluate([], capsys)["cards"]]  # R11: 15 days overdue
    monkeypatch.setenv(ENV, str(write(tmp_path, "[us]\noverdue_grace_monthly_days = 20\n")))
    assert evaluate([], capsys)["cards"] == []  # now within the grace


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[us]\ngrace = 20\n", "us.grace: no such profile value"),
        ("[us]\nb12_deficient_below_ng_l = 200\n", "not a judgement value"),
        ("[us]\noverdue_grace_monthly_days = 'twenty'\n", "expected a whole number"),
        ("[usa]\noverdue_grace_monthly_days = 20\n", "not a profile"),
        ("[us\n", "not valid TOML"),
        (None, "cannot read it"),
    ],
)
def test_a_bad_file_stops_start_up_in_one_line(tmp_path, monkeypatch, capsys, text, reason):
    path = write(tmp_path, text) if text is not None else tmp_path / "missing.toml"
    monkeypatch.setenv(ENV, str(path))
    with pytest.raises(ValidationError) as exc:
        Settings()
    message = describe_error(exc.value)
    assert message.startswith(f"{ENV}: {path}: ") and reason in message and "\n" not in message
    for command in (["evaluate", "--bundle", str(OVERDUE)], ["serve", "--port", "1"]):
        assert main(command) == 2
        out, err = capsys.readouterr()
        assert out == "" and err == f"cds-b12: error: {message}\n"


def test_serve_refuses_a_bad_file_without_a_traceback(tmp_path):
    path = write(tmp_path, "[us]\ngrace = 20\n")
    proc = refused_serve({"PATH": "/usr/bin:/bin", ENV: str(path)})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "us.grace: no such profile value" in proc.stderr


def test_healthz_and_the_start_up_log_show_the_active_overrides(tmp_path, logs):
    path = write(tmp_path, "[uk]\nmma_upper_umol_l = 0.40\n[us]\nreview_days = 60\n")
    app = create_app(
        Settings(profile="uk", profile_overrides=path), today=lambda: date(2026, 11, 21)
    )
    body = app.test_client().get("/healthz").get_json()
    assert body["profileOverrides"] == {"uk": {"mma_upper_umol_l": 0.4}, "us": {"review_days": 60}}
    (line,) = [r for r in logs.records() if r["message"] == "profile overrides active"]
    assert line["file"] == str(path) and line["overrides"] == body["profileOverrides"]


def test_without_a_file_nothing_is_overridden(logs):
    app = create_app(Settings(), today=lambda: date(2026, 11, 21))
    assert app.test_client().get("/healthz").get_json()["profileOverrides"] == {}
    assert not [r for r in logs.records() if r["message"] == "profile overrides active"]


def test_a_call_naming_a_profile_gets_that_profile_with_its_overrides(tmp_path):
    path = write(tmp_path, "[us]\noverdue_grace_monthly_days = 20\n")
    app = create_app(
        Settings(profile="uk", profile_overrides=path), today=lambda: date(2026, 11, 21)
    )
    client = app.test_client()
    request = client.post(
        "/preview/request",
        json={"patient": "r11-monthly-overdue", "hook": "patient-view", "profile": "us"},
    ).get_json()["request"]
    assert request["extension"] == {"cds-b12.profile": "us"}
    cards = client.post("/cds-services/b12-patient-view", json=request).get_json()["cards"]
    assert cards == []


def test_the_readme_lists_every_judgement_value():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| Judgement value |")[1].split("\n\n")[0]
    listed = set(re.findall(r"^\| `(\w+)` \|", table, flags=re.M))
    assert listed == set(US.judgement_names) | set(UK.judgement_names)
