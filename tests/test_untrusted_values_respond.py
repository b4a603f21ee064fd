"""A value that cannot be trusted reaches every response it affects: the card and its
data-quality note, on patient-view and on the order hooks alike."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cds_b12.clinical import get_profile
from cds_b12.hooks.response import respond

AS_OF = date(2026, 1, 1)
LOINC = "http://loinc.org"


def bundle(value: str) -> object:
    text = f"""{{"resourceType": "Bundle", "type": "collection", "entry": [
      {{"resource": {{"resourceType": "Patient", "id": "p1", "gender": "male",
                      "birthDate": "1961-05-04"}}}},
      {{"resource": {{"resourceType": "Observation", "id": "b12", "status": "final",
        "code": {{"coding": [{{"system": "{LOINC}", "code": "2132-9"}}]}},
        "effectiveDateTime": "2025-12-20", "valueQuantity": {value}}}}},
      {{"resource": {{"resourceType": "Observation", "id": "mcv", "status": "final",
        "code": {{"coding": [{{"system": "{LOINC}", "code": "787-2"}}]}},
        "effectiveDateTime": "2025-12-20", "valueQuantity": {{"value": 107, "unit": "fL"}}}}}}
    ]}}"""
    return json.loads(text)


DRAFT = {
    "resourceType": "ServiceRequest",
    "id": "draft-cbc",
    "status": "draft",
    "intent": "order",
    "code": {"coding": [{"system": LOINC, "code": "58410-2"}]},
    "subject": {"reference": "Patient/p1"},
}


@pytest.mark.parametrize(
    "value",
    [
        '{"value": 150}',
        '{"value": NaN, "unit": "pg/mL"}',
        '{"value": 1e400, "unit": "pg/mL"}',
        '{"value": "1,250", "unit": "pg/mL"}',
        '{"value": 150, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pmol/L"}',
    ],
)
@pytest.mark.parametrize("drafts", [None, [DRAFT]], ids=["patient-view", "order-select"])
@pytest.mark.parametrize("profile", ["US", "UK"])
def test_an_only_b12_that_cannot_be_read_gets_a_card_with_its_note(value, drafts, profile):
    result = respond(bundle(value), profile=get_profile(profile), as_of=AS_OF, draft_orders=drafts)
    cards = result.body["cards"]
    assert cards, "a B12 that cannot be read must not give an empty response"
    (card,) = [c for c in cards if "could not be read" in c["summary"]]
    assert card["indicator"] == "warning"  # MCV 107: the missing value may matter now
    assert "Observation/b12: value ignored:" in card["detail"]
    assert "B12 of 2025-12-20:" in card["detail"]


@pytest.mark.parametrize("drafts", [None, [DRAFT]], ids=["patient-view", "order-select"])
@pytest.mark.parametrize("profile", ["US", "UK"])
def test_an_hb_no_living_patient_can_have_is_said_and_not_read_as_no_anaemia(drafts, profile):
    """75 "g/dL" (the lab meant g/L: 7.5 g/dL, severe anaemia) was read as not anaemic."""
    data = bundle('{"value": 150, "unit": "pg/mL"}')
    data["entry"].append(
        {
            "resource": {
                "resourceType": "Observation",
                "id": "hb",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": "718-7"}]},
                "effectiveDateTime": "2025-12-20",
                "valueQuantity": {"value": 75, "unit": "g/dL"},
            }
        }
    )
    result = respond(data, profile=get_profile(profile), as_of=AS_OF, draft_orders=drafts)
    assert result.evaluation.assessment.hb is None
    said = "Hb of 2025-12-20: 75 g/dL is outside what a living patient can have; check the unit"
    (card,) = [c for c in result.body["cards"] if "could not be read" in c["summary"]]
    assert f"not used: {said}." in card["detail"]
    # Said once on every card: in the card's own words, or as its data-quality note.
    assert f"Observation/hb: {said}" not in card["detail"]
    assert all(c["detail"].count(said) == 1 for c in result.body["cards"])


def test_a_censored_b12_is_shown_with_its_comparator_and_the_undecided_note():
    result = respond(
        bundle('{"value": 200, "comparator": "<", "unit": "pg/mL"}'),
        profile=get_profile("US"),
        as_of=AS_OF,
    )
    (card,) = result.body["cards"]
    assert card["summary"].startswith("Order methylmalonic acid")
    assert "<200 pg/mL" in card["detail"] or "&lt;200 pg/mL" in card["detail"]
    assert "reported only as a limit that spans more than one band" in card["detail"]


@pytest.mark.parametrize(
    ("administration", "message"),
    [
        ({}, "no date given; not counted as a dose"),
        ({"effectiveDateTime": "last week"}, "date not understood; not counted as a dose"),
    ],
)
def test_a_dose_without_a_date_is_said_on_the_cards(administration, message):
    """An injection the record holds with no usable date cannot be placed against the B12
    (S2: a B12 within 14 days of a dose is ignored): each card says it is not counted."""
    data = bundle('{"value": 150, "unit": "pg/mL"}')
    data["entry"].append(
        {
            "resource": {
                "resourceType": "MedicationAdministration",
                "id": "ma1",
                "status": "completed",
                "subject": {"reference": "Patient/p1"},
                "medicationCodeableConcept": {
                    "coding": [
                        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "309594"}
                    ]
                },
                **administration,
            }
        }
    )
    cards = respond(data, profile=get_profile("UK"), as_of=AS_OF).body["cards"]
    assert cards
    assert all(f"MedicationAdministration/ma1: {message}" in card["detail"] for card in cards)


def observation(id_: str, loinc: str, on: str, quantity: dict) -> dict:
    return {
        "resource": {
            "resourceType": "Observation",
            "id": id_,
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": loinc}]},
            "effectiveDateTime": on,
            "valueQuantity": quantity,
        }
    }


RESTS_ON = "(this card rests on it until the newer one is checked: it could not be read, "


def card_detail(data: object, profile: str, summary: str) -> str:
    result = respond(data, profile=get_profile(profile), as_of=AS_OF)
    (card,) = [c for c in result.body["cards"] if summary in c["summary"]]
    return card["detail"]


def loading_card(data: object, profile: str) -> str:
    return card_detail(data, profile, "Start B12 loading")


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_a_loading_card_quoting_an_older_hb_names_the_newer_one_that_cannot_be_trusted(profile):
    """The card quoted the older Hb as if it were the newest; the newer one (75 "g/dL", a
    g/L slip: 7.5 g/dL, severe anaemia) reached only the data-quality note."""
    data = bundle('{"value": 150, "unit": "pg/mL"}')
    data["entry"] += [
        observation("hb-older", "718-7", "2025-12-10", {"value": 12.4, "unit": "g/dL"}),
        observation("hb", "718-7", "2025-12-20", {"value": 75, "unit": "g/dL"}),
    ]
    detail = loading_card(data, profile)
    hb_line = next(line for line in detail.splitlines() if line.startswith("- Hb:"))
    assert RESTS_ON in hb_line
    assert "Hb of 2025-12-20: 75 g/dL is outside what a living patient can have" in hb_line
    # R25's subject is the unreadable Hb: its own card quotes the readable one plain.
    r25 = card_detail(data, profile, "could not be read")
    assert "- Hb: 12.4 g/dL on 2025-12-10; MCV:" in r25


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_a_loading_card_quoting_an_older_mma_names_the_newer_one_that_cannot_be_read(profile):
    """{markers} quoted the older MMA with no word of the newer one, which has no unit."""
    data = bundle('{"value": 150, "unit": "pg/mL"}')
    data["entry"] += [
        observation("mma-older", "13964-2", "2025-12-10", {"value": 0.5, "unit": "umol/L"}),
        observation("mma", "13964-2", "2025-12-20", {"value": 0.6}),
    ]
    detail = loading_card(data, profile)
    b12_line = next(line for line in detail.splitlines() if line.startswith("- Serum B12:"))
    assert f"; MMA: 0.5 umol/L on 2025-12-10 {RESTS_ON}MMA of 2025-12-20:" in b12_line
