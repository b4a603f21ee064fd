"""Results sent as a panel's components reach the cards as results sent one by one would:
a blood count panel's Hb and a B12 + folate panel's B12 are quoted as the lab reported them."""

from __future__ import annotations

from datetime import date

from cds_b12.clinical import get_profile
from cds_b12.hooks.response import respond

AS_OF = date(2026, 1, 1)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def code(value: str) -> dict:
    return {"coding": [{"system": LOINC, "code": value}]}


def part(loinc: str, value: float, unit: str) -> dict:
    quantity = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    return {"code": code(loinc), "valueQuantity": quantity}


def panel(oid: str, loinc: str, *parts: dict) -> dict:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": code(loinc),
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2025-12-20",
        "component": list(parts),
    }


PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1961-05-04"}


def test_a_card_quotes_the_b12_and_hb_of_panels():
    data = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": r}
            for r in (
                PATIENT,
                panel(
                    "b12-folate",
                    "96805-7",
                    part("2132-9", 118, "pg/mL"),
                    part("2284-8", 9, "ng/mL"),
                ),
                panel("fbc", "58410-2", part("718-7", 7.4, "g/dL"), part("787-2", 112, "fL")),
            )
        ],
    }
    cards = respond(data, profile=get_profile("US"), as_of=AS_OF).body["cards"]
    text = " ".join(f"{c['summary']} {c.get('detail', '')}" for c in cards)
    assert "118 pg/mL" in text
    assert "7.4 g/dL" in text
    assert "could not be read" not in text


def test_a_b12_whose_panel_copy_disagrees_is_said_and_not_used():
    """The B12 member says 118 pg/mL, the panel's copy 480: neither decides the cards (no
    loading card from 118), and the cards say which two disagree."""
    b12 = {**panel("b12", "2132-9"), "valueQuantity": part("2132-9", 118, "pg/mL")["valueQuantity"]}
    grouper = {
        **panel("b12-folate", "96805-7", part("2132-9", 480, "pg/mL")),
        "hasMember": [{"reference": "Observation/b12"}],
    }
    data = {"resourceType": "Bundle", "type": "collection"}
    data["entry"] = [{"resource": r} for r in (PATIENT, grouper, b12)]
    cards = respond(data, profile=get_profile("US"), as_of=AS_OF).body["cards"]
    text = " ".join(f"{c['summary']} {c.get('detail', '')}" for c in cards)
    assert "vitamin B12 and Observation/b12's disagree" in text
    assert "118 pg/mL" not in text
