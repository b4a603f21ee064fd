"""``CDS_B12_SITE_SETTINGS``: a site's own rules, indicators and hold periods, checked at start
(a file that would switch a safety rail off stops start-up in one line, exit 2) and read again
when it changes, keeping the last good one if the change is bad."""

from __future__ import annotations

import json
import os

import pytest
from pydantic import ValidationError

from cds_b12.cli import main
from cds_b12.config import Settings, describe_error
from cds_b12.fatigue import sites
from cds_b12.fatigue.policy import DEFAULT_ACCEPTED_DAYS, DEFAULT_SNOOZE_DAYS
from cds_b12.fatigue.sites import SiteSettings, load_sites

from ..serving import refused_serve

ENV = "CDS_B12_SITE_SETTINGS"
GOOD = """
[default]
snooze_days = { "patient-declined" = 60 }

[sites."tenant-a"]
rules_off = ["R17-metformin-screening"]
indicators = { "R18-acid-suppressant-screening" = "warning" }
snooze_days = { "already-addressed" = 7 }
accepted_days = 10

[sites."https://ehr.example.org"]
snooze_days = { "specialist-managing" = 30 }
"""


def write(tmp_path, text: str, name: str = "sites.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_site_gets_its_own_settings_over_the_default(tmp_path):
    table = load_sites(write(tmp_path, GOOD))
    a = table.site("tenant-a", "https://ehr.example.org")  # the tenant before its issuer
    assert a.rules_off == {"R17-metformin-screening"}
    assert a.indicator("R18-acid-suppressant-screening", "info") == "warning"
    assert dict(a.policy.snooze_days) == {
        **DEFAULT_SNOOZE_DAYS,
        "patient-declined": 60,
        "already-addressed": 7,
    }
    assert a.policy.accepted_days == 10

    by_issuer = table.site("tenant-b", "https://ehr.example.org")
    assert (
        by_issuer.rules_off == set() and by_issuer.policy.snooze_days["specialist-managing"] == 30
    )
    assert by_issuer.policy.snooze_days["patient-declined"] == 60  # the default table still

    other = table.site(None, "https://another.example.org")
    assert other.policy.snooze_days == {**DEFAULT_SNOOZE_DAYS, "patient-declined": 60}
    assert other.policy.accepted_days == DEFAULT_ACCEPTED_DAYS


def test_json_reads_the_same(tmp_path):
    body = {
        "sites": {
            "tenant-a": {
                "rules_off": ["R17-metformin-screening"],
                "snooze_days": {"already-addressed": 7},
            }
        }
    }
    path = write(tmp_path, json.dumps(body), "sites.json")
    site = load_sites(path).site("tenant-a", None)
    assert site.rules_off == {"R17-metformin-screening"}
    assert site.policy.snooze_days["already-addressed"] == 7


def test_a_critical_card_stays_critical_and_shown_whatever_the_site_says(tmp_path):
    site = load_sites(write(tmp_path, GOOD)).site("tenant-a", None)
    assert site.indicator("R18-acid-suppressant-screening", "critical") == "critical"
    assert site.switched_off("R17-metformin-screening", "info")
    assert not site.switched_off("R17-metformin-screening", "critical")  # a rail raised it


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('[default]\nrules_off = ["S3"]\n', "S3 is a safety rail: safety rails always run"),
        (
            '[sites.a]\nrules_off = ["R20-folate-without-b12"]\n',
            "R20-folate-without-b12 is a critical safety card and cannot be switched off",
        ),
        (
            '[sites.a]\nrules_off = ["R28-order-dose-error"]\n',
            "R28-order-dose-error is a critical safety card and cannot be switched off",
        ),
        (
            '[sites.a]\nindicators = { "R7-severe-anaemia" = "info" }\n',
            "R7-severe-anaemia is a critical safety card and stays critical",
        ),
        ('[sites.a]\nindicators = { "S8" = "info" }\n', "S8 is a safety rail"),
        ('[sites.a]\nrules_off = ["R99-nothing"]\n', "'R99-nothing' is not a rule id"),
        ('[sites.a]\nsnooze_days = { "bored" = 3 }\n', "unknown override reason 'bored'"),
        ('[sites.a]\nsnooze_days = { "patient-declined" = -1 }\n', "greater than or equal to 0"),
        ('[sites.a]\nindicators = { "R17-metformin-screening" = "loud" }\n', "'info', 'warning'"),
        ("[sites.a]\nswitch_off = true\n", "sites.a.switch_off: unknown setting"),
        ("[sites.a\n", "not valid TOML"),
        (None, "cannot read it"),
    ],
)
def test_a_bad_file_stops_start_up_in_one_line(tmp_path, monkeypatch, capsys, text, reason):
    path = write(tmp_path, text) if text is not None else tmp_path / "missing.toml"
    monkeypatch.setenv(ENV, str(path))
    with pytest.raises(ValidationError) as exc:
        Settings()
    message = describe_error(exc.value)
    assert message.startswith(f"{ENV}: {path}: ") and reason in message, message
    assert "\n" not in message
    assert main(["serve", "--port", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"cds-b12: error: {message}\n"


def test_serve_refuses_a_file_that_switches_a_rail_off_without_a_traceback(tmp_path):
    path = write(tmp_path, '[sites.a]\nrules_off = ["R1-start-neuro-loading"]\n')
    proc = refused_serve({"PATH": "/usr/bin:/bin", ENV: str(path)})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert "R1-start-neuro-loading is a critical safety card" in proc.stderr


def test_a_changed_file_is_read_again_and_a_bad_change_keeps_the_last_good(tmp_path, monkeypatch):
    path = write(tmp_path, GOOD)
    settings = SiteSettings(path)
    assert settings.site("tenant-a", None).rules_off == {"R17-metformin-screening"}
    monkeypatch.setattr(sites, "RECHECK_SECONDS", 0.0)

    path.write_text('[sites."tenant-a"]\nrules_off = []\n')
    os.utime(path, ns=(1, 1))  # a new modification time, however fast the test runs
    assert settings.site("tenant-a", None).rules_off == set()

    path.write_text('[sites."tenant-a"]\nrules_off = ["R1-start-neuro-loading"]\n')
    os.utime(path, ns=(2, 2))
    assert settings.site("tenant-a", None).rules_off == set()  # refused: the last good stays
