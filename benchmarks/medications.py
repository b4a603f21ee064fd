"""The benchmark patient's medicines as FHIR R4 JSON: a monthly cyanocobalamin order with
its administrations (the last 45 days ago, so R11 fires), long-term oral medicines, and
the draft orders an order-sign call carries.

RxNorm medications, the IM route in SNOMED CT; every date counted back from ``as_of``.
"""

from __future__ import annotations

from datetime import date, timedelta

from .resources import LOINC, PATIENT_ID, RXNORM, SNOMED, coding, instant, quantity

CYANOCOBALAMIN = coding(RXNORM, "309594", "vitamin B12 1 MG/ML Injectable Solution")
IM_ROUTE = {
    "coding": [coding(SNOMED, "78421000", "Intramuscular route")],
    "text": "Intramuscular route",
}
ORAL_ROUTE = {"coding": [coding(SNOMED, "26643006", "Oral route")], "text": "Oral route"}
# the maintenance order, which the order-sign draft orders again:
# (medication, text, route, dose, unit, repeat) of _medication_request
MONTHLY_CYANOCOBALAMIN = (
    CYANOCOBALAMIN,
    "Inject 1000 mcg (1 mL) IM once a month",
    IM_ROUTE,
    1000,
    "ug",
    {"frequency": 1, "period": 1, "periodUnit": "mo"},
)

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
        "doseAndRate": [{"doseQuantity": quantity(dose, unit)}],
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
        "authoredOn": instant(authored, 10, 12),
        "requester": {"display": "Dr. Maria Lopez"},
        "dosageInstruction": [dosage],
    }


def medication_requests(count: int, as_of: date) -> list[dict]:
    """A monthly cyanocobalamin maintenance order first, then long-term oral medicines."""
    out = [
        _medication_request(1, *MONTHLY_CYANOCOBALAMIN, as_of - timedelta(days=5 * 365), "active")
    ]
    for n in range(1, count):
        code, display, text, route, dose, unit, freq, period, period_unit = OTHER_MEDICATIONS[
            (n - 1) % len(OTHER_MEDICATIONS)
        ]
        out.append(
            _medication_request(
                n + 1,
                coding(RXNORM, code, display),
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
        "effectiveDateTime": instant(day, 10, 30),
        "request": {"reference": f"MedicationRequest/{PATIENT_ID}-medrx-1"},
        "dosage": {"route": IM_ROUTE, "dose": quantity(1000, "ug")},
    }


def administrations(count: int, as_of: date) -> list[dict]:
    """Monthly injections, the last 45 days ago: the maintenance dose is overdue (R11)."""
    return [_administration(n + 1, as_of - timedelta(days=45 + 30 * n)) for n in range(count)]


def draft_orders(as_of: date) -> list[dict]:
    """Three orders being signed: a B12 injection, folic acid and a serum B12 test."""
    injection = _medication_request(101, *MONTHLY_CYANOCOBALAMIN, as_of, "draft")
    folate = _medication_request(
        102,
        coding(RXNORM, "4511", "folic acid"),
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
                coding(LOINC, "2132-9", "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma")
            ],
            "text": "Vitamin B12",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authoredOn": instant(as_of, 11, 5),
    }
    return [injection, folate, b12_test]
