"""Tolerance of real EHR data, the values and dates (the table's other half is
``test_tolerance``): a value in a unit we know is converted, any other is said as
unreadable (R25 for the analytes that decide a card), never used and never dropped
unsaid; a date falls back as documented, with a note when it is not the date the fact
happened or there is none.
"""

import pytest

from .read_support import (
    DATA_ABSENT,
    LOINC_B12_MASS,
    LOINC_FOLATE,
    LOINC_HB,
    LOINC_POTASSIUM,
    UCUM,
    concept,
    med_administration,
    med_statement,
    messages,
    observation,
    quantity,
    read,
)
from .test_tolerance import INJECTION, ORAL, b12, facts


def _value(code: str, value_quantity: dict) -> dict:
    obs = observation("x", code)
    obs["valueQuantity"] = value_quantity
    return obs


# (resource, facts, notes): a value in a unit we know is converted; any other is said
# (R25 for the analytes that decide a card), never used and never dropped unsaid.
VALUES = {
    "B12 in pmol/L": (
        observation("x", "14685-2", 221, "pmol/L"),
        ["Lab B12 299.455 2024-05-01"],
        [],
    ),
    "folate in nmol/L": (
        observation("x", LOINC_FOLATE, 22.66, "nmol/L"),
        ["Lab FOLATE 10 2024-05-01"],
        [],
    ),
    "Hb in g/L": (observation("x", LOINC_HB, 98, "g/L"), ["Lab HB 9.8 2024-05-01"], []),
    "potassium in mEq/L": (
        observation("x", LOINC_POTASSIUM, 3.1, "mEq/L"),
        ["Lab POTASSIUM 3.1 2024-05-01"],
        [],
    ),
    **{
        f"{name} with no unit": (
            _value(code, {"value": 5}),
            [f"Unreadable {kind} NO_UNIT 2024-05-01"],
            [f"value ignored: no unit given for {name}"],
        )
        for name, code, kind in (
            ("vitamin B12", LOINC_B12_MASS, "B12"),
            ("folate", LOINC_FOLATE, "FOLATE"),
            ("Hb", LOINC_HB, "HB"),
            ("potassium", LOINC_POTASSIUM, "POTASSIUM"),
        )
    },
    **{
        f"{name} in {unit}": (
            observation("x", code, 5, unit),
            [f"Unreadable {kind} UNKNOWN_UNIT 2024-05-01"],
            [f"value ignored: unit '{unit}' is not a known unit for {name}"],
        )
        for name, code, kind, unit in (
            ("vitamin B12", LOINC_B12_MASS, "B12", "mg/dL"),
            ("folate", LOINC_FOLATE, "FOLATE", "pmol/L"),
            ("Hb", LOINC_HB, "HB", "%"),
            ("potassium", LOINC_POTASSIUM, "POTASSIUM", "mg/dL"),
        )
    },
    'valueString "<150" with the range\'s unit': (
        b12(None, valueString="<150", referenceRange=[{"low": quantity(200, "pg/mL")}]),
        ["Lab B12 <150 2024-05-01"],
        [],
    ),
    'valueString "> 2000 pg/mL"': (
        b12(None, valueString="> 2000 pg/mL"),
        ["Lab B12 >2000 2024-05-01"],
        [],
    ),
    'valueString "<150" with no unit anywhere': (
        b12(None, valueString="<150"),
        ["Unreadable B12 NO_UNIT 2024-05-01"],
        ["value ignored: no unit given for vitamin B12"],
    ),
    'valueString "1,250 pg/mL" is not read as 1': (
        b12(None, valueString="1,250 pg/mL"),
        ["Unreadable B12 UNKNOWN_UNIT 2024-05-01"],
        ["value ignored: unit ',250 pg/mL' is not a known unit for vitamin B12"],
    ),
    "a unit and a UCUM code that disagree": (
        _value(LOINC_B12_MASS, {"value": 245, "unit": "pg/mL", "system": UCUM, "code": "pmol/L"}),
        ["Unreadable B12 UNITS_DISAGREE 2024-05-01"],
        ["value ignored: unit 'pg/mL' and its code 'pmol/L' disagree for vitamin B12"],
    ),
    "a unit and a UCUM code that are the same unit": (
        _value(LOINC_B12_MASS, {"value": 245, "unit": "ng/L", "system": UCUM, "code": "pg/mL"}),
        ["Lab B12 245 2024-05-01"],
        [],
    ),
    "a unit in words beside its UCUM code": (
        _value(
            LOINC_B12_MASS,
            {"value": 245, "unit": "picograms per mL", "system": UCUM, "code": "pg/mL"},
        ),
        ["Lab B12 245 2024-05-01"],
        [],
    ),
    **{
        f"a negative {name}": (
            observation("x", code, -5, unit),
            [f"Unreadable {kind} NOT_A_NUMBER 2024-05-01"],
            [f"value ignored: a negative value for {name}"],
        )
        for name, code, kind, unit in (
            ("vitamin B12", LOINC_B12_MASS, "B12", "pg/mL"),
            ("Hb", LOINC_HB, "HB", "g/dL"),
            ("potassium", LOINC_POTASSIUM, "POTASSIUM", "mmol/L"),
        )
    },
    'a negative valueString "-150 pg/mL"': (
        b12(None, valueString="-150 pg/mL"),
        ["Unreadable B12 NOT_A_NUMBER 2024-05-01"],
        ["value ignored: a negative value for vitamin B12"],
    ),
    "a B12 of 0": (observation("x", LOINC_B12_MASS, 0, "pg/mL"), ["Lab B12 0 2024-05-01"], []),
    "a comparator not understood": (
        _value(LOINC_B12_MASS, {"value": 200, "comparator": "~", "unit": "pg/mL"}),
        ["Unreadable B12 NOT_A_NUMBER 2024-05-01"],
        ["value ignored: comparator '~' not understood for vitamin B12"],
    ),
    "a comparator written with spaces": (
        _value(LOINC_B12_MASS, {"value": 200, "comparator": " <= ", "unit": "pg/mL"}),
        ["Lab B12 <=200 2024-05-01"],
        [],
    ),
    'valueQuantity.value "245 pg/mL"': (
        _value(LOINC_B12_MASS, {"value": "245 pg/mL", "unit": "pg/mL"}),
        ["Lab B12 245 2024-05-01"],
        [],
    ),
    **{
        f"valueQuantity.value {raw!r} is not read as its first digits": (
            _value(code, {"value": raw, "unit": unit}),
            [f"Unreadable {kind} NOT_A_NUMBER 2024-05-01"],
            [f"value ignored: not a finite number for {name}"],
        )
        for raw, code, kind, name, unit in (
            ("1,250", LOINC_B12_MASS, "B12", "vitamin B12", "pg/mL"),
            ("150-200", LOINC_B12_MASS, "B12", "vitamin B12", "pg/mL"),
            ("7,5", LOINC_HB, "HB", "Hb", "g/dL"),
            ("3.1 (repeat 4.9)", LOINC_POTASSIUM, "POTASSIUM", "potassium", "mmol/L"),
        )
    },
    "valueInteger with the range's unit": (
        b12(None, valueInteger=150, referenceRange=[{"low": quantity(200, "pg/mL")}]),
        ["Lab B12 150 2024-05-01"],
        [],
    ),
    "valueInteger with no unit": (
        b12(None, valueInteger=150),
        ["Unreadable B12 NO_UNIT 2024-05-01"],
        ["value ignored: no unit given for vitamin B12"],
    ),
    "a range in a unit we cannot convert is set aside, the value still read": (
        b12(190, referenceRange=[{"low": quantity(200, "mg/dL"), "high": quantity(900, "pg/mL")}]),
        ["Lab B12 190 2024-05-01"],
        ["reference range ignored: unit 'mg/dL' is not a known unit for vitamin B12"],
    ),
    "a range whose unit and UCUM code disagree is set aside": (
        b12(190, referenceRange=[{"low": {**quantity(200, "pmol/L"), "unit": "pg/mL"}}]),
        ["Lab B12 190 2024-05-01"],
        ["reference range ignored: unit 'pg/mL' and its code 'pmol/L' disagree for vitamin B12"],
    ),
    "a range in another unit we know is converted": (
        b12(190, referenceRange=[{"low": quantity(148, "pmol/L")}]),
        ["Lab B12 190 2024-05-01"],
        [],
    ),
    "dataAbsentReason": (
        b12(None, dataAbsentReason={"coding": [{"code": "error"}], "text": "Haemolysed"}),
        ["Unreadable B12 NO_VALUE 2024-05-01"],
        ["skipped: no result value (Haemolysed)"],
    ),
    "Hb dataAbsentReason": (
        observation("x", LOINC_HB, dataAbsentReason={"coding": [{"code": "not-performed"}]}),
        ["Unreadable HB NO_VALUE 2024-05-01"],
        ["skipped: no result value (not-performed)"],
    ),
    "a value beside a dataAbsentReason is not used": (
        b12(245, dataAbsentReason={"coding": [{"code": "error"}], "text": "Haemolysed"}),
        ["Unreadable B12 NOT_A_NUMBER 2024-05-01"],
        ["value ignored: sent with a data-absent reason (Haemolysed) for vitamin B12"],
    ),
    "an Hb valueString beside a dataAbsentReason is not used": (
        observation(
            "x", LOINC_HB, valueString="9.8 g/dL", dataAbsentReason=concept(DATA_ABSENT, "error")
        ),
        ["Unreadable HB NOT_A_NUMBER 2024-05-01"],
        ["value ignored: sent with a data-absent reason (error) for Hb"],
    ),
    "a value beside an empty dataAbsentReason is not used": (
        b12(245, dataAbsentReason={}),
        ["Unreadable B12 NOT_A_NUMBER 2024-05-01"],
        ["value ignored: sent with a data-absent reason (no reason given) for vitamin B12"],
    ),
    "dataAbsentReason with a display": (
        b12(None, dataAbsentReason=concept(DATA_ABSENT, "error", "Error")),
        ["Unreadable B12 NO_VALUE 2024-05-01"],
        ["skipped: no result value (Error)"],
    ),
}


@pytest.mark.parametrize(("resource", "kept", "notes"), VALUES.values(), ids=VALUES)
def test_a_value_is_converted_or_said(resource, kept, notes):
    record = read(resource)
    assert (facts(record), [message for _, message in messages(record)]) == (kept, notes)


@pytest.mark.parametrize(
    "low",
    [quantity(200, "mg/dL"), {**quantity(200, "pmol/L"), "unit": "pg/mL"}],
    ids=["unknown unit", "unit and code disagree"],
)
def test_a_range_set_aside_gives_no_limits(low):
    """Neither limit is used: the bands fall back to the profile's, not a misread limit."""
    (lab,) = read(b12(190, referenceRange=[{"low": low, "high": quantity(900, "pg/mL")}])).labs
    assert (lab.ref_low, lab.ref_high) == (None, None)


def test_a_range_in_a_known_unit_gives_its_limits():
    resource = b12(
        190, referenceRange=[{"low": quantity(148, "pmol/L"), "high": quantity(900, "ng/L")}]
    )
    (lab,) = read(resource).labs
    assert (lab.ref_low, lab.ref_high) == pytest.approx((200.54, 900))


def _dated(resource: dict, drop: str, **dates) -> dict:
    del resource[drop]
    resource.update(dates)
    return resource


# (resource, facts, notes): the date each type falls back to, and a note when it is not
# the date the fact happened or there is none.
DATES = {
    "Observation effectivePeriod start": (
        _dated(b12(), "effectiveDateTime", effectivePeriod={"start": "2024-04-02"}),
        ["Lab B12 300 2024-04-02"],
        [],
    ),
    "Observation effectivePeriod end only": (
        _dated(b12(), "effectiveDateTime", effectivePeriod={"end": "2024-04-03"}),
        ["Lab B12 300 2024-04-03"],
        [],
    ),
    "Observation effectiveInstant": (
        _dated(b12(), "effectiveDateTime", effectiveInstant="2024-04-04T08:00:00Z"),
        ["Lab B12 300 2024-04-04"],
        [],
    ),
    "Observation issued": (
        _dated(b12(), "effectiveDateTime", issued="2024-04-05T08:00:00Z"),
        ["Lab B12 300 2024-04-05"],
        ["no collection date; used the report date"],
    ),
    "Observation unreadable date, issued": (
        b12(effectiveDateTime="last Tuesday", issued="2024-04-05T08:00:00Z"),
        ["Lab B12 300 2024-04-05"],
        ["no collection date; used the report date"],
    ),
    "Observation no date": (_dated(b12(), "effectiveDateTime"), [], ["skipped: no date"]),
    "MedicationAdministration effectivePeriod start": (
        _dated(
            med_administration("ma1", INJECTION),
            "effectiveDateTime",
            effectivePeriod={"start": "2024-04-06T10:00:00Z", "end": "2024-04-06T10:05:00Z"},
        ),
        ["Medication B12_INJECTION completed 2024-04-06"],
        [],
    ),
    "MedicationAdministration effectivePeriod end only": (
        _dated(
            med_administration("ma1", INJECTION),
            "effectiveDateTime",
            effectivePeriod={"end": "2024-04-07"},
        ),
        ["Medication B12_INJECTION completed 2024-04-07"],
        [],
    ),
    "MedicationAdministration no date": (
        _dated(med_administration("ma1", INJECTION), "effectiveDateTime"),
        ["Medication B12_INJECTION completed None"],
        ["no date given; not counted as a dose"],
    ),
    "MedicationAdministration unreadable date": (
        med_administration("ma1", INJECTION) | {"effectiveDateTime": "last week"},
        ["Medication B12_INJECTION completed None"],
        ["date not understood; not counted as a dose"],
    ),
    "MedicationStatement dateAsserted": (
        _dated(med_statement("ms1", ORAL), "effectivePeriod"),
        ["Medication B12_ORAL_HIGH active 2024-02-01"],
        [],
    ),
}


@pytest.mark.parametrize(("resource", "kept", "notes"), DATES.values(), ids=DATES)
def test_the_date_falls_back_and_is_said(resource, kept, notes):
    record = read(resource)
    assert (facts(record), [message for _, message in messages(record)]) == (kept, notes)


@pytest.mark.parametrize(("value", "mg"), [(1000, 1.0), ("1000", 1.0), ("1,000", None)])
def test_a_dose_is_read_only_when_its_number_is_whole(value, mg):
    """ "1,000" micrograms is not 1 microgram: a dose we cannot read is left unknown."""
    order = med_administration(
        "ma1", INJECTION, dose={"value": value, "unit": "ug", "system": UCUM, "code": "ug"}
    )
    (med,) = read(order).medications
    assert med.dose_mg == mg
