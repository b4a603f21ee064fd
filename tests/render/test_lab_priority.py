"""Issue 11 §4: a test's ServiceRequest priority follows the clinical need, the same way
in every card: the 48-hour potassium checks of severe-anaemia loading are urgent, a
follow-up scheduled weeks ahead is routine."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from cds_b12.clinical.profiles import UK, US

from ..scenarios import AS_OF
from .profile_cards import fixture_cards


def _requests(card: dict):
    for suggestion in card.get("suggestions", []):
        for action in suggestion["actions"]:
            resource = action.get("resource", {})
            if resource.get("resourceType") == "ServiceRequest":
                yield resource


def _due(sr: dict) -> date:
    start = sr.get("occurrenceDateTime") or sr["occurrencePeriod"]["start"]
    return date.fromisoformat(start)


def test_follow_up_weeks_ahead_is_routine_and_potassium_checks_are_urgent():
    horizon = AS_OF + timedelta(
        days=max(UK.potassium_recheck_days[1], US.potassium_recheck_days[1])
    )
    wrong = []
    for where, _profile, card in fixture_cards():
        for sr in _requests(card):
            test = sr["code"]["text"]
            if _due(sr) > horizon and sr["priority"] != "routine":
                wrong.append((where, test, str(_due(sr)), sr["priority"]))
            if test == "Potassium" and sr["priority"] != "urgent":
                wrong.append((where, test, str(_due(sr)), sr["priority"]))
    assert not wrong


def test_one_test_due_on_one_day_has_one_priority_in_a_response():
    seen: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for where, _profile, card in fixture_cards():
        for sr in _requests(card):
            seen[(where, sr["code"]["text"], str(_due(sr)))].add(sr["priority"])
    assert not {k: v for k, v in seen.items() if len(v) > 1}


def test_a_severe_anaemia_patient_gets_urgent_potassium_checks():
    potassium = [
        sr
        for where, _profile, card in fixture_cards()
        if where.startswith("R7-")
        for sr in _requests(card)
        if sr["code"]["text"] == "Potassium"
    ]
    assert potassium and {sr["priority"] for sr in potassium} == {"urgent"}
