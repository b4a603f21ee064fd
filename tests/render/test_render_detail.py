"""Card detail: its sections in order, the data-quality notes, the profile's lab names and
the clinical statements that must survive any rewording.

The detail is what the clinician reads, so the safety wording (continue metformin, urgent
neuro loading, off-label intensification) is pinned here, apart from the card shape.
"""

from __future__ import annotations

import re

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.profiles import UK, US, Profile
from cds_b12.clinical.record import DataNote, Finding, LabKind, Product, Route, Timing
from cds_b12.clinical.sources import SOURCES
from cds_b12.render import render_cards

from ..clinical.records import AS_OF as REC_AS_OF
from ..clinical.records import finding, lab, metformin, order, record
from .profile_cards import fixture_rule_cards
from .render_support import AS_OF, PATIENT, PROFILES, render_one
from .rule_facts import RULES
from .rule_specs import make_rec


def test_every_card_of_a_call_ends_with_the_same_data_quality_notes() -> None:
    """Worded once per call: the second card's block is the first's, the more-count too."""
    notes = [DataNote(f"Observation/o{i}", f"unit number {i}") for i in (3, 1, 7, 1, 5, 2, 9)]
    recs = [make_rec(rule, UK) for rule in ("R1-start-neuro-loading", "R14-lab-drift")]
    cards = render_cards(recs, profile=UK, as_of=AS_OF, patient_id=PATIENT, notes=notes)
    blocks = []
    for card in cards:
        paragraphs = card["detail"].split("\n\n")
        start = next(i for i, p in enumerate(paragraphs) if p.startswith("**Data quality:**"))
        blocks.append(paragraphs[start : start + 2])
    assert blocks[0] == blocks[1]
    assert blocks[0][1].count("- ") == 6 and blocks[0][1].endswith("1 more not shown")  # o1 once


def test_detail_sections() -> None:
    rec = make_rec(
        "R1-start-neuro-loading", UK, safety=("S8", "S6", "S8"), sources=("UK-2", "UK-3", "UK-2")
    )
    notes = [DataNote(f"Observation/o{i}", f"unit number {i}\nnot recognised") for i in range(8)]
    detail = render_one(rec, UK, notes=notes)["detail"]
    assert detail.startswith(
        "Vitamin B12 deficiency **with neurological involvement**: neuropathy or paraesthesia "
        "(since 2025-11-02), cognitive, cord or optic signs (since 2025-12-20)."
    )
    assert (
        "**Plan:** hydroxocobalamin 1 mg IM every other day until no further improvement, "
        "then every 2 months for life."
    ) in detail
    assert "reticulocytes 2026-01-22 to 2026-01-25 (response)" in detail
    assert "potassium on 2026-01-17 (48 hours after the first dose" in detail
    assert (
        "FBC, reticulocytes, folate, ferritin, IF antibody today (baseline, before dose 1);"
    ) in detail
    # the facts, then the plan and its labs, then the card's own advice
    paragraphs = detail.split("\n\n")
    assert paragraphs[1].startswith("- Serum B12:") and paragraphs[2].startswith("**Plan:**")
    assert paragraphs[3].startswith("**Labs:**")
    # S8 is in R1's own words (safety_said), so only S6 is listed, once
    assert "- Neurological signs:" not in detail
    assert detail.count("- Severe anaemia or pancytopenia: check potassium") == 1
    assert "- Observation/o4: unit number 4 not recognised" in detail
    assert "Observation/o5" not in detail and "- 3 more not shown" in detail
    sources = detail.rsplit("\n\n", 1)[1]
    # each source once: UK-2 is the card's own source link, so the line has UK-3, then
    # the SmPC the S6 line names (UK wording)
    links = [f"[{SOURCES[sid].label}]({SOURCES[sid].url})" for sid in ("UK-3", "UK-5")]
    assert sources == f"Sources: {'; '.join(links)}."
    assert SOURCES["SP-7"].url not in detail  # S8's NHS Lothian: its line is not shown


def test_a_safety_line_cites_its_sources_after_the_rules_own() -> None:
    """The US S7 and S8 lines name the MHRA, BSH and NHS Lothian: UK documents, cited
    after the card's US sources because the text names them; Lam rests under S7's PPI
    advice; the FDA label both the rule and S6 cite, once."""
    rec = make_rec(
        "R2-start-standard-loading", US, safety=("S7", "S6", "S8"), sources=("US-3", "US-1")
    )
    detail = render_one(rec, US)["detail"]
    sources = detail.rsplit("\n\n", 1)[1]
    links = [
        f"[{SOURCES[sid].label}]({SOURCES[sid].url})"
        for sid in ("US-1", "SP-6", "SP-5", "UK-6", "SP-7")  # US-3 is the card's own link
    ]
    assert sources == f"Sources: {'; '.join(links)}."


def test_detail_omits_empty_sections() -> None:
    rec = make_rec("R18-acid-suppressant-screening", US, labs=())
    detail = render_one(rec, US)["detail"]
    for heading in (
        "**Plan:**",
        "**Alternative:**",
        "**Labs:**",
        "**Safety:**",
        "**Data quality:**",
    ):
        assert heading not in detail
    assert "- Acid suppressant: acid suppression (PPI or H2RA); 3.2 years of use" in detail


def test_us_profile_says_cbc_and_uk_says_fbc() -> None:
    rec = make_rec("R17-metformin-screening", UK)
    card = render_one(rec, UK)
    assert "serum B12, FBC today" in card["detail"]  # the detail's short names
    assert "Order Full blood count (FBC), due today." in str(card["suggestions"])
    us_detail = render_one(make_rec("R17-metformin-screening", US), US)["detail"]
    assert "serum B12, CBC today" in us_detail


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_clinical_wording_rules(profile: Profile) -> None:
    """The §6.2 statements that must survive any rewording."""

    def detail(rule: str) -> str:
        return render_one(make_rec(rule, profile), profile)["detail"]

    for rule in ("R4-medication-cause", "R17-metformin-screening"):
        text = detail(rule)
        assert "**Continue metformin**" in text
        assert "do not stop it because of low B12" in text
    for rule in RULES:
        assert "stop metformin" not in detail(rule).lower().replace("not stop", "")
    assert "only because the cause was reversible and has resolved" in detail("R16-consider-stop")
    for rule in ("R1-start-neuro-loading", "R6-indeterminate-neuro"):
        text = detail(rule)
        assert "same-day admission" in text and "**urgent" in text.lower()
        assert "not wait" in text.lower() or "do not delay" in text.lower()
    r13 = detail("R13-intensify-interval")
    assert "off-label" in r13 and "documented recurrence" in r13
    assert "confirmed adherence" in r13
    r15 = detail("R15-b12-order-on-maintenance")
    assert "within 2 weeks of an injection are not interpretable" in r15
    if profile is UK:
        assert "not routinely needed" in r15 and "42 days" in r15


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_the_restart_limit_of_an_interrupted_course_is_not_credited_to_a_guideline(profile):
    """interrupted_course_restart_days is a judgement (no source says when a break means the
    whole course again): the R26 card must not put "(BNF)" or any guideline on it."""
    detail = render_one(make_rec("R26-interrupted-course", profile), profile)["detail"]
    sentences = re.split(r"(?<=\.)\s+|\n+", detail)
    (sentence,) = [s for s in sentences if "whole course" in s]
    assert not any(name in sentence for name in ("BNF", "NICE", "NG239", "SmPC", "FDA")), sentence
    assert "judg" in sentence, sentence


def test_the_stop_card_claims_no_more_than_the_record_shows():
    """R16 (the one card that may suggest stopping) fires on what is not recorded (no
    neurological signs, anaemia or recurring symptoms): it must not tell the clinician
    that symptoms "have resolved", nor set "no cause recorded" beside the cause it says
    has resolved; and it shows the B12 that is no longer low."""
    details = [
        c["detail"] for _w, _p, rule, c in fixture_rule_cards() if rule == "R16-consider-stop"
    ]
    assert details
    for detail in details:
        assert "Symptoms have resolved" not in detail, detail
        assert "no cause recorded" not in detail, detail
        assert "confirm" in detail.lower() and "Serum B12: 420 pg/mL on " in detail, detail


@pytest.mark.parametrize(
    ("stem", "says", "not_says"),
    [
        ("R7-severe-anaemia/severe-anaemia-fires", "severe an", "pancytopenia"),
        ("R7-severe-anaemia/pancytopenia-fires", "pancytopenia", "severe an"),
        ("R23-not-adult/child-critical-hb-fires", "critically low", "pancytopenia"),
        ("R23-not-adult/child-pancytopenia-fires", "pancytopenia", "critically low"),
    ],
)
def test_the_urgent_assessment_card_says_which_finding_the_patient_has(stem, says, not_says):
    """'severe anaemia or pancytopenia' makes the clinician work out which: the R7 summary
    and opening sentence name the patient's own finding, for an adult or a child."""
    cards = [
        c
        for w, _p, rule, c in fixture_rule_cards()
        if rule == "R7-severe-anaemia" and w.startswith(f"{stem}[")
    ]
    assert len(cards) == 2
    for card in cards:
        opening = card["detail"].split("\n\n")[0]
        for text in (card["summary"], opening):
            assert says in text.lower() and not_says not in text.lower(), text


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_a_low_baseline_potassium_card_does_not_call_pancytopenia_severe_anaemia(profile):
    """The baseline_low_potassium summary ended '...: severe anaemia' whatever the patient
    had; with pancytopenia and an Hb of 9.6 g/dL that is a finding the patient has not."""
    rec = record(
        finding(Finding.PERNICIOUS_ANAEMIA),
        lab(LabKind.B12, 95),
        lab(LabKind.HB, 9.6),
        lab(LabKind.WBC, 2.3),
        lab(LabKind.NEUTROPHILS, 0.9),
        lab(LabKind.PLATELETS, 62),
        lab(LabKind.POTASSIUM, 3.1, days=1),
    )
    (r7,) = [
        r for r in evaluate(rec, profile, REC_AS_OF).recommendations if r.rule.startswith("R7-")
    ]
    summary = render_one(r7, profile)["summary"]
    assert "severe an" not in summary.lower(), summary


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
@pytest.mark.parametrize("drug", ["metformin", "ppi"])
def test_the_medicine_card_speaks_of_the_patients_own_medicine(profile, drug):
    """R4 for metformin alone told the clinician to review a PPI and cited Lam (a PPI study);
    for a PPI alone it said 'Continue metformin'. Each says and cites its own medicine."""
    if drug == "metformin":
        med = metformin(days=2000)
    else:
        med = order(
            Timing(1, 1, None, "d"),
            1000,
            product=Product.ACID_SUPPRESSANT,
            ingredient=None,
            dose_mg=40,
            route=Route.ORAL,
        )
    rec = record(lab(LabKind.B12, 150), lab(LabKind.HB, 13.5), med)
    (r4,) = [r for r in evaluate(rec, profile, REC_AS_OF).recommendations]
    assert r4.rule == "R4-medication-cause"
    card = render_one(r4, profile)
    text = card["summary"] + card["detail"]
    lam = SOURCES["SP-6"].url
    if drug == "metformin":
        assert "PPI" not in text and lam not in text and card["source"]["url"] != lam, text
        assert "Continue metformin" in card["detail"]
    else:
        assert "metformin" not in text.lower(), text
        assert "PPI" in card["detail"] and lam in (card["detail"] + card["source"]["url"])
