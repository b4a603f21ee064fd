"""Draft orders as an EHR's order entry writes them, from a few choices (the preview editor).

Codes are written out as an EHR sends them (RxNorm, SNOMED CT, LOINC, UCUM),
so the drafts go through the same reader as a real order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from uuid import uuid4

from ..clinical.regimens import CYANOCOBALAMIN_INJ, CYANOCOBALAMIN_ORAL_1MG, HYDROXOCOBALAMIN_INJ
from .request import BadRequest

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"


@dataclass(frozen=True, slots=True)
class Product:
    code: str
    display: str
    route: tuple[str, str]  # SNOMED CT route code, display


_IM = ("78421000", "Intramuscular route")
_ORAL = ("26643006", "Oral route")
# the same RxNorm drugs (code and name) as the suggested regimens
PRODUCTS = {
    "cyanocobalamin-im": Product(CYANOCOBALAMIN_INJ.rxnorm, CYANOCOBALAMIN_INJ.display, _IM),
    "hydroxocobalamin-im": Product(HYDROXOCOBALAMIN_INJ.rxnorm, HYDROXOCOBALAMIN_INJ.display, _IM),
    "cyanocobalamin-oral": Product(
        CYANOCOBALAMIN_ORAL_1MG.rxnorm, CYANOCOBALAMIN_ORAL_1MG.display, _ORAL
    ),
}
FOLIC_ACID = Product("4511", "folic acid", _ORAL)
# every -> (period, periodUnit, words)
SCHEDULES = {
    "day": (1, "d", "daily"),
    "2-days": (2, "d", "every other day"),
    "week": (1, "wk", "weekly"),
    "month": (1, "mo", "monthly"),
    "2-months": (2, "mo", "every 2 months"),
    "3-months": (3, "mo", "every 3 months"),
}
DRAFT_KINDS = ("b12", "folic-acid", "b12-test")


def draft_order(choice: Mapping[str, object], patient_id: str, today: date) -> dict:
    """One draft MedicationRequest or ServiceRequest; a bad choice is a ``BadRequest``."""
    kind = choice.get("kind")
    if kind == "b12-test":
        return _service_request(patient_id, today)
    if kind == "folic-acid":
        return _medication_request(FOLIC_ACID, 5000, "day", patient_id, today)
    if kind != "b12":
        raise BadRequest(f"draft kind must be one of {', '.join(DRAFT_KINDS)}")
    product = PRODUCTS.get(str(choice.get("product")))
    if product is None:
        raise BadRequest(f"draft product must be one of {', '.join(PRODUCTS)}")
    dose = choice.get("dose_mcg")
    if isinstance(dose, bool) or not isinstance(dose, int) or not 1 <= dose <= 10_000:
        raise BadRequest("draft dose_mcg must be a whole number of micrograms, 1 to 10000")
    every = str(choice.get("every"))
    if every not in SCHEDULES:
        raise BadRequest(f"draft every must be one of {', '.join(SCHEDULES)}")
    return _medication_request(product, dose, every, patient_id, today)


def _medication_request(
    product: Product, dose_mcg: int, every: str, patient_id: str, today: date
) -> dict:
    period, unit, words = SCHEDULES[every]
    route_code, route_display = product.route
    dose = (
        {"value": dose_mcg / 1000, "unit": "mg", "system": UCUM, "code": "mg"}
        if dose_mcg >= 1000
        else {"value": dose_mcg, "unit": "ug", "system": UCUM, "code": "ug"}
    )
    return {
        "resourceType": "MedicationRequest",
        "id": f"draft-{uuid4()}",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": product.code, "display": product.display}],
            "text": product.display,
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": today.isoformat(),
        "dosageInstruction": [
            {
                "text": f"{dose['value']:g} {dose['unit']} {route_display.lower()} {words}",
                "timing": {"repeat": {"frequency": 1, "period": period, "periodUnit": unit}},
                "route": {
                    "coding": [{"system": SNOMED, "code": route_code, "display": route_display}]
                },
                "doseAndRate": [{"doseQuantity": dose}],
            }
        ],
    }


def _service_request(patient_id: str, today: date) -> dict:
    return {
        "resourceType": "ServiceRequest",
        "id": f"draft-{uuid4()}",
        "status": "draft",
        "intent": "order",
        "category": [
            {"coding": [{"system": SNOMED, "code": "108252007", "display": "Laboratory procedure"}]}
        ],
        "code": {
            "coding": [
                {
                    "system": "http://loinc.org",
                    "code": "2132-9",
                    "display": "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma",
                }
            ],
            "text": "Vitamin B12 level",
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": today.isoformat(),
    }
