"""Hooks layer: FHIR data in, ``{"cards": [...]}`` out, through reader, core and renderer.

May import ``cds_b12.fhir``, ``cds_b12.clinical`` and ``cds_b12.render``; never
flask. The CLI and the HTTP service both answer through ``respond`` so the
same patient gives the same cards everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import uuid4

from ..clinical import Evaluation, Profile, evaluate
from ..fhir.read import read_record
from ..render.cards import render_cards

HOOKS = ("patient-view", "order-select", "order-sign")
ORDER_HOOKS = ("order-select", "order-sign")


@dataclass(frozen=True, slots=True)
class HookResult:
    body: dict  # the CDS Hooks response: {"cards": [...]}
    evaluation: Evaluation


def respond(
    data: object,
    *,
    profile: Profile,
    as_of: date,
    draft_orders: object = None,
    new_id: Callable[[], str] = lambda: str(uuid4()),
) -> HookResult:
    """Evaluate one patient's data (and any draft orders) and render the cards."""
    record = read_record(data, draft_orders=draft_orders)
    ev = evaluate(record, profile, as_of)
    patient_id = record.patient.resource_id.split("/")[-1] if record.patient else None
    drafts = {d.resource_id: d.resource for d in record.drafts}
    cards = render_cards(ev.recommendations, profile=profile, as_of=as_of,
                         patient_id=patient_id, notes=ev.notes, drafts=drafts, new_id=new_id)
    return HookResult({"cards": cards}, ev)


def split_drafts(resources: list[dict]) -> tuple[list[dict], list[dict]]:
    """Separate draft orders from the record, as an EHR's ``draftOrders`` would."""
    def is_draft(r: dict) -> bool:
        return (r.get("status") == "draft"
                and r.get("resourceType") in ("MedicationRequest", "ServiceRequest"))

    return [r for r in resources if not is_draft(r)], [r for r in resources if is_draft(r)]
