"""Nitrous oxide however the EHR records it (a Condition, a MedicationStatement, a social
history Observation answered yes) changes the plan the same way (S12); answered no, it does not."""

from __future__ import annotations

from datetime import date

import pytest

from cds_b12.clinical import get_profile
from cds_b12.hooks.response import respond

AS_OF = date(2026, 1, 1)
LOINC = "http://loinc.org"
SUBJECT = {"reference": "Patient/p1"}


def lab(oid, code, value, unit):
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": SUBJECT,
        "effectiveDateTime": "2025-12-20",
        "valueQuantity": {"value": value, "unit": unit},
    }


BASE = [
    {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "2000-02-02"},
    lab("b12", "2132-9", 320, "pg/mL"),
    {
        "resourceType": "Condition",
        "id": "neuro",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"text": "Paraesthesia of both feet"},
        "subject": SUBJECT,
    },
]
SOCIAL = {"resourceType": "Observation", "id": "n2o", "status": "final", "subject": SUBJECT}
EXPOSURES = {
    "condition": {
        "resourceType": "Condition",
        "id": "n2o",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"text": "Recreational nitrous oxide use"},
        "subject": SUBJECT,
    },
    "statement": {
        "resourceType": "MedicationStatement",
        "id": "n2o",
        "status": "active",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7486"}]
        },
        "subject": SUBJECT,
    },
    "observation yes": {
        **SOCIAL,
        "code": {"text": "Nitrous oxide use"},
        "valueBoolean": True,
    },
    "observation words": {
        **SOCIAL,
        "code": {"text": "Recreational drug use"},
        "valueString": "laughing gas (whippets) most weekends",
    },
}


def card(*resources, profile="UK"):
    result = respond([*BASE, *resources], profile=get_profile(profile), as_of=AS_OF)
    (only,) = result.body["cards"]
    return only


@pytest.mark.parametrize("recorded", list(EXPOSURES))
def test_nitrous_oxide_recorded_any_way_orders_homocysteine_and_no_antibodies(recorded):
    detail = card(EXPOSURES[recorded])["detail"].lower()
    labs = next(line for line in detail.splitlines() if line.startswith("**labs:**"))
    assert "homocysteine" in labs
    assert not any(word in labs for word in ("intrinsic factor", "if antibody", "parietal"))
    plan = next(line for line in detail.splitlines() if line.startswith("**plan:**"))
    assert "for life" not in plan and "then" not in plan
    assert "advise stopping" in detail or "stop nitrous oxide" in detail


@pytest.mark.parametrize(
    "answer", [{"valueBoolean": False}, {"valueString": "Denies"}, {"valueString": "Never"}]
)
def test_nitrous_oxide_answered_no_changes_nothing(answer):
    detail = card({**SOCIAL, "code": {"text": "Nitrous oxide use"}, **answer})["detail"]
    assert "homocysteine" not in detail.lower()
    assert "nitrous oxide" not in detail.lower()
