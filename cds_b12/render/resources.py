"""Render layer: FHIR R4 MedicationRequest and ServiceRequest builders for card suggestions.

Imports only the standard library and ``cds_b12.clinical``. Resources are dicts shaped
to validate against the ``fhir.resources.R4B`` models (the tests check every catalogue
regimen); the models themselves are a test dependency only, so the hot path stays free
of pydantic parsing. Each is ``Pruned``: no empty value, what a draft or current order
brings pruned here, so a card passes it as it is. One ``Dosage`` per ``Regimen.step``
keeps the order exactly as the catalogue states it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import cast

from cds_b12.clinical.codes import (
    LOINC,
    ORDERABLE_LABS,
    ROUTE_IM,
    ROUTE_ORAL,
    ROUTE_SC,
    RXNORM,
    UCUM,
)
from cds_b12.clinical.recommendation import LabOrder, Urgency
from cds_b12.clinical.record import Route
from cds_b12.clinical.regimens import Regimen, Step

from .clean import Pruned, prune
from .errors import RenderError
from .schedule import dosage_texts

_ROUTES = {Route.IM: ROUTE_IM, Route.ORAL: ROUTE_ORAL, Route.SC: ROUTE_SC}
_DOSE_UNIT_TEXT = {"ug": "micrograms", "mg": "mg", "g": "g"}


def _quantity(value: float, code: str, unit: str | None = None) -> dict:
    return {"value": _decimal(value), "unit": unit or code, "system": UCUM, "code": code}


def _decimal(value: float) -> int | float:
    """JSON number without a spurious ".0", so 2 weeks reads 2 not 2.0."""
    return int(value) if float(value).is_integer() else value


def _repeat(step: Step) -> dict:
    repeat: dict = {
        "frequency": step.frequency,
        "period": _decimal(step.period),
        "periodUnit": step.period_unit,
    }
    if step.period_max is not None:
        repeat["periodMax"] = _decimal(step.period_max)
    if step.count is not None:
        repeat["count"] = step.count
    if step.duration is not None:
        value, unit = step.duration
        repeat["boundsDuration"] = _quantity(value, unit)
    return repeat


def dosage_instructions(regimen: Regimen) -> list[dict]:
    """One FHIR Dosage per step, in order (``sequence`` 1, 2, ...)."""
    route = _ROUTES.get(regimen.route)
    dose = _quantity(regimen.dose, regimen.dose_unit, _DOSE_UNIT_TEXT.get(regimen.dose_unit))
    dosages = []
    for i, (step, text) in enumerate(zip(regimen.steps, dosage_texts(regimen), strict=True)):
        dosage: dict = {"sequence": i + 1, "text": text, "timing": {"repeat": _repeat(step)}}
        if route is not None:
            system, code, display = route
            dosage["route"] = {"coding": [{"system": system, "code": code, "display": display}]}
        dosage["doseAndRate"] = [{"doseQuantity": dict(dose)}]
        dosages.append(dosage)
    return dosages


def medication_concept(regimen: Regimen) -> dict:
    """``medicationCodeableConcept`` for the regimen's RxNorm clinical drug."""
    drug = regimen.drug
    return {
        "coding": [{"system": RXNORM, "code": drug.rxnorm, "display": drug.display}],
        "text": drug.display,
    }


def _subject(patient_id: str | None) -> dict | None:
    return {"reference": f"Patient/{patient_id}"} if patient_id else None


def medication_request(
    regimen: Regimen,
    *,
    patient_id: str | None,
    as_of: date,
    start_on: date | None,
    new_id: Callable[[], str],
    draft: dict | None = None,
) -> Pruned:
    """A draft MedicationRequest for ``regimen``, or ``draft`` updated to it.

    With ``draft`` (an order-select/order-sign draft order) the result is the
    entire updated resource, as a CDS Hooks ``update`` action requires: the
    draft's id, subject and other fields stay; medication and dosage are replaced.
    Without ``patient_id`` no subject is set, and the resource is not valid R4
    on its own (``subject`` is 1..1); callers should not offer it.
    """
    if draft is not None:
        resource = dict(draft)  # changed at the top only; the prune below copies the rest
        resource.pop("medicationReference", None)
        resource.setdefault("status", "draft")
        resource.setdefault("intent", "order")
        if "subject" not in resource and patient_id:
            resource["subject"] = _subject(patient_id)
        resource.setdefault("authoredOn", as_of.isoformat())
    else:
        resource = {
            "resourceType": "MedicationRequest",
            "id": new_id(),
            "status": "draft",
            "intent": "order",
        }
        if patient_id:
            resource["subject"] = _subject(patient_id)
        resource["authoredOn"] = as_of.isoformat()
    resource["resourceType"] = "MedicationRequest"
    resource["medicationCodeableConcept"] = medication_concept(regimen)
    resource["dosageInstruction"] = dosage_instructions(regimen)
    if start_on is not None:
        dispense = resource.get("dispenseRequest")
        dispense = dict(dispense) if isinstance(dispense, dict) else {}
        period = dispense.get("validityPeriod")
        period = dict(period) if isinstance(period, dict) else {}
        period["start"] = start_on.isoformat()
        if "end" in period and str(period["end"]) < period["start"]:
            del period["end"]  # a stale end before the new start would be invalid
        dispense["validityPeriod"] = period
        resource["dispenseRequest"] = dispense
    # The draft is the EHR's, pruned as a card is; the rest comes from the catalogue and
    # this call, and holds no empty value.
    return Pruned(cast(dict, prune(resource)) if draft is not None else resource)


def stopped_request(current: dict, *, reason: str) -> Pruned:
    """``current`` (an active MedicationRequest as received) ended: status ``stopped`` with a
    ``statusReason``, the whole resource as a CDS Hooks ``update`` requires."""
    resource = dict(current)  # changed at the top only; the prune copies the rest
    resource["status"] = "stopped"
    resource["statusReason"] = {"text": reason}
    return Pruned(cast(dict, prune(resource)))  # the EHR's order, pruned as a card is


def order_words(order: dict) -> str:
    """How the prescriber wrote an order, to name it on a card: its medication's text and
    first dosage text, as plain FHIR text (the caller escapes it)."""
    concept = order.get("medicationCodeableConcept")
    name = concept.get("text") if isinstance(concept, dict) else None
    if not isinstance(name, str) or not name:
        codings = concept.get("coding") if isinstance(concept, dict) else None
        first = codings[0] if isinstance(codings, list) and codings else None
        name = first.get("display") if isinstance(first, dict) else None
    dosages = order.get("dosageInstruction")
    dosage = dosages[0] if isinstance(dosages, list) and dosages else None
    text = dosage.get("text") if isinstance(dosage, dict) else None
    parts = [p for p in (name, text) if isinstance(p, str) and p.strip()]
    return ": ".join(parts) or str(order.get("id") or "")


def service_request(
    lab: LabOrder,
    *,
    patient_id: str | None,
    urgency: Urgency,
    new_id: Callable[[], str],
    text: str | None = None,
    note_text: str | None = None,
) -> Pruned:
    """A draft ServiceRequest for one follow-up test in its due window.

    ``text`` is the clinician-facing test name (defaults to the LOINC display);
    ``note_text`` replaces the bare ``lab.note`` key with words from ``cards/``.
    """
    if lab.test not in ORDERABLE_LABS:
        raise RenderError(f"lab test {lab.test!r} is not in codes.ORDERABLE_LABS")
    code, display = ORDERABLE_LABS[lab.test]
    resource: dict = {
        "resourceType": "ServiceRequest",
        "id": new_id(),
        "status": "draft",
        "intent": "order",
        "priority": Urgency(urgency).value,
        "code": {
            "coding": [{"system": LOINC, "code": code, "display": display}],
            "text": text or display,
        },
    }
    if patient_id:
        resource["subject"] = _subject(patient_id)
    if lab.due_to is not None:
        resource["occurrencePeriod"] = {
            "start": lab.due_from.isoformat(),
            "end": lab.due_to.isoformat(),
        }
    else:
        resource["occurrenceDateTime"] = lab.due_from.isoformat()
    note = note_text or lab.note
    if note:
        resource["note"] = [{"text": note}]
    return Pruned(resource)


__all__ = [
    "dosage_instructions",
    "medication_concept",
    "medication_request",
    "order_words",
    "service_request",
    "stopped_request",
]
