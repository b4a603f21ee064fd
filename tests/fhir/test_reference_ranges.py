"""Several reference ranges on one result: the one that applies to the patient is read.

Labs send one range per sex or age (``appliesTo``, ``age``), or a therapeutic range beside
the normal one (``type``). The lab's own lower limit decides a B12's band (§2.2), so a
range for another population must never be read as the patient's; when none applies, or
those that apply put the result on two sides of a limit, the range is set aside with a
note and the profile's limits are used.
"""

import pytest

from .read_support import LOINC_B12_MASS, SNOMED, concept, messages, observation, patient, read

MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"
NORMAL = concept(MEANING, "normal")
THERAPEUTIC = concept(MEANING, "therapeutic")
MALE = concept(SNOMED, "248153007", "Male")
FEMALE = concept(SNOMED, "248152002", "Female")


def pg(value):
    return {"value": value, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"}


def years(value):
    return {"value": value, "unit": "yrs", "system": "http://unitsofmeasure.org", "code": "a"}


def span(low, high=None, **qualifiers):
    found = {"low": pg(low), **qualifiers}
    if high is not None:
        found["high"] = pg(high)
    return found


def b12(value, *ranges):
    return observation("b12", LOINC_B12_MASS, value, "pg/mL", referenceRange=list(ranges))


def limits(*resources):
    record = read(*resources)
    (lab,) = record.labs
    return (lab.ref_low, lab.ref_high), messages(record)


NONE_APPLIES = (
    "Observation/b12",
    "reference range ignored: none applies to this patient for vitamin B12",
)
DISAGREE = (
    "Observation/b12",
    "reference range ignored: the ranges that apply disagree for vitamin B12",
)

CASES = {
    "the normal range, not the therapeutic one after it": (
        [b12(250, span(200, 900, type=NORMAL), span(400, 1500, type=THERAPEUTIC))],
        (200, 900),
        [],
    ),
    "the normal range, not the therapeutic one before it": (
        [b12(250, span(400, 1500, type=THERAPEUTIC), span(200, 900, type=NORMAL))],
        (200, 900),
        [],
    ),
    "the range for the patient's sex (female)": (
        [
            patient(gender="female"),
            b12(250, span(300, appliesTo=[MALE]), span(200, appliesTo=[FEMALE])),
        ],
        (200, None),
        [],
    ),
    "the range for the patient's sex, the Patient read after the result": (
        [
            b12(250, span(300, appliesTo=[MALE]), span(200, appliesTo=[FEMALE])),
            patient(gender="male"),
        ],
        (300, None),
        [],
    ),
    "the range for the patient's age (70 in 2024)": (
        [
            patient(birth="1954-01-01"),
            b12(250, span(150, age={"high": years(17)}), span(200, age={"low": years(18)})),
        ],
        (200, None),
        [],
    ),
    "the patient's own range before the lab's general one": (
        [patient(gender="female"), b12(250, span(300), span(200, appliesTo=[FEMALE]))],
        (200, None),
        [],
    ),
    "the general range when the patient's sex is not known and another range is for women": (
        [b12(250, span(300), span(200, appliesTo=[FEMALE]))],
        (300, None),
        [],
    ),
    "sex not known, ranges that agree on the result: the first": (
        [b12(400, span(300, appliesTo=[MALE]), span(200, appliesTo=[FEMALE]))],
        (300, None),
        [],
    ),
    "sex not known, ranges that put the result on two sides of the lower limit": (
        [b12(250, span(300, appliesTo=[MALE]), span(200, appliesTo=[FEMALE]))],
        (None, None),
        [DISAGREE],
    ),
    "only another sex's range": (
        [patient(gender="male"), b12(250, span(200, appliesTo=[FEMALE]))],
        (None, None),
        [NONE_APPLIES],
    ),
    "only a therapeutic range": (
        [b12(250, span(400, 1500, type=THERAPEUTIC))],
        (None, None),
        [NONE_APPLIES],
    ),
    "only a children's range for an adult": (
        [patient(birth="1954-01-01"), b12(250, span(150, age={"high": years(17)}))],
        (None, None),
        [NONE_APPLIES],
    ),
    "one unqualified range, as before": (
        [b12(250, span(200, 900))],
        (200, 900),
        [],
    ),
}


@pytest.mark.parametrize(("resources", "expected", "notes"), CASES.values(), ids=CASES)
def test_the_range_that_applies_to_the_patient_is_read(resources, expected, notes):
    assert limits(*resources) == (expected, notes)
