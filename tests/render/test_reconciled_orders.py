"""One plan per order, each lab once: the cards of one response agree with each other and
change the orders they concern (issue 11 §2-§3) instead of adding a second order."""

from __future__ import annotations

from fhir.resources.R4B.medicationrequest import MedicationRequest

from cds_b12.clinical import evaluate
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.record import Finding, LabKind, Product, Route
from cds_b12.render.cards import render_cards

from ..clinical.records import (
    AS_OF,
    MONTHLY,
    PA,
    THREE_MONTHLY,
    Timing,
    doses,
    draft_lab,
    draft_med,
    finding,
    lab,
    order,
    record,
)

LOW_B12 = lab(LabKind.B12, 120)
DRAFT_ID = "MedicationRequest/draft-1"


def _draft_resource(rid: str = "draft-1") -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "cyanocobalamin 1000 mcg/mL injection"},
        "subject": {"reference": "Patient/p1"},
        "dosageInstruction": [{"text": "1000 mcg IM once a month"}],
    }


def _cards(rec, profile=US, *, drafts=None, orders=None):
    ev = evaluate(rec, profile, AS_OF)
    cards = render_cards(
        ev.recommendations,
        profile=profile,
        as_of=AS_OF,
        patient_id="p1",
        drafts=drafts if drafts is not None else {DRAFT_ID: _draft_resource()},
        orders=orders,
    )
    return ev, cards


def _medication_actions(cards) -> list[dict]:
    return [
        action
        for card in cards
        for s in card.get("suggestions", [])
        for action in s["actions"]
        if action.get("resource", {}).get("resourceType") == "MedicationRequest"
        or action.get("resourceId", "").startswith("MedicationRequest/")
    ]


def test_loading_card_updates_the_monthly_draft_instead_of_adding_a_course():
    draft = draft_med(order(MONTHLY, days=0))
    ev, cards = _cards(record(PA, LOW_B12, draft))
    assert [r.rule for r in ev.recommendations] == ["R2-start-standard-loading"]
    actions = _medication_actions(cards)
    assert {a["type"] for a in actions} == {"update"}
    assert {a["resource"]["id"] for a in actions} == {"draft-1"}
    assert all(a["resource"]["status"] == "draft" for a in actions)
    first = actions[0]["resource"]["dosageInstruction"][0]["timing"]["repeat"]
    assert first["period"] == 2 and first["periodUnit"] == "d"  # the loading course
    assert "1000 mcg IM once a month" in cards[0]["detail"]  # the detail names the draft


def test_oral_draft_for_neurological_signs_becomes_the_neuro_course():
    oral = order(Timing(1, 1, None, "d"), days=0, product=Product.B12_ORAL_HIGH, route=Route.ORAL)
    rec = record(PA, LOW_B12, finding(Finding.NEURO, days=10), draft_med(oral))
    ev, cards = _cards(rec, UK)
    assert ev.recommendations[0].rule == "R1-start-neuro-loading"
    (action,) = [a for a in _medication_actions(cards[:1]) if a["type"] != "delete"][:1]
    assert action["type"] == "update" and action["resource"]["id"] == "draft-1"
    assert action["resource"]["medicationCodeableConcept"]["coding"][0]["code"] == "317106"


def test_leber_order_sign_offers_one_plan_the_safe_product_on_the_loading_schedule():
    leber = finding(Finding.LEBER)
    ev, cards = _cards(record(leber, lab(LabKind.B12, 150), draft_med(order(MONTHLY, days=0))))
    rules = [r.rule for r in ev.recommendations]
    assert rules[0] == "R21-cyanocobalamin-contraindicated"
    actions = _medication_actions(cards)
    assert len(actions) == 1, "one plan, one order"
    (action,) = actions
    assert action["type"] == "update" and action["resource"]["id"] == "draft-1"
    resource = action["resource"]
    assert resource["medicationCodeableConcept"]["coding"][0]["code"] == "317106"
    repeat = resource["dosageInstruction"][0]["timing"]["repeat"]
    assert (repeat["period"], repeat["periodUnit"]) != (1, "mo"), "not the draft's monthly"
    assert "Leber" in cards[0]["summary"]
    # the loading card agrees: same product, and it does not start a second course
    loading = cards[rules.index("R2-start-standard-loading")]
    assert "hydroxocobalamin" in loading["detail"] and "Leber" in loading["summary"]


def test_cobalt_allergy_summaries_say_injections_are_withheld():
    allergy = finding(Finding.COBALT_B12_ALLERGY)
    ev, cards = _cards(record(allergy, PA, LOW_B12, draft_med(order(MONTHLY, days=0))))
    assert {r.rule for r in ev.recommendations} >= {"R21-cyanocobalamin-contraindicated"}
    for card in cards:
        assert "allergy" in card["summary"].lower()
        assert card["summary"].startswith("Do not give")
    assert all(a["type"] == "delete" for a in _medication_actions(cards))


def test_each_lab_once_per_response_with_one_timing():
    ev, _ = _cards(record(PA, LOW_B12, lab(LabKind.HB, 7.2)), drafts={})
    assert {r.rule.split("-")[0] for r in ev.recommendations} == {"R2", "R7"}
    seen: dict[tuple[str, str], list[str]] = {}
    for r in ev.recommendations:
        for x in r.labs:
            seen.setdefault((x.test, x.note), []).append(r.rule)
    assert all(len(rules) == 1 for rules in seen.values()), seen
    labs = [x for r in ev.recommendations for x in r.labs]
    retic = [x for x in labs if x.test == "RETIC" and x.note == "response"]
    assert len(retic) == 1 and (retic[0].due_from - AS_OF).days == 5  # the severe-anaemia window
    potassium = {r.rule for r in ev.recommendations for x in r.labs if x.test == "POTASSIUM"}
    assert potassium == {"R7-severe-anaemia"}  # on the urgent card


def test_patient_view_change_of_regimen_creates_the_new_order_and_stops_the_current_one():
    current = order(THREE_MONTHLY, ingredient="hydroxocobalamin")
    rec = record(
        PA,
        current,
        *doses(60, 145, 230, 315, ingredient="hydroxocobalamin"),
        finding(Finding.NEURO, days=20),
    )
    active = {**_draft_resource("o700"), "status": "active", "authoredOn": "2024-04-01"}
    ev, cards = _cards(rec, UK, drafts={}, orders={current.resource_id: active})
    (r,) = ev.recommendations
    assert r.rule == "R13-intensify-interval" and r.replaces == current.resource_id
    suggestion = cards[0]["suggestions"][0]
    kinds = [(a["type"], a["resource"]["status"]) for a in suggestion["actions"][:2]]
    assert kinds == [("create", "draft"), ("update", "stopped")]
    stopped = suggestion["actions"][1]["resource"]
    assert stopped["id"] == "o700" and stopped["statusReason"]["text"]
    MedicationRequest.model_validate(stopped)
    assert "Stops the current order" in cards[0]["detail"]
    assert "1000 mcg IM once a month" in cards[0]["detail"]


def test_patient_view_cobalt_allergy_offers_to_stop_the_current_order():
    current = order(MONTHLY)
    rec = record(finding(Finding.COBALT_B12_ALLERGY), PA, current, *doses(10, 40))
    active = {**_draft_resource("o700"), "status": "active"}
    _, cards = _cards(rec, drafts={}, orders={current.resource_id: active})
    (card,) = cards
    (action,) = card["suggestions"][0]["actions"]
    assert action["type"] == "update" and action["resource"]["status"] == "stopped"
    assert "allergy" in card["summary"].lower()


def test_overdue_dose_is_one_click_a_one_off_order_for_today():
    rec = record(PA, order(MONTHLY), *doses(50, 80, 110))
    ev, cards = _cards(rec, drafts={})
    (r,) = ev.recommendations
    assert r.rule == "R11-maintenance-overdue"
    (action,) = _medication_actions(cards)
    assert action["type"] == "create"
    resource = action["resource"]
    (dosage,) = resource["dosageInstruction"]
    assert dosage["timing"]["repeat"]["count"] == 1
    assert resource["dispenseRequest"]["validityPeriod"]["start"] == AS_OF.isoformat()
    MedicationRequest.model_validate(resource)
    assert "once" in action["description"]


def test_overdue_dose_in_leber_disease_is_hydroxocobalamin():
    rec = record(PA, finding(Finding.LEBER), order(MONTHLY), *doses(50, 80, 110))
    ev, _ = _cards(rec, drafts={})
    doses_now = [r for r in ev.recommendations if r.rule == "R11-maintenance-overdue"]
    assert doses_now[0].regimen.drug.ingredient == "hydroxocobalamin"


def test_no_extra_dose_beside_the_draft_being_signed():
    rec = record(PA, order(MONTHLY), *doses(50, 80, 110), draft_med(order(MONTHLY, days=0)))
    _, cards = _cards(rec)
    assert all(a["type"] != "create" for a in _medication_actions(cards))


def test_a_test_already_being_ordered_is_not_suggested_again():
    folate = order(
        Timing(1, 1, None, "d"),
        days=0,
        product=Product.FOLIC_ACID,
        ingredient=None,
        dose_mg=5,
        route=Route.ORAL,
    )
    rec = record(lab(LabKind.MCV, 108), draft_med(folate), draft_lab(LabKind.B12))
    ev, _ = _cards(rec, drafts={})
    r20 = next(r for r in ev.recommendations if r.rule == "R20-folate-without-b12")
    assert [x.test for x in r20.labs] == ["FOLATE"]  # the B12 test is already being ordered


def test_loading_again_on_maintenance_stops_the_maintenance_order():
    current = order(MONTHLY)
    rec = record(PA, current, *doses(150, 180, 210), finding(Finding.NEURO, days=5))
    active = {**_draft_resource("o700"), "status": "active"}
    ev, cards = _cards(rec, drafts={}, orders={current.resource_id: active})
    reload = next(r for r in ev.recommendations if r.regimen is not None)
    assert reload.replaces == current.resource_id
    actions = _medication_actions(cards)
    assert [(a["type"], a["resource"]["status"]) for a in actions][:2] == [
        ("create", "draft"),
        ("update", "stopped"),
    ]


def test_severe_anaemia_checks_stay_on_the_assessment_card_beside_urgent_neuro_loading():
    neuro = finding(Finding.NEURO, days=5)
    ev, _ = _cards(record(PA, LOW_B12, lab(LabKind.HB, 7.2), neuro), drafts={})
    by_rule = {r.rule.split("-")[0]: r for r in ev.recommendations}
    assert {"R1", "R7"} <= set(by_rule)
    assert {x.test for x in by_rule["R7"].labs} >= {"POTASSIUM", "RETIC"}
    assert "POTASSIUM" not in {x.test for x in by_rule["R1"].labs}


def test_a_draft_that_already_orders_the_plan_is_left_as_the_order():
    three_a_week = Timing(3, 1, None, "wk", bounded=True)
    course = order(three_a_week, days=0, ingredient="hydroxocobalamin", dose_mg=1.0)
    ev, cards = _cards(record(PA, LOW_B12, draft_med(course)), UK)
    (r,) = ev.recommendations
    assert r.rule == "R2-start-standard-loading" and r.plan_on == DRAFT_ID
    assert _medication_actions(cards) == []  # no change of the draft to itself, no second order
    assert "already orders this plan" in cards[0]["detail"]
    assert cards[0]["suggestions"]  # the baseline labs are still offered


def test_an_overdue_dose_with_a_cobalt_allergy_is_not_offered():
    allergy = finding(Finding.COBALT_B12_ALLERGY)
    rec = record(allergy, PA, order(MONTHLY), *doses(50, 80, 110))
    _, cards = _cards(rec, drafts={})
    assert all(a["type"] != "create" for a in _medication_actions(cards))
    for card in cards:
        assert card["summary"].startswith("Do not give"), card["summary"]
