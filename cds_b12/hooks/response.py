"""Hooks layer: FHIR data in, ``{"cards": [...]}`` out, through reader, core and renderer.

May import ``cds_b12.fhir``, ``cds_b12.clinical`` and ``cds_b12.render``; never
flask. The CLI and the HTTP service both answer through ``respond`` so the
same patient gives the same cards everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from ..clinical import Evaluation, Profile, evaluate
from ..clinical.record import DataNote, Note
from ..fhir.accessors import label
from ..fhir.read import collect_resources, read_record
from ..render import CardLibrary
from ..render.cards import render_cards
from ..render.ids import new_id as random_id
from . import HOOKS as HOOKS  # re-exported: defined in the package, free of imports
from . import ORDER_HOOKS as ORDER_HOOKS


@dataclass(frozen=True, slots=True)
class HookResult:
    body: dict  # the CDS Hooks response: {"cards": [...]}
    evaluation: Evaluation
    fetched: tuple[str, ...] = ()  # prefetch keys fetched from the FHIR server instead
    fetch_outcomes: Mapping[str, str] = field(default_factory=dict)  # see Gathered.outcomes


def respond(
    data: object,
    *,
    profile: Profile,
    as_of: date,
    draft_orders: object = None,
    missing: Sequence[DataNote] = (),
    library: CardLibrary | None = None,
    new_id: Callable[[], str] = random_id,
    suggestions: bool = True,
) -> HookResult:
    """Evaluate one patient's data (and any draft orders) and render the cards.

    ``missing`` names data the EHR could not supply; it leads the data-quality
    notes of its kind on every card (the renderer orders them by ``NoteKind``).
    ``suggestions=False`` renders the cards without their suggestions (recall).
    """
    record = read_record(data, draft_orders=draft_orders)
    ev = evaluate(record, profile, as_of)
    patient_id = record.patient.resource_id.split("/")[-1] if record.patient else None
    drafts = {d.resource_id: d.resource for d in record.drafts}
    if ev.assessment.is_deceased:  # no card of any kind, not even a data-quality one
        return HookResult({"cards": []}, ev)
    replaced = {r.replaces for r in ev.recommendations if r.replaces}
    orders = {}
    if replaced:  # the current orders a suggestion ends, as received, for their update
        orders = {label(r): r for r in collect_resources(data) if label(r) in replaced}
    cards = render_cards(
        ev.recommendations,
        profile=profile,
        as_of=as_of,
        patient_id=patient_id,
        notes=(*missing, *_in_order(ev.notes)),
        drafts=drafts,
        orders=orders,
        library=library,
        new_id=new_id,
        suggestions=suggestions,
    )
    return HookResult({"cards": cards}, ev)


def _in_order(notes: Sequence[Note]) -> list[Note]:
    """Notes by resource, so a card reads the same whatever order the EHR sent the entries in
    (a FHIR search sorts newest first; a bundle may not) and the first few shown are stable."""
    return sorted(
        notes,
        key=lambda n: (n.resource, n.message if isinstance(n, DataNote) else n.on.isoformat()),
    )


def split_drafts(resources: list[dict]) -> tuple[list[dict], list[dict]]:
    """Separate draft orders from the record, as an EHR's ``draftOrders`` would."""

    def is_draft(r: dict) -> bool:
        return r.get("status") == "draft" and r.get("resourceType") in (
            "MedicationRequest",
            "ServiceRequest",
        )

    return [r for r in resources if not is_draft(r)], [r for r in resources if is_draft(r)]
