"""Through the hook path: a patient who has died gets no cards at all, and a patient with no
birth date gets the adult cards with a data-quality note saying so (issue 12 §8)."""

from __future__ import annotations

from datetime import date

import pytest

from cds_b12.clinical import get_profile
from cds_b12.hooks.fixtures import fixture_patients
from cds_b12.hooks.response import respond

AS_OF = date(2026, 11, 21)
PATIENTS = {p.path.name: p for p in fixture_patients()}


def cards(name: str, profile: str, *, extra: tuple[dict, ...] = ()) -> list[dict]:
    resources, drafts = PATIENTS[name].data(AS_OF)
    result = respond(
        [*resources, *extra], profile=get_profile(profile), as_of=AS_OF, draft_orders=drafts
    )
    return result.body["cards"]


@pytest.mark.parametrize("name", ["deceased-overdue-silent.json", "deceased-boolean-silent.json"])
def test_a_patient_who_has_died_gets_no_cards_even_with_data_notes(name):
    unreadable = {"resourceType": "Observation", "id": "bad", "status": "final", "code": {}}
    broken = {
        "resourceType": "Observation",
        "id": "b12-no-unit",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2132-9"}]},
        "effectiveDateTime": "2026-11-20",
        "valueQuantity": {"value": 90},
    }
    assert cards(name, "us", extra=(unreadable, broken)) == []


def test_the_same_record_alive_gets_its_cards():
    assert cards("monthly-overdue-fires.json", "us")


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_no_birth_date_the_adult_card_says_so(profile):
    (card,) = cards("no-birth-date-adult.json", profile)
    assert "no birth date: adult guidance applied; check the patient's age" in card["detail"]


def test_a_childs_unreadable_b12_is_still_said():
    child = {"resourceType": "Patient", "id": "child-1", "birthDate": "2019-03-01"}
    b12 = {
        "resourceType": "Observation",
        "id": "b12-no-unit",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2132-9"}]},
        "effectiveDateTime": "2026-11-18",
        "valueQuantity": {"value": 90},
    }
    result = respond([child, b12], profile=get_profile("uk"), as_of=AS_OF)
    assert {r.rule for r in result.evaluation.recommendations} == {"R25-unreadable-result"}
