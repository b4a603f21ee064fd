"""The facts' hash that a snooze holds on: the same while only the calendar moves, another
when a lab, a dose, an order or another rule firing changes what the card rests on."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from cds_b12.clinical import evaluate, get_profile
from cds_b12.clinical.record import Medication, MedSource, Product
from cds_b12.fatigue.fingerprint import fingerprints
from cds_b12.fhir.read import read_record

from ..scenarios import AS_OF, Scenario, scenarios


def evaluation(scenario: Scenario, as_of: date = AS_OF, shift: int = 0):
    """The scenario's patient as of ``as_of``, evaluated ``shift`` days later."""
    resources, drafts = scenario.data(as_of)
    record = read_record(resources, draft_orders=drafts or None)
    return record, evaluate(record, get_profile(scenario.profile), as_of + timedelta(days=shift))


CLEAN = [s for s in scenarios() if not s.messy and s.expect]


@pytest.mark.parametrize("scenario", CLEAN, ids=lambda s: s.id)
def test_a_day_later_with_the_same_rules_firing_the_facts_are_the_same(scenario):
    _, today = evaluation(scenario)
    _, tomorrow = evaluation(scenario, shift=1)
    if {r.rule for r in today.recommendations} != {r.rule for r in tomorrow.recommendations}:
        # the calendar alone changed which rules fire: that is new facts, so the hold ends
        assert fingerprints(tomorrow) != fingerprints(today)
    else:
        assert fingerprints(tomorrow) == fingerprints(today)


def metformin() -> Scenario:
    (found,) = [s for s in CLEAN if "R17-metformin" in s.id and s.profile == "us"]
    return found


def test_another_rule_firing_changes_every_card_s_facts():
    _, ev = evaluation(metformin())
    (rec,) = ev.recommendations
    more = replace(ev, recommendations=(*ev.recommendations, replace(rec, rule="R14-lab-drift")))
    assert fingerprints(more)[rec.rule] != fingerprints(ev)[rec.rule]


def with_medication(ev, medication: Medication):
    record = ev.assessment.record
    record = replace(record, medications=(*record.medications, medication))
    return replace(ev, assessment=replace(ev.assessment, record=record))


def test_a_new_b12_order_changes_the_facts_but_not_the_evidence():
    """An accepted card's order reaching the record does not end its wait; a snooze ends."""
    _, ev = evaluation(metformin())
    order = Medication(
        source=MedSource.REQUEST,
        product=Product.B12_INJECTION,
        resource_id="MedicationRequest/new",
        status="active",
        ingredient="cyanocobalamin",
        intent="order",
        on=AS_OF,
    )
    (rule,) = fingerprints(ev)
    before, after = fingerprints(ev)[rule], fingerprints(with_medication(ev, order))[rule]
    assert after.facts != before.facts and after.evidence == before.evidence


def test_a_new_b12_dose_changes_the_facts_and_the_evidence():
    _, ev = evaluation(metformin())
    dose = Medication(
        source=MedSource.ADMINISTRATION,
        product=Product.B12_INJECTION,
        resource_id="MedicationAdministration/new",
        status="completed",
        ingredient="cyanocobalamin",
        on=AS_OF - timedelta(days=400),
    )
    (rule,) = fingerprints(ev)
    before, after = fingerprints(ev)[rule], fingerprints(with_medication(ev, dose))[rule]
    assert after.facts != before.facts and after.evidence != before.evidence


def test_a_new_lab_result_the_card_quotes_changes_the_facts():
    _, ev = evaluation(metformin())
    (rec,) = ev.recommendations
    hb = rec.facts["hb"]
    assert hb is not None
    newer = replace(rec, facts={**rec.facts, "hb": replace(hb, value=9.1, resource_id="new")})
    assert fingerprints(replace(ev, recommendations=(newer,))) != fingerprints(ev)
