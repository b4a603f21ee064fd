"""Shared pieces of the render tests: the date and patient of the call, the drafts an
order-select request carries, rendering one Recommendation to its card, and checks on
the FHIR JSON a card holds.

The facts and the Recommendation each rule sends are in ``rule_facts`` and
``rule_specs``. A plain module with a unique name (not conftest) so test modules can
import it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from cds_b12.clinical.profiles import UK, US, Profile, get_profile
from cds_b12.clinical.recommendation import Recommendation
from cds_b12.render import render_cards
from cds_b12.render.facts import FactWords
from cds_b12.render.thresholds import ProfileValues
from cds_b12.render.wording import CardLibrary

AS_OF = date(2026, 1, 15)
PATIENT = "pat-42"
PROFILES = (UK, US)


def shared_values(library: CardLibrary, profile: str) -> dict[str, object]:
    """The placeholders every card and safety line may use, for the built-in ``profile``."""
    words = FactWords(library, profile)
    return {"profile": profile, **ProfileValues(get_profile(profile), words)}


def medication_draft(draft_id: str = "draft-maint") -> dict:
    """A MedicationRequest draft as an order-select request might carry it."""
    return {
        "resourceType": "MedicationRequest",
        "id": draft_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "requester": {"reference": "Practitioner/dr-1"},
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "309594",
                    "display": "vitamin B12 1 MG/ML Injectable Solution",
                }
            ],
        },
        "dosageInstruction": [{"text": "1 mg every 2 months"}],
        "note": [{"text": "entered by Dr One"}],
    }


def lab_draft(draft_id: str = "draft-b12") -> dict:
    return {
        "resourceType": "ServiceRequest",
        "id": draft_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "2132-9"}]},
    }


def all_drafts() -> dict[str, dict]:
    return {
        "MedicationRequest/draft-maint": medication_draft("draft-maint"),
        "MedicationRequest/draft-folic": medication_draft("draft-folic"),
        "MedicationRequest/draft-cyano": medication_draft("draft-cyano"),
        "ServiceRequest/draft-b12": lab_draft("draft-b12"),
    }


def validate_fhir(resource: dict) -> None:
    """Raise unless ``resource`` is a valid FHIR R4B resource of its type."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def walk(value: Any, path: str = "$"):
    """Yield (path, value) for every node of a JSON value."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk(child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from walk(child, f"{path}[{i}]")


def render_one(rec: Recommendation, profile: Profile, **kwargs: object) -> dict:
    """The one card ``rec`` renders to, for ``PATIENT`` on ``AS_OF`` unless kwargs say otherwise."""
    args: dict = {"profile": profile, "as_of": AS_OF, "patient_id": PATIENT}
    args.update(kwargs)
    cards = render_cards([rec], **args)
    assert len(cards) == 1
    return cards[0]
