"""R24: a raised MMA or homocysteine with a normal B12 is not B12 deficiency on its own
when another cause on file explains it (renal impairment, folate deficiency; §2.4, §2.5)."""

from __future__ import annotations

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.markers import Confounder
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Indicator, Kind, Variant
from cds_b12.clinical.record import Finding, LabKind

from .records import AS_OF, Timing, draft_med, finding, lab, metformin, order, record

PROFILES = pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
NORMAL_B12 = lab(LabKind.B12, 520)
HIGH_MMA = lab(LabKind.MMA, 0.62)
HIGH_HCY = lab(LabKind.HCY, 24)
LOW_EGFR = lab(LabKind.EGFR, 34)
CKD = finding(Finding.RENAL_IMPAIRMENT)


def recs(*items, profile=US):
    return evaluate(record(*items), profile, AS_OF).recommendations


def only(*items, profile=US):
    found = recs(*items, profile=profile)
    assert [r.rule for r in found] == ["R24-confounded-marker"]
    return found[0]


@PROFILES
@pytest.mark.parametrize("kidneys", [LOW_EGFR, CKD], ids=["eGFR 34", "CKD recorded"])
def test_a_raised_mma_with_reduced_kidney_function_is_not_treated(profile, kidneys):
    r = only(NORMAL_B12, HIGH_MMA, kidneys, profile=profile)
    assert r.indicator is Indicator.INFO
    assert r.regimen is None and r.alternative is None  # no lifelong injections
    (item,) = r.facts["confounded"].items
    assert (item.marker, item.confounder) == (HIGH_MMA, Confounder.RENAL)
    assert [lab.test for lab in r.labs] == ["HOLOTC"]


@PROFILES
def test_a_raised_homocysteine_with_a_low_folate_asks_for_mma(profile):
    folate = lab(LabKind.FOLATE, 2.1, ref_low=3.9)
    r = only(NORMAL_B12, HIGH_HCY, folate, profile=profile)
    (item,) = r.facts["confounded"].items
    assert (item.confounder, item.result) == (Confounder.FOLATE, folate)
    assert [lab.test for lab in r.labs] == ["MMA"]


def test_the_profile_cut_offs_apply_without_a_lab_range():
    assert recs(NORMAL_B12, HIGH_HCY, lab(LabKind.FOLATE, 2.5))[0].rule == "R24-confounded-marker"
    assert recs(NORMAL_B12, HIGH_HCY, lab(LabKind.FOLATE, 6))[0].rule != "R24-confounded-marker"
    assert recs(NORMAL_B12, HIGH_MMA, lab(LabKind.EGFR, 75))[0].rule != "R24-confounded-marker"
    assert recs(NORMAL_B12, HIGH_MMA, lab(LabKind.EGFR, 90, comparator=">"))[0].rule != (
        "R24-confounded-marker"
    )


def test_a_raised_marker_nothing_explains_is_still_deficiency():
    assert [r.rule for r in recs(NORMAL_B12, HIGH_MMA)] == ["R2-start-standard-loading"]


def test_every_raised_marker_must_be_explained():
    # renal impairment raises homocysteine too (§2.5): both markers are explained
    assert only(NORMAL_B12, HIGH_MMA, HIGH_HCY, LOW_EGFR)
    # a low folate explains the homocysteine but not the MMA: deficiency is treated
    rules = [r.rule for r in recs(NORMAL_B12, HIGH_MMA, HIGH_HCY, lab(LabKind.FOLATE, 2))]
    assert "R24-confounded-marker" not in rules and "R2-start-standard-loading" in rules


def test_a_low_b12_is_deficiency_whatever_the_kidneys():
    rules = [r.rule for r in recs(lab(LabKind.B12, 120), HIGH_MMA, LOW_EGFR)]
    assert rules == ["R2-start-standard-loading"]


def test_neurological_signs_are_still_treated_urgently():
    rules = [r.rule for r in recs(NORMAL_B12, HIGH_MMA, LOW_EGFR, finding(Finding.NEURO, 10))]
    assert rules == ["R1-start-neuro-loading"]


def test_anaemia_makes_it_a_warning():
    r = only(NORMAL_B12, HIGH_MMA, LOW_EGFR, lab(LabKind.HB, 10.5))
    assert r.indicator is Indicator.WARNING


# ---- an injection order being placed (order-select / order-sign) ----
LOADING_DRAFT = draft_med(order(Timing(1, 2, None, "d", bounded=True), days=0))


@PROFILES
def test_an_injection_order_on_a_confounded_marker_is_not_supported_by_it_alone(profile):
    """One card for the problem: R24 says the draft is not supported by this evidence alone
    (the confirming test first) and offers removing it; R29's "a normal MMA makes deficiency
    unlikely" is never said beside a raised MMA."""
    r = only(NORMAL_B12, HIGH_MMA, LOW_EGFR, LOADING_DRAFT, profile=profile)
    assert r.variant is Variant.DRAFT_ORDER and r.kind is Kind.CORRECT_ORDER
    assert r.draft_id == "MedicationRequest/draft-1" and r.regimen is None
    assert [lab.test for lab in r.labs] == ["HOLOTC"]
    assert r.facts["product"] == LOADING_DRAFT.medication


def test_with_an_injection_order_neurological_signs_are_still_treated():
    neuro = finding(Finding.NEURO, 10)
    rules = [r.rule for r in recs(NORMAL_B12, HIGH_MMA, LOW_EGFR, neuro, LOADING_DRAFT)]
    assert "R24-confounded-marker" not in rules and "R1-start-neuro-loading" in rules


@PROFILES
@pytest.mark.parametrize(
    ("item", "sid"),
    [(metformin(), "S7"), (finding(Finding.PREGNANCY, 60), "S11")],
    ids=["metformin", "pregnancy"],
)
def test_the_draft_order_card_keeps_the_plain_cards_safety_lines(profile, item, sid):
    """Removing the order for the confirming test first is still the testing card for the
    problem: continue metformin (S7) and the pregnancy checks (S11) stay on it."""
    for draft in ((), (LOADING_DRAFT,)):
        found = recs(NORMAL_B12, HIGH_MMA, LOW_EGFR, item, *draft, profile=profile)
        (r,) = [r for r in found if r.rule == "R24-confounded-marker"]
        assert sid in r.safety, (draft, r.safety)
