"""Every fixture patient, in each of its profiles: the expected rules fire, nothing else,
and every card and suggested resource is valid CDS Hooks 2.0 and FHIR R4."""

from __future__ import annotations

import pytest

from cds_b12.clinical import get_profile
from cds_b12.clinical.sources import RULE_SOURCES
from cds_b12.hooks.response import respond

from .conformance import assert_valid_card
from .scenarios import AS_OF, scenarios

SCENARIOS = scenarios()


def test_every_rule_has_a_firing_scenario_in_each_profile_it_applies_to():
    fired = {(rule.split("-")[0], s.profile) for s in SCENARIOS for rule in s.expect}
    assert {rule for rule, _ in fired} == {rule_id.split("-")[0] for rule_id in RULE_SOURCES}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario_fires_expected_rules_with_valid_cards(scenario):
    resources, drafts = scenario.data()
    result = respond(
        resources, profile=get_profile(scenario.profile), as_of=AS_OF, draft_orders=drafts
    )
    rules = {r.rule for r in result.evaluation.recommendations}
    assert rules == scenario.expect
    assert len(result.body["cards"]) == len(rules)
    for card in result.body["cards"]:
        assert_valid_card(card)


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.hook != "patient-view"], ids=lambda s: s.id
)
def test_suggestions_on_order_hooks_update_or_remove_the_draft(scenario):
    resources, drafts = scenario.data()
    result = respond(
        resources, profile=get_profile(scenario.profile), as_of=AS_OF, draft_orders=drafts
    )
    draft_refs = {f"{d['resourceType']}/{d['id']}" for d in drafts}
    touched = set()
    for card in result.body["cards"]:
        for s in card.get("suggestions", []):
            for action in s["actions"]:
                if action["type"] == "update":
                    touched.add(f"{action['resource']['resourceType']}/{action['resource']['id']}")
                elif action["type"] == "delete":
                    touched.add(action["resourceId"])
    assert touched <= draft_refs
    b12_draft = any(d["resourceType"] == "MedicationRequest" for d in drafts)
    created = [
        a
        for card in result.body["cards"]
        for s in card.get("suggestions", [])
        for a in s["actions"]
        if a["type"] == "create" and a["resource"]["resourceType"] == "MedicationRequest"
    ]
    assert not (b12_draft and created), "a medication draft is changed, never doubled"
    if scenario.expect & {
        "R9-neuro-loading-continue",
        "R15-b12-order-on-maintenance",
        "R21-cyanocobalamin-contraindicated",
    }:
        assert touched == draft_refs


@pytest.mark.parametrize(
    "scenario",
    [s for s in SCENARIOS if s.patient.patient_id in ("r2-pa-low-b12", "r2-unknown-cause-pmol")],
    ids=lambda s: s.id,
)
def test_for_life_only_for_an_irreversible_cause(scenario):
    """Issue 11 §4: pernicious anaemia is for life; an unknown cause stays open."""
    resources, drafts = scenario.data()
    result = respond(
        resources, profile=get_profile(scenario.profile), as_of=AS_OF, draft_orders=drafts
    )
    (card,) = result.body["cards"]
    plan = next(line for line in card["detail"].splitlines() if line.startswith("**Plan:**"))
    assert ("for life" in plan) is (scenario.patient.patient_id == "r2-pa-low-b12")
