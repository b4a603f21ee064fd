"""The reader keeps what it cannot trust visible: a comparator stays on the Lab, and a
result it cannot read is kept as unreadable (with its note) instead of vanishing."""

import json

import pytest

from cds_b12.clinical.record import Finding, LabKind, Unreadable
from cds_b12.fhir.read import read_record

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def b12(**value):
    return {
        "resourceType": "Observation",
        "id": "b12",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2132-9"}]},
        "effectiveDateTime": "2025-12-01",
        **value,
    }


def read(*resources):
    return read_record({"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]})


@pytest.mark.parametrize(
    ("value", "comparator", "number"),
    [
        ({"valueQuantity": {"value": 150, "comparator": "<", "unit": "pg/mL"}}, "<", 150),
        ({"valueQuantity": {"value": 2000, "comparator": ">", "unit": "pg/mL"}}, ">", 2000),
        ({"valueQuantity": {"value": 180, "comparator": "<=", "unit": "pg/mL"}}, "<=", 180),
        ({"valueQuantity": {"value": "<150", "unit": "pg/mL"}}, "<", 150),
        ({"valueString": "<200 pg/mL"}, "<", 200),
        ({"valueString": ">2000 ng/L"}, ">", 2000),
        ({"valueString": "≥ 350 pg/mL"}, ">=", 350),
        ({"valueString": "245 pg/mL"}, None, 245),
    ],
)
def test_the_comparator_stays_on_the_lab(value, comparator, number):
    (lab,) = read(b12(**value)).labs
    assert (lab.value, lab.comparator) == (number, comparator)


@pytest.mark.parametrize(
    ("raw", "reason", "message"),
    [
        ('{"value": 150}', Unreadable.NO_UNIT, "value ignored: no unit given for vitamin B12"),
        (
            '{"value": 150, "unit": "mg/dL"}',
            Unreadable.UNKNOWN_UNIT,
            "value ignored: unit 'mg/dL' is not a known unit for vitamin B12",
        ),
        # a unit in braces (a UCUM annotation) or a format field is quoted as sent, never
        # read as a template: it was formatted again and the result became "unreadable"
        (
            '{"value": 150, "unit": "mL/min/{1.73_m2}"}',
            Unreadable.UNKNOWN_UNIT,
            "value ignored: unit 'mL/min/{1.73_m2}' is not a known unit for vitamin B12",
        ),
        (
            '{"value": 150, "unit": "{name.__class__}"}',
            Unreadable.UNKNOWN_UNIT,
            "value ignored: unit '{name.__class__}' is not a known unit for vitamin B12",
        ),
        ('{"value": NaN, "unit": "pg/mL"}', Unreadable.NOT_A_NUMBER, None),
        ('{"value": Infinity, "unit": "pg/mL"}', Unreadable.NOT_A_NUMBER, None),
        ('{"value": 1e400, "unit": "pg/mL"}', Unreadable.NOT_A_NUMBER, None),
        ('{"value": "-Infinity", "unit": "pg/mL"}', Unreadable.NOT_A_NUMBER, None),
        ('{"unit": "pg/mL"}', Unreadable.NO_VALUE, "skipped: no result value"),
    ],
)
def test_a_result_that_cannot_be_read_is_kept_as_unreadable_with_its_note(raw, reason, message):
    record = read(b12(valueQuantity=json.loads(raw)))
    assert record.labs == ()
    (unread,) = record.unreadable
    assert (unread.kind, unread.resource, unread.reason) == (
        LabKind.B12,
        "Observation/b12",
        reason,
    )
    (note,) = record.notes
    assert note.message == (message or "value ignored: not a finite number for vitamin B12")


def test_a_value_string_that_is_not_a_number_is_unreadable():
    (unread,) = read(b12(valueString="haemolysed, see comment")).unreadable
    assert unread.reason is Unreadable.NOT_A_NUMBER


@pytest.mark.parametrize(
    ("quantity", "value"),
    [({"value": 75, "unit": "g/dL"}, 75), ({"value": 750, "unit": "g/L"}, 75)],
)
def test_an_impossible_value_is_read_as_sent_for_the_core_to_judge(quantity, value):
    """Tolerant reading: "75 g/dL" is a well-formed Hb; whether a patient can have it is
    the profile's judgement (clinical.plausible), so the reader keeps the value and its
    unit as sent, with no note of its own, for the card to quote."""
    hb = b12(valueQuantity=quantity)
    hb["code"] = {"coding": [{"system": LOINC, "code": "718-7"}]}
    record = read(hb)
    (lab,) = record.labs
    assert (lab.kind, lab.value) == (LabKind.HB, value)
    assert (lab.reported.value, lab.reported.unit) == (quantity["value"], quantity["unit"])
    assert record.unreadable == () and record.notes == ()


@pytest.mark.parametrize(
    "unit", ["mL/min/{1.73_m2}", "mL/min/1.73m2", "mL/min/1.73 m²", "ml/min/1.73m^2"]
)
def test_egfr_is_read_per_body_surface(unit):
    egfr = b12(valueQuantity={"value": 34, "unit": unit})
    egfr["code"] = {"coding": [{"system": LOINC, "code": "62238-1"}]}
    (lab,) = read(egfr).labs
    assert (lab.kind, lab.value) == (LabKind.EGFR, 34)


@pytest.mark.parametrize(
    "text",
    ["Chronic kidney disease stage 3b", "CKD 4", "End-stage renal disease", "On haemodialysis"],
)
def test_kidney_disease_words_are_a_finding(text):
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"text": text},
    }
    (found,) = read(condition).findings
    assert found.finding is Finding.RENAL_IMPAIRMENT
