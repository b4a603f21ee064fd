"""When a Condition, AllergyIntolerance or Procedure happened: every FHIR R4 form of
onset[x], abatement[x] and performed[x] is read the same way for each, an age from the
patient's birth date. A date that was given but cannot be used is said in a note, and
the Condition's recorded date is used as when none was given."""

from datetime import date

import pytest

from cds_b12.clinical.record import Finding

from .read_support import (
    RX_CYANOCOBALAMIN,
    RXNORM,
    SCT_CROHNS,
    SCT_GASTRECTOMY,
    UCUM,
    allergy,
    concept,
    condition,
    messages,
    only,
    patient,
    procedure,
    read,
)

BORN = "1956-03-02"  # read_support.patient's birth date


def age(value, code, unit=None):
    return {"value": value, "unit": unit or code, "system": UCUM, "code": code}


def crohns(**when):
    """A Crohn's Condition recorded 2020-02-02 whose onset is ``when`` alone."""
    cond = condition("c1", SCT_CROHNS, recordedDate="2020-02-02", **when)
    if "onsetDateTime" not in when:
        del cond["onsetDateTime"]
    return cond


ONSETS = [
    ({"onsetDateTime": "2019-06-01"}, date(2019, 6, 1)),
    ({"onsetPeriod": {"start": "2018-04-03", "end": "2018-05-01"}}, date(2018, 4, 3)),
    ({"onsetPeriod": {"end": "2018-05-01"}}, date(2018, 5, 1)),
    ({"onsetAge": age(40, "a", "years")}, date(1996, 3, 2)),
    ({"onsetAge": age(40.5, "a")}, date(1996, 9, 2)),
    ({"onsetAge": age(18, "mo", "months")}, date(1957, 9, 2)),
    ({"onsetAge": age(3, "wk")}, date(1956, 3, 23)),
    ({"onsetAge": age(10, "d")}, date(1956, 3, 12)),
    ({"onsetAge": {"value": 40, "unit": "years"}}, date(1996, 3, 2)),  # no UCUM code
    ({"onsetRange": {"low": age(30, "a"), "high": age(35, "a")}}, date(1986, 3, 2)),
    ({"onsetRange": {"high": age(35, "a")}}, date(1991, 3, 2)),
    ({"onsetString": "2017-11"}, date(2017, 11, 1)),
]


@pytest.mark.parametrize(("when", "on"), ONSETS)
def test_every_form_of_a_conditions_onset_is_read(when, on):
    record = read(crohns(**when), patient())
    assert only(record.findings).on == on
    assert record.notes == ()


@pytest.mark.parametrize(("when", "on"), ONSETS)
def test_an_allergy_reads_its_onset_the_same_way(when, on):
    found = allergy("a1", concept(RXNORM, RX_CYANOCOBALAMIN))
    found.update(when)
    record = read(patient(), found)
    assert only(record.findings).on == on
    assert record.notes == ()


def test_the_birth_date_is_taken_from_a_patient_later_in_the_data():
    record = read(crohns(onsetAge=age(40, "a")), patient())
    assert only(record.findings).on == date(1996, 3, 2)


def test_a_condition_without_an_onset_uses_its_recorded_date_without_a_note():
    record = read(crohns(), patient())
    assert only(record.findings).on == date(2020, 2, 2)
    assert record.notes == ()


@pytest.mark.parametrize(
    "when",
    [
        {"onsetString": "childhood"},
        {"onsetDateTime": "sometime in 2019"},
        {"onsetPeriod": {}},
        {"onsetAge": age(40, "kg")},
        {"onsetAge": {"value": 40}},
        {"onsetAge": age(-3, "a")},
        {"onsetAge": age(1e300, "a")},
        {"onsetRange": {"text": "adolescence"}},
    ],
)
def test_an_onset_that_cannot_be_used_is_said_and_the_recorded_date_used(when):
    record = read(crohns(**when), patient())
    assert only(record.findings).on == date(2020, 2, 2)
    assert messages(record) == [
        ("Condition/c1", "onset date not understood; used the recorded date")
    ]


def test_an_onset_age_without_a_birth_date_is_said():
    record = read(crohns(onsetAge=age(40, "a")))
    assert only(record.findings).on == date(2020, 2, 2)
    assert messages(record) == [
        ("Condition/c1", "onset date not understood; used the recorded date")
    ]


def test_an_unusable_onset_without_a_recorded_date_is_said():
    cond = crohns(onsetString="childhood")
    del cond["recordedDate"]
    record = read(cond)
    assert only(record.findings).on is None
    assert messages(record) == [("Condition/c1", "onset date not understood; no date used")]


def test_a_refuted_condition_says_nothing_of_its_onset():
    cond = crohns(onsetString="childhood")
    cond["verificationStatus"] = {"coding": [{"code": "refuted"}]}
    record = read(cond)
    assert record.findings == () and record.notes == ()


@pytest.mark.parametrize(
    ("when", "resolved"),
    [
        ({"abatementDateTime": "2021-02-03"}, date(2021, 2, 3)),
        ({"abatementPeriod": {"start": "2021-01-01", "end": "2021-02-03"}}, date(2021, 2, 3)),
        ({"abatementPeriod": {"start": "2021-01-01"}}, date(2021, 1, 1)),
        ({"abatementAge": age(60, "a")}, date(2016, 3, 2)),
        ({"abatementRange": {"low": age(58, "a"), "high": age(60, "a")}}, date(2016, 3, 2)),
        ({"abatementString": "2021-02-03"}, date(2021, 2, 3)),
    ],
)
def test_every_form_of_an_abatement_is_read(when, resolved):
    record = read(patient(), crohns(clinical="resolved", **when))
    assert only(record.findings).resolved_on == resolved
    assert record.notes == ()


def test_an_abatement_that_cannot_be_used_is_said():
    record = read(patient(), crohns(clinical="resolved", abatementString="as a teenager"))
    found = only(record.findings)
    assert (found.active, found.resolved_on) == (False, None)
    assert messages(record) == [("Condition/c1", "abatement date not understood; no date used")]


@pytest.mark.parametrize(
    ("when", "on"),
    [
        ({"performedDateTime": "2015-09-10"}, date(2015, 9, 10)),
        ({"performedPeriod": {"start": "2015-09-10", "end": "2015-09-12"}}, date(2015, 9, 10)),
        ({"performedPeriod": {"end": "2015-09-12"}}, date(2015, 9, 12)),
        ({"performedAge": age(50, "a")}, date(2006, 3, 2)),
        ({"performedRange": {"low": age(50, "a")}}, date(2006, 3, 2)),
        ({"performedString": "2015-09"}, date(2015, 9, 1)),
    ],
)
def test_every_form_of_a_procedures_date_is_read(when, on):
    done = procedure("pr1", SCT_GASTRECTOMY)
    del done["performedDateTime"]
    done.update(when)
    record = read(patient(), done)
    found = only(record.findings)
    assert (found.finding, found.on) == (Finding.GASTRECTOMY, on)
    assert record.notes == ()


def test_a_procedure_date_that_cannot_be_used_is_said():
    done = procedure("pr1", SCT_GASTRECTOMY)
    done["performedDateTime"] = "in the 1990s"
    record = read(done)
    assert only(record.findings).on is None
    assert messages(record) == [("Procedure/pr1", "performed date not understood; no date used")]
