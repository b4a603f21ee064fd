"""Benchmark patients, built deterministically in code as FHIR R4 JSON.

Shapes follow the bundles in ``fhir_fixtures/`` (a Patient with US Core style
identifiers, labs with LOINC and UCUM, RxNorm medications, IM route in SNOMED CT)
and every date is counted back from ``as_of``, so the patients never go stale.

- ``typical``: 20 Observations, 5 MedicationRequests, 10 MedicationAdministrations,
  3 Conditions; pernicious anaemia on monthly cyanocobalamin, last dose 45 days ago.
- ``heavy``: 500 Observations and 100 MedicationAdministrations over nine years,
  with more orders and problems; the same clinical picture.
- ``order-sign``: the typical record plus a draft bundle of 3 orders (cyanocobalamin
  injection, folic acid, a serum B12 test).
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from cds_b12.hooks.example_request import example_request

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
EST = timezone(timedelta(hours=-5))

PATIENT_ID = "bench-patient"
SIZES = ("typical", "heavy", "order-sign")


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


def _coding(system: str, code: str, display: str) -> dict:
    return {"system": system, "code": code, "display": display}


def _quantity(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _instant(day: date, hour: int, minute: int = 0) -> str:
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
                        _coding(
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


def _condition(n: int, code: str, display: str, text: str, onset: date) -> dict:
    return {
        "resourceType": "Condition",
        "id": f"{PATIENT_ID}-cond-{n}",
        "clinicalStatus": {
            "coding": [
                _coding(
                    "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"
                )
            ]
        },
        "verificationStatus": {
            "coding": [
                _coding(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "confirmed",
                    "Confirmed",
                )
            ]
        },
        "category": [
            {
                "coding": [
                    _coding(
                        "http://terminology.hl7.org/CodeSystem/condition-category",
                        "problem-list-item",
                        "Problem List Item",
                    )
                ]
            }
        ],
        "code": {"coding": [_coding(SNOMED, code, display)], "text": text},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "onsetDateTime": onset.isoformat(),
        "recordedDate": _instant(onset, 10),
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
        "category": [{"coding": [_coding(OBS_CATEGORY, "laboratory", "Laboratory")]}],
        "code": {"coding": [_coding(LOINC, lab.loinc, lab.display)], "text": lab.text},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": _instant(day, 8, 15),
        "issued": _instant(day, 14, 30),
        "valueQuantity": _quantity(value, lab.unit),
        "interpretation": [
            {
                "coding": [
                    _coding(INTERPRETATION, flag, {"L": "Low", "H": "High", "N": "Normal"}[flag])
                ]
            }
        ],
        "referenceRange": [
            {"low": _quantity(lab.low, lab.unit), "high": _quantity(lab.high, lab.unit)}
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


CYANOCOBALAMIN = _coding(RXNORM, "309594", "vitamin B12 1 MG/ML Injectable Solution")
IM_ROUTE = {
    "coding": [_coding(SNOMED, "78421000", "Intramuscular route")],
    "text": "Intramuscular route",
}
ORAL_ROUTE = {"coding": [_coding(SNOMED, "26643006", "Oral route")], "text": "Oral route"}

# (RxNorm code, display, text, route, dose, unit, frequency, period, periodUnit)
OTHER_MEDICATIONS = (
    ("6809", "metformin", "metformin 1000 mg tablet", ORAL_ROUTE, 1000, "mg", 2, 1, "d"),
    ("29046", "lisinopril", "lisinopril 10 mg tablet", ORAL_ROUTE, 10, "mg", 1, 1, "d"),
    ("83367", "atorvastatin", "atorvastatin 20 mg tablet", ORAL_ROUTE, 20, "mg", 1, 1, "d"),
    ("435", "albuterol", "albuterol inhaler", None, 2, "{puff}", 4, 1, "d"),
    ("36567", "simvastatin", "simvastatin 20 mg tablet", ORAL_ROUTE, 20, "mg", 1, 1, "d"),
    ("5640", "ibuprofen", "ibuprofen 400 mg tablet", ORAL_ROUTE, 400, "mg", 3, 1, "d"),
    ("32968", "clopidogrel", "clopidogrel 75 mg tablet", ORAL_ROUTE, 75, "mg", 1, 1, "d"),
    ("36437", "sertraline", "sertraline 50 mg tablet", ORAL_ROUTE, 50, "mg", 1, 1, "d"),
)


def _medication_request(
    n: int,
    coding: dict,
    text: str,
    route: dict | None,
    dose: float,
    unit: str,
    repeat: dict,
    authored: date,
    status: str,
) -> dict:
    dosage: dict = {
        "text": text,
        "timing": {"repeat": repeat},
        "doseAndRate": [{"doseQuantity": _quantity(dose, unit)}],
    }
    if route is not None:
        dosage["route"] = route
    return {
        "resourceType": "MedicationRequest",
        "id": f"{PATIENT_ID}-medrx-{n}",
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"coding": [coding], "text": text},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authoredOn": _instant(authored, 10, 12),
        "requester": {"display": "Dr. Maria Lopez"},
        "dosageInstruction": [dosage],
    }


def medication_requests(count: int, as_of: date) -> list[dict]:
    """A monthly cyanocobalamin maintenance order first, then long-term oral medicines."""
    out = [
        _medication_request(
            1,
            CYANOCOBALAMIN,
            "Inject 1000 mcg (1 mL) IM once a month",
            IM_ROUTE,
            1000,
            "ug",
            {"frequency": 1, "period": 1, "periodUnit": "mo"},
            as_of - timedelta(days=5 * 365),
            "active",
        )
    ]
    for n in range(1, count):
        code, display, text, route, dose, unit, freq, period, period_unit = OTHER_MEDICATIONS[
            (n - 1) % len(OTHER_MEDICATIONS)
        ]
        out.append(
            _medication_request(
                n + 1,
                _coding(RXNORM, code, display),
                text,
                route,
                dose,
                unit,
                {"frequency": freq, "period": period, "periodUnit": period_unit},
                as_of - timedelta(days=6 * 365 - 30 * n),
                "active",
            )
        )
    return out


def _administration(n: int, day: date) -> dict:
    return {
        "resourceType": "MedicationAdministration",
        "id": f"{PATIENT_ID}-medadmin-{n}",
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [CYANOCOBALAMIN],
            "text": "cyanocobalamin 1000 mcg/mL injection",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": _instant(day, 10, 30),
        "request": {"reference": f"MedicationRequest/{PATIENT_ID}-medrx-1"},
        "dosage": {"route": IM_ROUTE, "dose": _quantity(1000, "ug")},
    }


def administrations(count: int, as_of: date) -> list[dict]:
    """Monthly injections, the last 45 days ago: the maintenance dose is overdue (R11)."""
    return [_administration(n + 1, as_of - timedelta(days=45 + 30 * n)) for n in range(count)]


def record(size: str, as_of: date) -> list[dict]:
    """The patient's record (no drafts) for ``typical`` or ``heavy``."""
    rng = random.Random(f"cds-b12-benchmark-{size}")
    if size == "heavy":
        counts = {"obs": 500, "span": 9 * 365, "medrx": 20, "admin": 100, "cond": 10}
    else:
        counts = {"obs": 20, "span": 3 * 365, "medrx": 5, "admin": 10, "cond": 3}
    conditions = [
        _condition(n + 1, code, display, text, as_of - timedelta(days=ago))
        for n, (code, display, text, ago) in enumerate(CONDITIONS[: counts["cond"]])
    ]
    return [
        patient(),
        *conditions,
        *observations(counts["obs"], as_of, counts["span"], rng),
        *medication_requests(counts["medrx"], as_of),
        *administrations(counts["admin"], as_of),
    ]


def draft_orders(as_of: date) -> list[dict]:
    """Three orders being signed: a B12 injection, folic acid and a serum B12 test."""
    injection = _medication_request(
        101,
        CYANOCOBALAMIN,
        "Inject 1000 mcg (1 mL) IM once a month",
        IM_ROUTE,
        1000,
        "ug",
        {"frequency": 1, "period": 1, "periodUnit": "mo"},
        as_of,
        "draft",
    )
    folate = _medication_request(
        102,
        _coding(RXNORM, "4511", "folic acid"),
        "folic acid 5 mg by mouth once daily",
        ORAL_ROUTE,
        5,
        "mg",
        {"frequency": 1, "period": 1, "periodUnit": "d"},
        as_of,
        "draft",
    )
    b12_test = {
        "resourceType": "ServiceRequest",
        "id": f"{PATIENT_ID}-sr-103",
        "status": "draft",
        "intent": "order",
        "code": {
            "coding": [
                _coding(LOINC, "2132-9", "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma")
            ],
            "text": "Vitamin B12",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authoredOn": _instant(as_of, 11, 5),
    }
    return [injection, folate, b12_test]


def hook_request(size: str, as_of: date) -> dict:
    """The CDS Hooks request an EHR would send for ``size``, with every prefetch key filled."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; one of {', '.join(SIZES)}")
    if size == "order-sign":
        body = example_request(
            record("typical", as_of), hook="order-sign", drafts=draft_orders(as_of)
        )
    else:
        body = example_request(record(size, as_of), hook="patient-view")
    body["hookInstance"] = f"00000000-0000-4000-8000-{SIZES.index(size):012d}"
    return body


_HOOK_INSTANCE = re.compile(rb'"hookInstance"\s*:\s*"[^"]*"')
_PATIENT_ID = re.compile(rb'"patientId"\s*:\s*"([^"]+)"')
PATIENT_POOL = 1000  # patients the calls go round, as an EHR's calls come from many


def fresh_calls(raw: bytes, patients: int = PATIENT_POOL) -> Callable[[], bytes]:
    """The request ``raw`` again at each call, with a hookInstance of its own and one of
    ``patients`` patients in turn (the same record under another id).

    An EHR sends a new hookInstance with every hook call, for many patients. The same
    instance every time would have the service hold its cards back as already shown in
    that call (alert-fatigue control), and one patient called tens of thousands of
    times would give that patient a card history no real patient has.
    ``benchmarks/wrk/*.lua`` do the same for wrk.
    """
    instance = _HOOK_INSTANCE.search(raw)
    patient = _PATIENT_ID.search(raw)
    if instance is None or patient is None:
        return lambda: raw
    pid = patient.group(1)
    before = raw[: instance.start()].split(pid)
    after = raw[instance.end() :].split(pid)
    base = f'"hookInstance": "{random.getrandbits(32):08x}-0000-4000-8000-'.encode()
    counter = itertools.count(1)

    def call() -> bytes:
        n = next(counter)
        new_pid = b"%s-%04d" % (pid, n % patients)
        return b'%s%s%012x"%s' % (new_pid.join(before), base, n, new_pid.join(after))

    return call


def service_path(size: str) -> str:
    return (
        "/cds-services/b12-order-sign" if size == "order-sign" else "/cds-services/b12-patient-view"
    )


def transaction(resources: list[dict]) -> dict:
    """A transaction Bundle that PUTs each resource, to load a FHIR server."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for r in resources
        ],
    }
