"""``cds-b12 evaluate``: works on every fixture, prints exact JSON, fails in one line."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from cds_b12.cli import main

from .scenarios import FIXTURES, scenarios

R1 = FIXTURES / "R1-start-neuro-loading" / "pa-neuro-low-b12-fires.json"


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.id)
def test_evaluate_every_fixture_in_its_profiles(scenario, capsys):
    code = main(
        [
            "evaluate",
            "--bundle",
            str(scenario.path),
            "--hook",
            scenario.hook,
            "--profile",
            scenario.profile,
            "--as-of",
            "2026-11-21",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    if scenario.expect:
        assert out.count("    source: ") == len(scenario.expect)
    else:
        assert out.startswith("No cards")


@pytest.mark.parametrize("profile", ["us", "uk", "UK"])
def test_json_output_is_the_cds_hooks_response(profile, capsys):
    assert (
        main(
            [
                "evaluate",
                "--bundle",
                str(R1),
                "--profile",
                profile,
                "--json",
                "--as-of",
                "2026-11-21",
            ]
        )
        == 0
    )
    body = json.loads(capsys.readouterr().out)
    assert list(body) == ["cards"]
    (card,) = body["cards"]
    assert card["indicator"] == "critical"
    med = card["suggestions"][0]["actions"][0]["resource"]
    expected = {"us": "309594", "uk": "317106"}[profile.lower()]
    assert med["medicationCodeableConcept"]["coding"][0]["code"] == expected


def test_fixture_dates_follow_as_of(capsys):
    main(["evaluate", "--bundle", str(R1), "--json", "--as-of", "2030-05-01"])
    assert "2030-05-01" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"{not json", "is not JSON"),
        (b'{"hello": "world"}', "is not a FHIR resource"),
        (b"[1, 2]", "is not a FHIR resource"),
        (b"\xff\xfe", "is not JSON"),
    ],
)
def test_bad_file_is_one_line_and_exit_2(tmp_path, content, message):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_bytes(content)
    proc = subprocess.run(
        [sys.executable, "-m", "cds_b12.cli", "evaluate", "--bundle", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr


def test_bad_as_of_is_a_usage_error(capsys):
    assert main(["evaluate", "--bundle", str(R1), "--as-of", "yesterday"]) == 2
    assert "not a date (YYYY-MM-DD): 'yesterday'" in capsys.readouterr().err


@pytest.mark.parametrize("profile", ["us", "uk"])
@pytest.mark.parametrize("hook", ["patient-view", "order-sign"])
def test_every_fixture_evaluates_in_both_profiles_and_hooks(profile, hook, capsys):
    from .conformance import assert_valid_card

    for path in sorted(FIXTURES.glob("*/*.json")):
        assert (
            main(
                [
                    "evaluate",
                    "--bundle",
                    str(path),
                    "--profile",
                    profile,
                    "--hook",
                    hook,
                    "--json",
                    "--as-of",
                    "2026-11-21",
                ]
            )
            == 0
        ), path
        for card in json.loads(capsys.readouterr().out)["cards"]:
            assert_valid_card(card)


def test_text_output_never_breaks_a_url_across_lines(capsys):
    """Every URL of every card (detail links and source) appears whole on one line."""
    for path in sorted(FIXTURES.glob("*/*.json")):
        for profile in ("us", "uk"):
            args = [
                "evaluate",
                "--bundle",
                str(path),
                "--profile",
                profile,
                "--as-of",
                "2026-11-21",
            ]
            assert main([*args, "--json"]) == 0
            cards = json.loads(capsys.readouterr().out)["cards"]
            assert main(args) == 0
            lines = capsys.readouterr().out.splitlines()
            for card in cards:
                urls = {card["source"]["url"], *re.findall(r"\]\((\S+?)\)", card["detail"])}
                for url in urls:
                    assert any(f"<{url}>" in line for line in lines), (path.name, url)
