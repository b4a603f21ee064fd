"""The three CDS services this server offers, one per hook, and their discovery entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .prefetch import templates

TITLE = "Vitamin B12 deficiency: repletion and maintenance"


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    usage_requirements: str

    def discovery(self, as_of: date) -> dict:
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": templates(as_of),
            "usageRequirements": self.usage_requirements,
        }


_USAGE = (
    "Needs read access to the patient's Patient, Observation, MedicationRequest, "
    "MedicationAdministration, MedicationStatement, Condition, Procedure and "
    "AllergyIntolerance resources, by prefetch or through fhirServer."
)

SERVICES: tuple[Service, ...] = (
    Service(
        id="b12-patient-view",
        hook="patient-view",
        title=TITLE,
        description=(
            "When a chart opens: suggests starting B12 repletion for a confirmed deficiency, "
            "moving from loading to maintenance, flags overdue maintenance injections and "
            "missing follow-up labs, and warns on folate given without a B12 check. Each "
            "suggestion is a ready-to-sign MedicationRequest or ServiceRequest with its "
            "guideline source."
        ),
        usage_requirements=_USAGE,
    ),
    Service(
        id="b12-order-select",
        hook="order-select",
        title=TITLE + " (order check)",
        description=(
            "When a B12, folic acid or serum B12 order is selected: checks a B12 draft against "
            "the recommended regimen and suggests an update to that draft, warns on folic acid "
            "without B12 assessment, and flags serum B12 tests that do not help a patient on "
            "intramuscular maintenance."
        ),
        usage_requirements=_USAGE,
    ),
    Service(
        id="b12-order-sign",
        hook="order-sign",
        title=TITLE + " (signing check)",
        description=(
            "Before B12, folic acid or serum B12 orders are signed: the same checks as "
            "b12-order-select, on the final orders."
        ),
        usage_requirements=_USAGE,
    ),
)
SERVICE_BY_ID = {s.id: s for s in SERVICES}


def discovery_document(as_of: date) -> dict:
    return {"services": [s.discovery(as_of) for s in SERVICES]}
