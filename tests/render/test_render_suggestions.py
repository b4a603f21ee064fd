"""Card suggestions: the regimen and its alternative, labs, and what each does to a draft
(update, create or delete).

A suggestion is what the EHR carries out when accepted, so each must order, change or
remove exactly what the card says, and never offer an order it cannot make valid.
"""

from __future__ import annotations

from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import LabOrder, Urgency
from cds_b12.clinical.record import Medication, MedSource, Product

from .profile_cards import fixture_rule_cards
from .render_support import AS_OF, all_drafts, lab_draft, medication_draft, render_one
from .rule_facts import facts_for
from .rule_specs import make_rec


def test_regimen_suggestion_orders_the_regimen_and_the_labs() -> None:
    rec = make_rec("R2-start-standard-loading", UK)
    card = render_one(rec, UK)
    (first,) = card["suggestions"]
    assert first["isRecommended"] is True
    assert first["label"] == "Order hydroxocobalamin 1 mg IM loading course"
    types = [(a["type"], a["resource"]["resourceType"]) for a in first["actions"]]
    assert types == [("create", "MedicationRequest")] + [("create", "ServiceRequest")] * len(
        rec.labs
    )
    med = first["actions"][0]["resource"]
    assert med["dosageInstruction"][0]["timing"]["repeat"]["frequency"] == 3


def test_alternative_is_a_second_unrecommended_suggestion() -> None:
    rec = make_rec("R2-start-standard-loading", US)
    suggestions = render_one(rec, US)["suggestions"]
    assert len(suggestions) == 2
    assert "isRecommended" not in suggestions[1]
    assert suggestions[1]["label"].startswith("Prescribe cyanocobalamin 1000 micrograms by mouth")
    codes = [
        a["resource"]["medicationCodeableConcept"]["coding"][0]["code"]
        for s in suggestions
        for a in s["actions"]
        if a["resource"]["resourceType"] == "MedicationRequest"
    ]
    assert codes == ["309594", "309593"]
    lab_counts = [
        sum(a["resource"]["resourceType"] == "ServiceRequest" for a in s["actions"])
        for s in suggestions
    ]
    assert lab_counts == [len(rec.labs)] * 2


def test_an_off_label_step_is_never_the_recommended_suggestion() -> None:
    """§7.7: every 2-3 weeks is a clinician-judged intensification, never the default;
    the tests to check first are their own (recommended) suggestion, not bundled into it."""
    rec = make_rec(
        "R14-lab-drift", US, regimen=make_rec("R13-intensify-interval", US).regimen, judged=True
    )
    labs, change = render_one(rec, US)["suggestions"]
    assert labs["isRecommended"] is True
    assert {a["resource"]["resourceType"] for a in labs["actions"]} == {"ServiceRequest"}
    assert len(labs["actions"]) == len(rec.labs)
    assert "isRecommended" not in change
    assert [a["resource"]["resourceType"] for a in change["actions"]] == ["MedicationRequest"]


def test_update_of_draft_keeps_the_draft_id() -> None:
    rec = make_rec("R9-neuro-loading-continue", UK)
    draft = medication_draft("draft-maint")
    card = render_one(rec, UK, drafts={"MedicationRequest/draft-maint": draft})
    (action,) = card["suggestions"][0]["actions"]
    assert action["type"] == "update"
    assert action["resource"]["id"] == "draft-maint"
    assert action["resource"]["requester"] == draft["requester"]
    assert action["resource"]["dosageInstruction"][0]["timing"]["repeat"] == {
        "frequency": 1,
        "period": 2,
        "periodUnit": "d",
    }
    assert "draft-maint" in action["description"]


def test_draft_not_sent_means_create() -> None:
    rec = make_rec("R9-neuro-loading-continue", UK)
    (action,) = render_one(rec, UK, drafts={})["suggestions"][0]["actions"]
    assert action["type"] == "create"


def test_alternative_also_updates_the_draft() -> None:
    """Two exclusive suggestions on one draft must not leave the draft plus a new order."""
    rec = make_rec("R10-start-maintenance", UK, draft_id="MedicationRequest/draft-maint")
    card = render_one(rec, UK, drafts=all_drafts())
    meds = [
        a
        for s in card["suggestions"]
        for a in s["actions"]
        if a.get("resource", {}).get("resourceType") == "MedicationRequest"
    ]
    assert [(a["type"], a["resource"]["id"]) for a in meds] == [
        ("update", "draft-maint"),
        ("update", "draft-maint"),
    ]


def test_delete_uses_resource_id_only() -> None:
    rec = make_rec("R15-b12-order-on-maintenance", UK)
    card = render_one(rec, UK, drafts={"ServiceRequest/draft-b12": lab_draft()})
    (suggestion,) = card["suggestions"]
    assert suggestion["label"] == "Remove the B12 test order"
    assert suggestion["isRecommended"] is True
    (action,) = suggestion["actions"]
    assert action["type"] == "delete"
    assert action["resourceId"] == "ServiceRequest/draft-b12"
    assert "resource" not in action
    assert card["selectionBehavior"] == "at-most-one"


def test_delete_names_the_drafts_own_id() -> None:
    """The reader may shorten a long id in ``draft_id``; the EHR needs its real one."""
    rec = make_rec("R15-b12-order-on-maintenance", UK, draft_id="ServiceRequest/abc…")
    card = render_one(rec, UK, drafts={"ServiceRequest/abc…": lab_draft("abcdef")})
    assert card["suggestions"][0]["actions"][0]["resourceId"] == "ServiceRequest/abcdef"


def test_order_advice_without_the_draft_has_no_suggestions() -> None:
    card = render_one(make_rec("R15-b12-order-on-maintenance", US), US)
    assert "suggestions" not in card and "selectionBehavior" not in card


def test_order_advice_on_a_medication_draft_never_deletes_it() -> None:
    """R20: folic acid stays ordered; the card adds B12 and folate tests."""
    rec = make_rec("R20-folate-without-b12", US)
    card = render_one(rec, US, drafts=all_drafts())
    (suggestion,) = card["suggestions"]
    assert suggestion["label"] == "Order serum B12 and folate now"
    assert {a["type"] for a in suggestion["actions"]} == {"create"}


def test_contraindicated_product_without_substitute_offers_removal() -> None:
    rec = make_rec(
        "R21-cyanocobalamin-contraindicated",
        US,
        with_regimen=False,
        facts={
            **facts_for("R21-cyanocobalamin-contraindicated"),
            "product": Medication(
                MedSource.REQUEST, Product.B12_INJECTION, "MedicationRequest/d", "draft"
            ),
        },
    )
    card = render_one(rec, US, drafts=all_drafts())
    (suggestion,) = card["suggestions"]
    assert suggestion["label"] == "Remove the B12 injection order"
    assert suggestion["actions"] == [
        {
            "type": "delete",
            "description": suggestion["actions"][0]["description"],
            "resourceId": "MedicationRequest/draft-cyano",
        }
    ]


def test_contraindicated_product_with_substitute_updates_the_draft() -> None:
    rec = make_rec("R21-cyanocobalamin-contraindicated", US)
    card = render_one(rec, US, drafts=all_drafts())
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    assert action["type"] == "update" and action["resource"]["id"] == "draft-cyano"
    assert action["resource"]["medicationCodeableConcept"]["coding"][0]["code"] == "317106"
    assert suggestion["label"] == "Change the order to hydroxocobalamin 1 mg IM"


def test_labs_only_suggestion() -> None:
    rec = make_rec("R5-indeterminate-order-mma", US)
    (suggestion,) = render_one(rec, US)["suggestions"]
    assert suggestion["label"] == "Order MMA (and homocysteine)"
    assert [a["resource"]["code"]["coding"][0]["code"] for a in suggestion["actions"]] == [
        "13964-2",
        "13965-9",
    ]


def test_lab_priority_follows_the_urgency() -> None:
    rec = make_rec("R17-metformin-screening", US, urgency=Urgency.STAT)
    actions = render_one(rec, US)["suggestions"][0]["actions"]
    assert {a["resource"]["priority"] for a in actions} == {"stat"}


def test_no_regimen_no_labs_means_no_suggestions() -> None:
    rec = make_rec("R11-maintenance-overdue", UK, with_regimen=False)
    card = render_one(rec, UK)
    assert "suggestions" not in card and "selectionBehavior" not in card
    assert "**Plan:**" not in card["detail"]


def test_without_a_patient_no_invalid_orders_are_offered() -> None:
    """R4 MedicationRequest/ServiceRequest.subject is 1..1; a draft update keeps its own."""
    card = render_one(make_rec("R2-start-standard-loading", UK), UK, patient_id=None)
    assert "suggestions" not in card
    rec = make_rec("R9-neuro-loading-continue", UK, labs=(LabOrder("CBC", AS_OF),))
    card = render_one(rec, UK, patient_id=None, drafts=all_drafts())
    (suggestion,) = card["suggestions"]
    assert [a["type"] for a in suggestion["actions"]] == ["update"]


def test_a_screening_card_says_every_test_its_button_orders() -> None:
    """R17 and R18 order the serum B12 and the blood count: the summary and the button
    name both, not only the B12 (a clinician signs what the label says)."""
    seen = set()
    for where, profile, rule, card in fixture_rule_cards():
        if not rule.startswith(("R17-", "R18-")):
            continue
        seen.add((rule, profile))
        count = {"UK": "blood count", "US": "CBC"}[profile]
        (suggestion,) = card["suggestions"]
        ordered = {a["resource"]["code"]["coding"][0]["code"] for a in suggestion["actions"]}
        assert ordered == {"2132-9", "58410-2"}, (where, ordered)
        assert "B12" in suggestion["label"] and count in suggestion["label"], suggestion["label"]
        assert count in card["summary"], card["summary"]
    assert {rule[:3] for rule, _ in seen} == {"R17", "R18"} and len(seen) == 4
