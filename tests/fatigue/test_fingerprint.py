"""The facts' hash that a snooze holds on: the same while only the calendar moves, another
when a lab, a dose, an order or another rule firing changes what the card rests on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

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
# a B12 injection given long ago, new to the record
NEW_DOSE = Medication(
    source=MedSource.ADMINISTRATION,
    product=Product.B12_INJECTION,
    resource_id="MedicationAdministration/new",
    status="completed",
    ingredient="cyanocobalamin",
    on=AS_OF - timedelta(days=400),
)


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
    dose = NEW_DOSE
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


def test_the_order_the_record_lists_its_medications_in_does_not_count():
    _, ev = evaluation(metformin())
    dose = NEW_DOSE
    more = with_medication(ev, dose)
    record = more.assessment.record
    reversed_record = replace(record, medications=tuple(reversed(record.medications)))
    shuffled = replace(more, assessment=replace(more.assessment, record=reversed_record))
    assert fingerprints(shuffled) == fingerprints(more)


def test_the_facts_are_the_same_in_another_process():
    """Holds are stored: a restart, another worker or another hash seed reads the same hash."""
    code = (
        "import json\n"
        "from tests.fatigue.test_fingerprint import evaluation, metformin\n"
        "from cds_b12.fatigue.fingerprint import fingerprints\n"
        "_, ev = evaluation(metformin())\n"
        "print(json.dumps({r: [f.facts, f.evidence] for r, f in fingerprints(ev).items()}))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    _, ev = evaluation(metformin())
    here = {r: [f.facts, f.evidence] for r, f in fingerprints(ev).items()}
    assert json.loads(done.stdout) == here


def test_a_fact_of_a_type_json_does_not_know_is_hashed_by_its_repr():
    _, ev = evaluation(metformin())
    (rec,) = ev.recommendations

    def with_fact(value) -> dict:
        changed = replace(rec, facts={**rec.facts, "new": value})
        return fingerprints(replace(ev, recommendations=(changed,)))

    assert with_fact(Decimal("1.5")) == with_fact(Decimal("1.5"))
    assert with_fact(Decimal("1.5")) != with_fact(Decimal("2.5"))
