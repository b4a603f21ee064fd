"""Render layer: a card's suggestions: the orders it creates, changes, stops or removes.

Imports only the standard library and ``cds_b12.clinical``. CDS Hooks 2.0 §suggestion
and §action: a regimen proposed while a draft is being ordered is an ``update`` of that
draft (the entire resource, same id); a regimen that replaces the current order carries
an ``update`` stopping it in the same suggestion; a draft with nothing in its place is a
``delete`` (``resourceId``, no resource). ``clinical/reconcile.py`` decides which order a
recommendation concerns (``draft_id``, ``replaces``, ``plan_on``); this module writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from cds_b12.clinical.followup import lab_priority
from cds_b12.clinical.profiles import Profile
from cds_b12.clinical.recommendation import Kind, LabNote, LabOrder, Recommendation
from cds_b12.clinical.regimens import Regimen

from .escape import Markup
from .resources import medication_request, order_words, service_request, stopped_request
from .schedule import order_text, regimen_name
from .wording import CardLibrary

_REGIMEN = "suggestion_label"  # the wording key of the suggestion ordering the regimen
_JUDGED = "judged_label"  # ... and of one below the labelled interval (§7.7)


def for_life(rec: Recommendation) -> bool:
    """Whether a lifelong regimen reads "for life": only when the core says the plan is for
    life (an irreversible cause, prophylaxis after surgery), not for nitrous oxide, a drug,
    the diet or an unknown cause (issue 11 §4)."""
    return rec.lifelong


@dataclass(slots=True)
class Suggester:
    """The per-request context a card's suggestions need: the orders they may change (not
    frozen: a frozen dataclass's ``__init__`` sets each of its nine fields through
    ``object.__setattr__``, on every request)."""

    profile: Profile
    as_of: date
    patient_id: str | None
    drafts: Mapping[str, dict]  # "Type/id" -> a draft order of the request
    orders: Mapping[str, dict]  # "MedicationRequest/id" -> a current order, as received
    library: CardLibrary
    new_id: Callable[[], str]
    lab_window: Callable[[LabOrder], str]  # the card's words for a lab's due window
    lab_note: Callable[[LabNote], str]  # the card's words for why a lab is due

    def draft(self, rec: Recommendation, resource_type: str) -> dict | None:
        """The draft order ``rec`` concerns, if it is of ``resource_type`` and was sent."""
        if rec.draft_id and rec.draft_id.startswith(f"{resource_type}/"):
            return self.drafts.get(rec.draft_id)
        return None

    def replaced(self, rec: Recommendation) -> dict | None:
        """The current order a regimen ends (patient-view), as received."""
        return self.orders.get(rec.replaces) if rec.replaces else None

    def suggestions(self, rec: Recommendation, label: Callable[[str], str]) -> list[dict]:
        """The card's suggestions, each labelled by ``label(<wording key>)``."""
        medication_draft = self.draft(rec, "MedicationRequest")
        candidates: list[dict | None] = []
        if rec.regimen is not None and not rec.plan_on:
            for key, regimen in (
                (_JUDGED if rec.judged else _REGIMEN, rec.regimen),
                # An alternative replaces the same draft: at-most-one keeps them exclusive.
                ("alternative_label", rec.alternative),
            ):
                if regimen is None:
                    continue
                actions = [
                    self._medication_action(rec, regimen, medication_draft),
                    self._end_action(rec),
                    *(() if rec.judged else self._lab_actions(rec)),
                ]
                candidates.append(self._suggestion(label(key), actions))
            if rec.judged and rec.labs:  # §7.7: the tests come first, on their own
                candidates.insert(0, self._suggestion(label("labs_label"), self._lab_actions(rec)))
        elif rec.labs:
            candidates.append(self._suggestion(label("labs_label"), self._lab_actions(rec)))
        if rec.regimen is None and rec.replaces:
            # nothing replaces the current order (a withheld product): stopping it is the action
            candidates.append(self._suggestion(label("remove_label"), [self._end_action(rec)]))
        removed = self._removed_draft(rec)
        if removed is not None:
            description = self.library.text(
                "actions", "delete", self.profile.name, {"draft": removed}
            )
            # CDS Hooks 2.0 (cds-resp-2): a delete carries resourceId and no resource.
            action = {"type": "delete", "description": description, "resourceId": removed}
            candidates.append(self._suggestion(label("remove_label"), [action]))
        suggestions = [s for s in candidates if s is not None]
        if suggestions and not (rec.judged and suggestions[0]["label"] == label(_JUDGED)):
            # at-most-one: only ever the first, and never an off-label step (§7.7)
            suggestions[0]["isRecommended"] = True
        return suggestions

    def _removed_draft(self, rec: Recommendation) -> str | None:
        """``Type/id`` of a draft to delete: order advice on a lab, or a product with no
        substitute. The reference is taken from the draft itself, so it names the EHR's id.
        """
        if rec.regimen is not None:
            return None
        if rec.kind is Kind.ORDER_ADVICE:
            resource_type = "ServiceRequest"
        elif rec.kind in (Kind.CHANGE_PRODUCT, Kind.CORRECT_ORDER):
            resource_type = "MedicationRequest"
        else:
            return None
        draft = self.draft(rec, resource_type)
        if draft is None:
            return None
        draft_id = draft.get("id")
        return (
            f"{resource_type}/{draft_id}"
            if isinstance(draft_id, str) and draft_id
            else rec.draft_id
        )

    def _suggestion(self, label: str, actions: Sequence[dict | None]) -> dict | None:
        kept = [a for a in actions if a is not None]
        if not kept:
            return None
        return {"uuid": self.new_id(), "label": label, "actions": kept}

    def _medication_action(
        self, rec: Recommendation, regimen: Regimen, draft: dict | None
    ) -> dict | None:
        if not for_life(rec):
            regimen = replace(regimen, lifelong=False)  # no "for life" in the order either
        resource = medication_request(
            regimen,
            patient_id=self.patient_id,
            as_of=self.as_of,
            start_on=rec.start_on,
            new_id=self.new_id,
            draft=draft,
        )
        if "subject" not in resource:
            return None  # R4 MedicationRequest.subject is 1..1: never offer an invalid order
        kind = "update" if draft is not None else "create"
        description = self.library.text(
            "actions",
            f"{kind}_medication",
            self.profile.name,
            {
                "order": Markup(order_text(regimen)),
                "regimen": Markup(regimen_name(regimen)),
                "draft": rec.draft_id or "",
            },
        )
        return {"type": kind, "description": description, "resource": resource}

    def _end_action(self, rec: Recommendation) -> dict | None:
        """An ``update`` that stops the current order a new regimen replaces (patient-view)."""
        current = self.replaced(rec)
        if current is None:
            return None
        key = "stop_reason" if rec.regimen is not None else "stop_reason_withheld"
        reason = self.library.text("actions", key, self.profile.name, {})
        resource = stopped_request(current, reason=str(reason))
        description = self.library.text(
            "actions",
            "stop_medication",
            self.profile.name,
            {"draft": rec.replaces, "order": order_words(current)},
        )
        return {"type": "update", "description": description, "resource": resource}

    def _lab_actions(self, rec: Recommendation) -> list[dict]:
        actions = []
        for lab in rec.labs:
            name = self.library.lab_name(lab.test, self.profile.name)
            note = self.lab_note(lab.note) if lab.note else None
            resource = service_request(
                lab,
                patient_id=self.patient_id,
                urgency=lab_priority(lab, rec.urgency, self.as_of, self.profile),
                new_id=self.new_id,
                text=name,
                note_text=note,
            )
            if "subject" not in resource:
                continue  # R4 ServiceRequest.subject is 1..1
            description = self.library.text(
                "actions",
                "create_lab",
                self.profile.name,
                {"lab": name, "window": self.lab_window(lab)},
            )
            actions.append({"type": "create", "description": description, "resource": resource})
        return actions
