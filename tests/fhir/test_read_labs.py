"""read_record on lab Observations: conversion to the canonical units, reference ranges,
values written as strings, which statuses and dates make a result usable, and the
Observations that are findings (pregnancy, diet).

A misread lab is a wrong band on a card, so every unusable result must be skipped with
a note, never dropped silently.
"""

from datetime import date

import pytest

from cds_b12.clinical.record import Finding, LabKind, PatientRecord

from .read_support import (
    INTERPRETATION,
    LOINC_B12_MASS,
    LOINC_B12_MOLES,
    LOINC_GLUCOSE,
    LOINC_HB,
    LOINC_MMA,
    LOINC_PREGNANCY_STATUS,
    SCT_NOT_PREGNANT,
    SCT_PREGNANT,
    SNOMED,
    UCUM,
    concept,
    messages,
    observation,
    only,
    quantity,
    read,
)


def test_b12_in_pmol_l_is_converted_to_ng_l():
    lab = only(read(observation("b12", LOINC_B12_MOLES, 133, "pmol/L")).labs)
    assert lab.kind is LabKind.B12
    assert lab.value == pytest.approx(180.2, abs=0.05)
    assert lab.on == date(2024, 5, 1)
    assert lab.resource_id == "Observation/b12"


def test_b12_upper_band_edge():
    lab = only(read(observation("b12", LOINC_B12_MOLES, 258, "pmol/L")).labs)
    assert lab.value == pytest.approx(349.6, abs=0.05)


def test_b12_pg_ml_equals_ng_l():
    lab = only(read(observation("b12", LOINC_B12_MASS, 180, "pg/mL")).labs)
    assert lab.value == 180


def test_b12_uk_gp_snomed_code():
    lab = only(read(observation("b12", "271216009", 210, "ng/L", system=SNOMED)).labs)
    assert (lab.kind, lab.value) == (LabKind.B12, 210)


def test_mma_nmol_l_to_umol_l():
    lab = only(read(observation("mma", LOINC_MMA, 450, "nmol/L")).labs)
    assert (lab.kind, lab.value) == (LabKind.MMA, pytest.approx(0.45))


def test_hb_g_l_to_g_dl():
    lab = only(read(observation("hb", LOINC_HB, 98, "g/L")).labs)
    assert (lab.kind, lab.value) == (LabKind.HB, pytest.approx(9.8))


def test_reference_range_and_interpretation():
    obs = observation(
        "b12",
        LOINC_B12_MOLES,
        100,
        "pmol/L",
        referenceRange=[{"low": quantity(148, "pmol/L"), "high": {"value": 664}}],
        interpretation=[concept(INTERPRETATION, "L")],
    )
    lab = only(read(obs).labs)
    assert lab.ref_low == pytest.approx(200.5, abs=0.05)
    assert lab.ref_high == pytest.approx(899.7, abs=0.05)  # falls back to the value's unit
    assert lab.interpretation == "L"


def test_unconvertible_reference_range_ignored():
    obs = observation(
        "b12", LOINC_B12_MASS, 300, "pg/mL", referenceRange=[{"low": quantity(0.2, "mg/dL")}]
    )
    lab = only(read(obs).labs)
    assert (lab.value, lab.ref_low, lab.ref_high) == (300, None, None)


def test_comparator_keeps_the_number():
    obs = observation("b12", LOINC_B12_MASS)
    obs["valueQuantity"] = {"value": 150, "comparator": "<", "system": UCUM, "code": "pg/mL"}
    assert only(read(obs).labs).value == 150


def test_value_string_with_unit_from_reference_range():
    obs = observation(
        "b12",
        LOINC_B12_MASS,
        valueString="<150",
        referenceRange=[{"low": quantity(200, "pg/mL"), "high": quantity(900, "pg/mL")}],
    )
    assert only(read(obs).labs).value == 150


def test_value_string_with_its_own_unit():
    obs = observation("b12", LOINC_B12_MOLES, valueString="245 pmol/L")
    assert only(read(obs).labs).value == pytest.approx(332.0, abs=0.05)


def test_numeric_string_value_and_local_unit():
    obs = observation("b12", LOINC_B12_MASS)
    obs["valueQuantity"] = {"value": "245", "unit": "pg/ml"}
    assert only(read(obs).labs).value == 245


def test_unknown_unit_noted_and_ignored():
    record = read(observation("b12", LOINC_B12_MASS, 0.3, "mg/dL"))
    assert record.labs == ()
    assert messages(record) == [
        ("Observation/b12", "value ignored: unit 'mg/dL' is not a known unit for vitamin B12")
    ]


def test_missing_unit_noted_and_ignored():
    obs = observation("b12", LOINC_B12_MASS)
    obs["valueQuantity"] = {"value": 245}
    record = read(obs)
    assert record.labs == ()
    assert messages(record) == [("Observation/b12", "value ignored: no unit given for vitamin B12")]


def test_no_value_noted():
    record = read(observation("b12", LOINC_B12_MASS, dataAbsentReason={"text": "haemolysed"}))
    assert record.labs == ()
    assert messages(record) == [("Observation/b12", "skipped: no result value (haemolysed)")]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("entered-in-error", "skipped: marked entered-in-error"),
        ("cancelled", "skipped: result cancelled"),
        ("preliminary", "skipped: preliminary result"),
        ("registered", "skipped: result not yet available"),
        ("unknown", "skipped: result status unknown"),
    ],
)
def test_unusable_status_skipped_with_note(status, message):
    record = read(observation("b12", LOINC_B12_MASS, 300, "pg/mL", status=status))
    assert record.labs == ()
    assert messages(record) == [("Observation/b12", message)]


@pytest.mark.parametrize("status", ["final", "amended", "corrected"])
def test_usable_status(status):
    record = read(observation("b12", LOINC_B12_MASS, 300, "pg/mL", status=status))
    assert len(record.labs) == 1
    assert record.notes == ()


def test_missing_status_noted_but_used():
    obs = observation("b12", LOINC_B12_MASS, 300, "pg/mL")
    del obs["status"]
    record = read(obs)
    assert len(record.labs) == 1
    assert messages(record) == [("Observation/b12", "status missing; used anyway")]


def test_issued_used_with_note_when_no_effective_date():
    obs = observation("b12", LOINC_B12_MASS, 300, "pg/mL", issued="2024-05-02T14:00:00Z")
    del obs["effectiveDateTime"]
    record = read(obs)
    assert only(record.labs).on == date(2024, 5, 2)
    assert messages(record) == [("Observation/b12", "no collection date; used the report date")]


def test_effective_period_start():
    obs = observation("b12", LOINC_B12_MASS, 300, "pg/mL", effectivePeriod={"start": "2024-04"})
    del obs["effectiveDateTime"]
    assert only(read(obs).labs).on == date(2024, 4, 1)


def test_no_date_at_all_skipped():
    obs = observation("b12", LOINC_B12_MASS, 300, "pg/mL")
    del obs["effectiveDateTime"]
    record = read(obs)
    assert record.labs == ()
    assert messages(record) == [("Observation/b12", "skipped: no date")]


def test_unused_observation_ignored_silently():
    record = read(observation("glu", LOINC_GLUCOSE, 5.4, "mmol/L", status="bogus"))
    assert record == PatientRecord()


def test_observation_without_id():
    obs = observation("x", LOINC_B12_MASS, 300, "pg/mL")
    del obs["id"]
    assert only(read(obs).labs).resource_id == "Observation"


def test_pregnancy_status_observation():
    pregnant = observation(
        "preg", LOINC_PREGNANCY_STATUS, valueCodeableConcept=concept(SNOMED, SCT_PREGNANT)
    )
    not_pregnant = observation(
        "notpreg", LOINC_PREGNANCY_STATUS, valueCodeableConcept=concept(SNOMED, SCT_NOT_PREGNANT)
    )
    finding = only(read(pregnant, not_pregnant).findings)
    assert (finding.finding, finding.active, finding.on) == (
        Finding.PREGNANCY,
        True,
        date(2024, 5, 1),
    )
    assert finding.resource_id == "Observation/preg"


def test_vegan_diet_observation():
    obs = observation("diet", "81663-7", valueCodeableConcept={"text": "Vegan diet"})
    assert only(read(obs).findings).finding is Finding.DIETARY_DEFICIENCY
