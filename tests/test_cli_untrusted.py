"""``cds-b12 evaluate``: a B12 that cannot be read prints a card with its data note, in text
and in JSON, instead of "No cards"."""

from __future__ import annotations

import json

import pytest

from cds_b12.cli import main

from .scenarios import FIXTURES

NO_UNIT = FIXTURES / "R25-unreadable-result" / "b12-no-unit-macrocytosis-fires.json"


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_an_unreadable_b12_is_a_card_with_its_note(profile, capsys):
    args = ["evaluate", "--bundle", str(NO_UNIT), "--profile", profile, "--as-of", "2026-01-01"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert not text.startswith("No cards")
    assert "could not be read" in text
    assert "value ignored: no unit given for vitamin B12" in text
    assert main([*args, "--json"]) == 0
    (card,) = json.loads(capsys.readouterr().out)["cards"]
    assert "value ignored: no unit given for vitamin B12" in card["detail"]
