"""A note that changes what the decisions rest on is listed with the decision notes, before
status skips and bookkeeping: a reference range set aside (the bands then use the
profile's limits, not the lab's) and a missing birth date (adult guidance is applied) are
such notes. Another patient's entry, left out, is bookkeeping: this patient's decisions
never rest on it."""

from __future__ import annotations

from datetime import date

from cds_b12.clinical import get_profile
from cds_b12.clinical.record import NoteKind
from cds_b12.fhir.read import read_record
from cds_b12.hooks.response import respond

AS_OF = date(2026, 1, 1)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SUBJECT = {"reference": "Patient/p1"}


def quantity(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


CANCELLED = {
    "resourceType": "MedicationRequest",
    "id": "m1",
    "status": "cancelled",
    "intent": "order",
    "subject": SUBJECT,
    "medicationCodeableConcept": {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "309594"}]
    },
}
NO_BIRTH_DATE = {"resourceType": "Patient", "id": "p1", "gender": "female"}
B12 = {
    "resourceType": "Observation",
    "id": "b12",
    "status": "final",
    "code": {"coding": [{"system": LOINC, "code": "2132-9"}]},
    "subject": SUBJECT,
    "effectiveDateTime": "2025-12-20",
    "valueQuantity": quantity(150, "pg/mL"),
    "referenceRange": [{"low": quantity(200, "mg/dL")}],
}


def test_a_range_set_aside_and_no_birth_date_are_decision_notes():
    record = read_record([CANCELLED, NO_BIRTH_DATE, B12])
    assert [(n.resource, n.kind) for n in record.notes] == [
        ("MedicationRequest/m1", NoteKind.STATUS),
        ("Patient/p1", NoteKind.DECISION),
        ("Observation/b12", NoteKind.DECISION),
    ]


def test_the_cards_list_them_before_a_cancelled_order():
    data = {"resourceType": "Bundle", "type": "collection"}
    data["entry"] = [{"resource": r} for r in (CANCELLED, NO_BIRTH_DATE, B12)]
    (card, *_) = respond(data, profile=get_profile("UK"), as_of=AS_OF).body["cards"]
    _, _, block = card["detail"].partition("**Data quality:**")
    lines = [line.split(":")[0] for line in block.split("\n") if line.startswith("- ")]
    assert sorted(lines[:2]) == ["- Observation/b12", "- Patient/p1"]
    assert lines[2:] == ["- MedicationRequest/m1"]
