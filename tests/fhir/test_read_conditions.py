"""read_record on Conditions, Procedures and AllergyIntolerances: system-aware codes, the
text fallback, clinical and verification status, and the finding each gives.

The cause of a deficiency (irreversible or not) comes from these, and a SNOMED code must
never match an ICD-10 one.
"""

from datetime import date

import pytest

from cds_b12.clinical.record import Finding

from .read_support import (
    ICD10CM,
    ICD_PERNICIOUS_ANAEMIA,
    RX_CYANOCOBALAMIN,
    RXNORM,
    SCT_CROHNS,
    SCT_GASTRECTOMY,
    SCT_HYPERTENSION,
    SCT_PERNICIOUS_ANAEMIA,
    SNOMED,
    allergy,
    concept,
    condition,
    messages,
    only,
    procedure,
    read,
)


def test_condition_codes_system_aware():
    record = read(
        condition("c1", SCT_PERNICIOUS_ANAEMIA),
        condition("c2", ICD_PERNICIOUS_ANAEMIA, system=ICD10CM),
        condition("c3", "D510", system=ICD10CM),
        condition("c4", SCT_PERNICIOUS_ANAEMIA, system=ICD10CM),
        condition("c5", SCT_HYPERTENSION),
    )
    assert [(f.finding, f.resource_id) for f in record.findings] == [
        (Finding.PERNICIOUS_ANAEMIA, "Condition/c1"),
        (Finding.PERNICIOUS_ANAEMIA, "Condition/c2"),
        (Finding.PERNICIOUS_ANAEMIA, "Condition/c3"),
    ]
    assert record.findings[0].on == date(2019, 6, 1)


def test_condition_with_codes_for_two_concepts():
    cond = condition("c1", SCT_PERNICIOUS_ANAEMIA)
    cond["code"]["coding"].append({"system": SNOMED, "code": SCT_CROHNS})
    assert {f.finding for f in read(cond).findings} == {
        Finding.PERNICIOUS_ANAEMIA,
        Finding.CROHNS,
    }


@pytest.mark.parametrize(
    ("clinical", "active"),
    [
        ("active", True),
        ("recurrence", True),
        ("relapse", True),
        ("inactive", False),
        ("remission", False),
        ("resolved", False),
    ],
)
def test_condition_clinical_status(clinical, active):
    assert only(read(condition("c1", SCT_CROHNS, clinical=clinical)).findings).active is active


def test_condition_missing_clinical_status():
    cond = condition("c1", SCT_CROHNS)
    del cond["clinicalStatus"]
    abated = condition("c2", SCT_CROHNS, abatementDateTime="2021-02-03")
    del abated["clinicalStatus"]
    first, second = read(cond, abated).findings
    assert first.active is True
    assert (second.active, second.resolved_on) == (False, date(2021, 2, 3))


def test_a_condition_recorded_as_come_back_is_a_recurrence():
    """clinicalStatus recurrence or relapse: active, and recorded as come back (R13)."""
    states = ("active", "recurrence", "relapse")
    found = read(*(condition(s, "91019004", clinical=s) for s in states)).findings
    assert [(f.active, f.recurrence) for f in found] == [(True, False), (True, True), (True, True)]


def test_condition_verification_status():
    record = read(
        condition("c1", SCT_PERNICIOUS_ANAEMIA, verification="refuted"),
        condition("c2", SCT_PERNICIOUS_ANAEMIA, verification="entered-in-error"),
        condition("c3", SCT_PERNICIOUS_ANAEMIA, verification="confirmed"),
    )
    assert [f.resource_id for f in record.findings] == ["Condition/c3"]
    assert messages(record) == [("Condition/c2", "skipped: marked entered-in-error")]


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Leber hereditary optic neuropathy", Finding.LEBER),
        ("Subacute combined degeneration of spinal cord", Finding.NEURO_SEVERE),
        ("Pernicious anaemia", Finding.PERNICIOUS_ANAEMIA),
        ("Autoimmune gastritis", Finding.ATROPHIC_GASTRITIS),
        ("History of laparoscopic sleeve gastrectomy", Finding.SLEEVE_GASTRECTOMY),
        ("Total gastrectomy", Finding.GASTRECTOMY),
        ("Roux-en-Y gastric bypass", Finding.BARIATRIC_BYPASS),
        ("Ileocaecal resection", Finding.ILEAL_RESECTION),
        ("Short bowel syndrome", Finding.SHORT_BOWEL),
        ("Crohn’s disease", Finding.CROHNS),
        ("Coeliac disease", Finding.COELIAC),
        ("Vegan", Finding.DIETARY_DEFICIENCY),
        ("Paraesthesia of both feet", Finding.NEURO),
        ("Vitamin B12 deficiency", Finding.B12_DEFICIENCY),
        ("Pregnancy", Finding.PREGNANCY),
    ],
)
def test_condition_text_fallback_yields_one_finding(text, finding):
    cond = condition("c1", {"text": text})
    assert [f.finding for f in read(cond).findings] == [finding]


def test_condition_display_used_when_code_unknown():
    cond = condition("c1", concept(SNOMED, "1234567", "Ileectomy"))
    assert only(read(cond).findings).finding is Finding.ILEAL_RESECTION


def test_procedures():
    record = read(
        procedure("pr1", SCT_GASTRECTOMY),
        procedure("pr2", SCT_GASTRECTOMY, status="not-done"),
        procedure("pr3", SCT_GASTRECTOMY, status="entered-in-error"),
        procedure("pr4", SCT_GASTRECTOMY, status="preparation"),
    )
    finding = only(record.findings)
    assert (finding.finding, finding.resource_id, finding.active, finding.on) == (
        Finding.GASTRECTOMY,
        "Procedure/pr1",
        True,
        date(2015, 9, 10),
    )
    assert messages(record) == [("Procedure/pr3", "skipped: marked entered-in-error")]


def test_cobalt_and_b12_allergies():
    record = read(
        allergy("a1", {"text": "Cobalt"}),
        allergy("a2", concept(RXNORM, RX_CYANOCOBALAMIN)),
        allergy("a3", {"text": "Hydroxocobalamin"}, clinical="resolved"),
        allergy("a4", {"text": "Cobalt"}, verification="refuted"),
        allergy("a5", {"text": "Penicillin"}),
    )
    assert [(f.finding, f.resource_id, f.active) for f in record.findings] == [
        (Finding.COBALT_B12_ALLERGY, "AllergyIntolerance/a1", True),
        (Finding.COBALT_B12_ALLERGY, "AllergyIntolerance/a2", True),
        (Finding.COBALT_B12_ALLERGY, "AllergyIntolerance/a3", False),
    ]
    assert record.notes == ()
