"""S1 after a re-load: once the loading course given again after a relapse on maintenance
has ended, maintenance is never longer than the interval the symptoms came back on (R10,
R26), in both profiles, on hand-built records."""

from __future__ import annotations

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.assess import assess
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Indicator, Variant
from cds_b12.clinical.record import Finding
from cds_b12.clinical.regimens import follow_on

from .records import AS_OF, MONTHLY, PA, Timing, ago, doses, draft_med, finding, order, record

H = "hydroxocobalamin"
TWO_MONTHLY = Timing(1, 2, None, "mo")


def rules(rec, profile) -> dict[str, object]:
    return {r.rule: r for r in evaluate(rec, profile, AS_OF).recommendations}


def _reloaded(profile, every: int = 30, *items, active: bool = True):
    """Maintenance every ``every`` days, neurological signs back, the profile's re-load
    course given (UK alternate days for 2 weeks; US daily 2 weeks, weekly 4) and ended;
    ``active=False``: the signs no longer improving are recorded resolved (UK-2)."""
    if profile is UK:
        maintenance = range(90 + 5 * every, 89, -every)
        course = (*range(70, 57, -2),)
        ingredient, relapse = H, 75
    else:
        maintenance = range(120 + 5 * every, 119, -every)
        course = (*range(99, 85, -1), 79, 72, 65, 58)
        ingredient, relapse = "cyanocobalamin", 100
    return record(
        PA,
        *doses(*maintenance, *course, ingredient=ingredient),
        finding(Finding.NEURO, days=relapse, active=active),
        *items,
    )


def _longest_maintenance(regimen) -> float:
    """The interval of the maintenance ``regimen`` hands over to, or its own."""
    while follow_on(regimen) is not None:
        regimen = follow_on(regimen)
    return regimen.steps[-1].interval_max_days


@pytest.mark.parametrize(("profile", "every"), [(UK, 30), (US, 30), (US, 21)])
def test_the_course_history_carries_the_interval_before_the_re_load(profile, every):
    assert assess(_reloaded(profile, every), profile, AS_OF).reloaded_from_days == every


def test_a_first_loading_course_has_no_interval_before_it():
    assert assess(record(PA, *doses(20, 18, 16, 14, 12, 10)), UK, AS_OF).reloaded_from_days is None


@pytest.mark.parametrize(("profile", "every"), [(UK, 30), (US, 30), (US, 21)])
def test_after_the_re_load_course_maintenance_is_no_longer_than_before(profile, every):
    recs = evaluate(_reloaded(profile, every), profile, AS_OF).recommendations
    suggested = [r for r in recs if r.regimen is not None]
    assert suggested, [r.rule for r in recs]
    assert all(_longest_maintenance(r.regimen) <= every + 1 for r in suggested)


def test_the_card_after_a_re_load_counts_that_course_alone():
    """Not the maintenance doses before it: the course the card says is complete."""
    r = rules(_reloaded(US, 21), US)["R10-start-maintenance"]
    assert r.variant is Variant.AFTER_RELOAD
    assert r.facts["loading_start"] == ago(99) and r.facts["doses_given"] == 18


@pytest.mark.parametrize(("profile", "every", "timing"), [(UK, 30, TWO_MONTHLY), (US, 21, MONTHLY)])
def test_signing_maintenance_longer_than_before_the_re_load_gets_a_card(profile, every, timing):
    ingredient = H if profile is UK else "cyanocobalamin"
    draft = draft_med(order(timing, days=0, ingredient=ingredient))
    r = rules(_reloaded(profile, every, draft, active=False), profile)["R10-start-maintenance"]
    assert r.draft_id == draft.resource_id and r.indicator is Indicator.WARNING
    assert r.regimen.steps[-1].interval_max_days <= every + 1
    assert r.regimen.drug.ingredient == ingredient


# ---- the re-load is a course of its own: its doses, its start, its follow-on ----

MONTHLY_THEN = range(300, 89, -30)  # monthly maintenance, the last dose 90 days ago


def _monthly_then_reload(given: int, profile):
    """Monthly maintenance, neurological signs back, then ``given`` re-load doses on
    alternate days from 70 days ago."""
    ingredient = H if profile is UK else "cyanocobalamin"
    course = range(70, 70 - 2 * given, -2)
    return record(
        PA, *doses(*MONTHLY_THEN, *course, ingredient=ingredient), finding(Finding.NEURO, days=75)
    )


def test_a_re_load_course_counts_its_own_doses_from_its_own_first_dose():
    """§6.1 phase: ``LOADING``: "start <14 days ago ... or inside US weekly weeks 1-8": a
    loading course begins at its own first dose, not at the maintenance doses before it."""
    a = assess(_monthly_then_reload(3, US), US, AS_OF)
    assert a.course_start == ago(70) and a.course_doses == 3


def test_three_us_re_load_doses_are_not_a_complete_loading_course():
    """§6.2 R10: "`phase=LOADING` complete (UK: ≥6 doses in 14 days; US: weekly phase
    done)": three doses of a re-load are not the US course, whatever came before them."""
    rec = _monthly_then_reload(3, US)
    assert not assess(rec, US, AS_OF).loading_complete
    assert "R10-start-maintenance" not in rules(rec, US)
    r = rules(rec, US)["R26-interrupted-course"]
    assert r.facts["doses_given"] == 3 and r.facts["loading_start"] == ago(70)


def test_maintenance_after_a_complete_re_load_counts_from_the_re_load():
    """§6.2 R10: "CBC + retic at 8 weeks from start": the re-load's start, so the labs of a
    re-load that began 7 weeks ago are still due; the course named is the re-load alone."""
    ingredient = "cyanocobalamin"
    course = (*range(49, 42, -1), 35, 28, 21, 14)  # daily a week, then weekly (US-3)
    rec = record(
        PA, *doses(*MONTHLY_THEN, *course, ingredient=ingredient), finding(Finding.NEURO, days=55)
    )
    r = rules(rec, US)["R10-start-maintenance"]
    assert r.facts["doses_given"] == 11 and r.facts["loading_start"] == ago(49)
    assert {lab.test for lab in r.labs} == {"CBC", "RETIC"}
    assert _longest_maintenance(r.regimen) <= 31


def test_a_finished_uk_re_load_is_due_maintenance_not_a_restart():
    """UK-2: "hydroxocobalamin 1 mg IM on alternate days until there is no further
    improvement, then 1 mg every 2 months"; §1.4 UK_LOAD_NEURO: "until 'no further
    improvement' (clinician-documented)". Six alternate-day doses after monthly
    maintenance, the signs then recorded resolved, the next dose due: maintenance (R10),
    not a course interrupted (R26)."""
    rec = record(
        PA,
        *doses(*range(150 + 5 * 30, 149, -30), *range(120, 109, -2), ingredient=H),
        finding(Finding.NEURO, days=125, active=False),
    )
    found = rules(rec, UK)
    assert "R26-interrupted-course" not in found
    r = found["R10-start-maintenance"]
    assert r.facts["doses_given"] == 6 and r.facts["loading_start"] == ago(120)
    assert _longest_maintenance(r.regimen) <= 31  # S1: no longer than before the re-load


def test_a_uk_re_load_stopped_with_the_signs_still_active_is_still_interrupted():
    """§1.4 UK_LOAD_NEURO ends on "no further improvement (clinician-documented)"; with the
    signs still active nothing says improvement stopped, so the course is finished (R26)."""
    rec = record(
        PA,
        *doses(*range(150 + 5 * 30, 149, -30), *range(120, 109, -2), ingredient=H),
        finding(Finding.NEURO, days=125),
    )
    assert "R26-interrupted-course" in rules(rec, UK)
