"""Issue 11 §5 and issue 12 §9: a card shows what is on file, with its date, and why it
does not count; it never says "no result" while listing one, and never says an active
prescription is "being ordered"."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from cds_b12.clinical import evaluate, get_profile
from cds_b12.clinical.record import LabKind
from cds_b12.hooks.response import respond

from ..clinical.records import AS_OF as RECORD_AS_OF
from ..clinical.records import lab, record
from ..scenarios import AS_OF, scenarios
from .profile_cards import fixture_rule_cards
from .render_support import render_one

R20 = "R20-folate-without-b12"


def _scenario(name: str, profile: str):
    return next(s for s in scenarios() if s.id == f"{R20}/{name}[{profile}]")


def _r20(resources, drafts, profile: str) -> dict:
    result = respond(resources, profile=get_profile(profile), as_of=AS_OF, draft_orders=drafts)
    [card] = [
        c
        for c, r in zip(result.body["cards"], result.evaluation.recommendations, strict=True)
        if r.rule == R20
    ]
    return card


def _b12(resources: list[dict], on, value: float, unit: str) -> list[dict]:
    """``resources`` with a B12 Observation (R20's other fixture's, copied) dated ``on``."""
    source, _ = _scenario("active-folate-neuro-fires", "us").data()
    template = next(r for r in source if r["resourceType"] == "Observation" and "b12" in r["id"])
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    b12 = copy.deepcopy(template)
    b12["id"] = "b12-new"
    b12["subject"] = {"reference": f"Patient/{patient['id']}"}
    b12["effectiveDateTime"] = f"{on.isoformat()}T08:00:00Z"
    b12["valueQuantity"] = {**b12["valueQuantity"], "value": value, "unit": unit, "code": unit}
    return [*resources, b12]


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_an_old_b12_is_shown_with_its_date_and_why_it_does_not_count(profile):
    scenario = _scenario("active-folate-neuro-fires", profile)
    resources, drafts = scenario.data()
    card = _r20(resources, drafts, profile)
    old = AS_OF - timedelta(days=400)
    assert f"on {old.isoformat()}" in card["detail"]
    assert "300 " in card["detail"] and "more than 3 months old" in card["detail"]
    assert "none on file" not in card["detail"].split("Serum B12:")[1].splitlines()[0]


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_an_active_prescription_is_not_being_ordered(profile):
    resources, drafts = _scenario("active-folate-neuro-fires", profile).data()
    card = _r20(resources, drafts, profile)
    assert "being ordered" not in card["detail"]
    assert "on folic acid" in card["detail"]
    resources, drafts = _scenario("folate-macrocytosis-fires", profile).data()
    assert "is being ordered" in _r20(resources, drafts, profile)["detail"]


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_a_b12_from_last_week_is_listed_and_not_denied(profile):
    """Issue 12 §9: a low B12 from last week, folic acid being ordered: the card lists the
    B12 and does not say there is no recent result."""
    resources, drafts = _scenario("folate-macrocytosis-fires", profile).data()
    last_week = AS_OF - timedelta(days=7)
    card = _r20(_b12(resources, last_week, 150, "pg/mL"), drafts, profile)
    detail = card["detail"]
    assert f"150 pg/mL on {last_week.isoformat()}" in detail
    assert "no B12 result from the last 3 months" not in detail
    assert "none on file" not in detail.split("Serum B12:")[1].splitlines()[0]
    assert "does not exclude deficiency" in detail


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_a_b12_soon_after_an_injection_is_shown_and_said_not_to_count(profile):
    """A B12 drawn 3 days after the last injection is on file: the card shows it, and why it
    does not reflect the stores (S2), instead of "none on file"."""
    scenario = next(
        s
        for s in scenarios()
        if s.id == f"R15-b12-order-on-maintenance/b12-order-on-maintenance-fires[{profile}]"
    )
    resources, drafts = scenario.data()
    drawn = AS_OF - timedelta(days=3)  # the last dose was 6 days ago
    resources = _b12(resources, drawn, 900, "pg/mL")
    result = respond(resources, profile=get_profile(profile), as_of=AS_OF, draft_orders=drafts)
    [card] = [
        c
        for c, r in zip(result.body["cards"], result.evaluation.recommendations, strict=True)
        if r.rule.startswith("R15-")
    ]
    assert (
        f"900 pg/mL on {drawn.isoformat()}, within 14 days of an injection, "
        "so it does not reflect B12 stores"
    ) in card["detail"]


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_screening_shows_the_old_b12_it_does_not_count(profile):
    scenario = next(
        s
        for s in scenarios()
        if s.id == f"R17-metformin-screening/metformin-no-b12-fires[{profile}]"
    )
    resources, drafts = scenario.data()
    old = AS_OF - timedelta(days=500)
    resources = _b12(resources, old, 310, "pg/mL")
    result = respond(resources, profile=get_profile(profile), as_of=AS_OF, draft_orders=drafts)
    [card] = [
        c
        for c, r in zip(result.body["cards"], result.evaluation.recommendations, strict=True)
        if r.rule.startswith("R17-")
    ]
    assert (
        f"Last B12 test: 310 pg/mL on {old.isoformat()}, more than 12 months old" in card["detail"]
    )


TREATS_DEFICIENCY = ("R1-", "R2-", "R3-", "R4-")


@pytest.mark.parametrize(
    ("where", "quoted"),
    [
        ("R24-confounded-marker/raised-mma-normal-egfr-treated", "MMA: 0.62 umol/L on "),
        ("messy/mixed-units-messy", "MMA: 550 nmol/L (0.55 µmol/L) on "),
    ],
)
@pytest.mark.parametrize("profile", ["UK", "US"])
def test_a_treatment_card_quotes_the_mma_its_diagnosis_rests_on(where, quoted, profile):
    """B12 400 or 300 pg/mL alone is not deficiency: the raised MMA is, so the card that
    starts injections shows it, as the lab reported it, or the clinician cannot trust it."""
    details = [
        card["detail"]
        for w, p, rule, card in fixture_rule_cards()
        if w.lower() == f"{where}[{profile}]".lower() and rule.startswith(TREATS_DEFICIENCY)
    ]
    assert details and all(quoted in d for d in details), details


def test_a_treatment_card_quotes_a_raised_homocysteine_its_diagnosis_rests_on():
    rec = record(lab(LabKind.B12, 300), lab(LabKind.HCY, 24), lab(LabKind.FOLATE, 9.0))
    uk = get_profile("UK")
    (r,) = [x for x in evaluate(rec, uk, RECORD_AS_OF).recommendations]
    assert r.rule.startswith(TREATS_DEFICIENCY)
    assert "homocysteine: 24 µmol/L on " in render_one(r, uk)["detail"]


@pytest.mark.parametrize("profile", ["UK", "US"])
def test_a_treatment_card_says_nothing_of_markers_not_on_file(profile):
    """A B12 of 90 needs no MMA to be believed: "MMA: none on file; homocysteine: none on
    file" on every loading card is noise a clinician must read past."""
    details = [
        card["detail"]
        for w, p, rule, card in fixture_rule_cards()
        if w.lower() == f"R2-start-standard-loading/pa-low-b12-fires[{profile}]".lower()
        and rule.startswith(TREATS_DEFICIENCY)
    ]
    assert details
    for detail in details:
        b12_line = next(line for line in detail.splitlines() if "Serum B12:" in line)
        assert "MMA" not in b12_line and "homocysteine" not in b12_line, b12_line


def test_a_marker_too_old_to_count_is_shown_as_such_beside_a_current_one():
    """Each marker on file is quoted once, in order, an old one with why it does not count."""
    rec = record(
        lab(LabKind.B12, 300),
        lab(LabKind.HCY, 24),
        lab(LabKind.MMA, 0.7, days=800),
        lab(LabKind.FOLATE, 9.0),
    )
    old = RECORD_AS_OF - timedelta(days=800)
    uk = get_profile("UK")
    (r,) = [x for x in evaluate(rec, uk, RECORD_AS_OF).recommendations]
    line = next(x for x in render_one(r, uk)["detail"].splitlines() if "Serum B12:" in x)
    assert line.count("MMA: ") == 1 and line.count("homocysteine: ") == 1, line
    assert line.index("MMA: ") < line.index("homocysteine: 24 µmol/L on "), line
    assert f"MMA: 0.7 µmol/L on {old.isoformat()}, more than" in line, line
