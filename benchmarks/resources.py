"""The benchmark patient's Patient, Conditions and lab Observations as FHIR R4 JSON, and
the code systems and small builders (a coding, a UCUM quantity, an instant in the
patient's time zone) that ``medications.py`` writes its resources with too.

Shapes follow the bundles in ``fhir_fixtures/``: a Patient with US Core style
identifiers, problem-list Conditions in SNOMED CT, labs with LOINC and UCUM, values
drawn from a seeded random generator so every run builds the same patient.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
EST = timezone(timedelta(hours=-5))

PATIENT_ID = "bench-patient"


@dataclass(frozen=True, slots=True)
class Lab:
    loinc: str
    display: str
    text: str
    unit: str
    low: float
    high: float
    values: Callable[[random.Random], float]


# The labs the service reads, with plausible values for a treated pernicious anaemia.
LABS = (
    Lab(
        "2132-9",
        "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma",
        "Vitamin B12",
        "pg/mL",
        232,
        1245,
        lambda r: round(r.uniform(380, 720)),
    ),
    Lab(
        "718-7",
        "Hemoglobin [Mass/volume] in Blood",
        "Haemoglobin",
        "g/dL",
        11.1,
        15.9,
        lambda r: round(r.uniform(12.2, 14.1), 1),
    ),
    Lab(
        "787-2",
        "MCV [Entitic volume] by Automated count",
        "MCV",
        "fL",
        79,
        97,
        lambda r: round(r.uniform(86, 95), 1),
    ),
    Lab(
        "13964-2",
        "Methylmalonate [Moles/volume] in Serum or Plasma",
        "Methylmalonic acid",
        "umol/L",
        0.0,
        0.4,
        lambda r: round(r.uniform(0.12, 0.3), 2),
    ),
)
# How many of each per 20 results: mostly CBCs, some B12, a few MMA.
LAB_MIX = (LABS[0],) * 5 + (LABS[1],) * 6 + (LABS[2],) * 6 + (LABS[3],) * 3


def coding(system: str, code: str, display: str) -> dict:
    """A Coding with its display, as EHRs send them."""
    return {"system": system, "code": code, "display": display}


def quantity(value: float, unit: str) -> dict:
    """A UCUM quantity, its unit both as written and as the code."""
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def instant(day: date, hour: int, minute: int = 0) -> str:
    """``day`` at ``hour:minute`` in the patient's time zone, as an ISO 8601 instant."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=EST).isoformat()


def patient() -> dict:
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
        "extension": [
            {
                "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
                "valueCode": "F",
            },
        ],
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        coding(
                            "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "MR",
                            "Medical Record Number",
                        )
                    ]
                },
                "system": "urn:oid:2.16.840.1.113883.19.5.99999.1",
                "value": "MRN900001",
            }
        ],
        "active": True,
        "name": [{"use": "official", "family": "Okafor", "given": ["Margaret", "A."]}],
        "telecom": [{"system": "phone", "value": "555-0100", "use": "home"}],
        "gender": "female",
        "birthDate": "1957-04-12",
        "address": [
            {
                "line": ["12 Elm Street"],
                "city": "Springfield",
                "state": "IL",
                "postalCode": "62701",
                "country": "US",
            }
        ],
    }


def condition(n: int, code: str, display: str, text: str, onset: date) -> dict:
    """Problem-list Condition ``n``, active and confirmed since ``onset``."""
    return {
        "resourceType": "Condition",
        "id": f"{PATIENT_ID}-cond-{n}",
        "clinicalStatus": {
            "coding": [
                coding(
                    "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"
                )
            ]
        },
        "verificationStatus": {
            "coding": [
                coding(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "confirmed",
                    "Confirmed",
                )
            ]
        },
        "category": [
            {
                "coding": [
                    coding(
                        "http://terminology.hl7.org/CodeSystem/condition-category",
                        "problem-list-item",
                        "Problem List Item",
                    )
                ]
            }
        ],
        "code": {"coding": [coding(SNOMED, code, display)], "text": text},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "onsetDateTime": onset.isoformat(),
        "recordedDate": instant(onset, 10),
    }


CONDITIONS = (
    ("84027009", "Pernicious anemia", "Pernicious anaemia", 6 * 365),
    ("44054006", "Diabetes mellitus type 2", "Type 2 diabetes", 9 * 365),
    ("38341003", "Hypertensive disorder", "Hypertension", 12 * 365),
    ("55822004", "Hyperlipidemia", "Hyperlipidaemia", 10 * 365),
    ("195967001", "Asthma", "Asthma", 20 * 365),
    ("40055000", "Chronic sinusitis", "Chronic sinusitis", 3 * 365),
    ("239873007", "Osteoarthritis of knee", "Knee osteoarthritis", 5 * 365),
    ("35489007", "Depressive disorder", "Depression", 8 * 365),
    ("235595009", "Gastroesophageal reflux disease", "GORD", 4 * 365),
    ("267036007", "Dyspnea", "Breathlessness", 2 * 365),
)


def _observation(n: int, lab: Lab, day: date, value: float) -> dict:
    flag = "L" if value < lab.low else "H" if value > lab.high else "N"
    return {
        "resourceType": "Observation",
        "id": f"{PATIENT_ID}-obs-{n}",
        "status": "final",
        "category": [{"coding": [coding(OBS_CATEGORY, "laboratory", "Laboratory")]}],
        "code": {"coding": [coding(LOINC, lab.loinc, lab.display)], "text": lab.text},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": instant(day, 8, 15),
        "issued": instant(day, 14, 30),
        "valueQuantity": quantity(value, lab.unit),
        "interpretation": [
            {
                "coding": [
                    coding(INTERPRETATION, flag, {"L": "Low", "H": "High", "N": "Normal"}[flag])
                ]
            }
        ],
        "referenceRange": [
            {"low": quantity(lab.low, lab.unit), "high": quantity(lab.high, lab.unit)}
        ],
    }


def observations(count: int, as_of: date, span_days: int, rng: random.Random) -> list[dict]:
    """``count`` results spread evenly over ``span_days``, newest first (as a search sorts)."""
    out = []
    for n in range(count):
        lab = LAB_MIX[n % len(LAB_MIX)]
        day = as_of - timedelta(days=10 + (span_days * n) // max(count, 1))
        out.append(_observation(n + 1, lab, day, lab.values(rng)))
    return out
