"""Free text and answers are read as a clinician reads them: negation, doubt and history.

Codes are literals here, never taken from cds_b12.clinical.codes.
"""

import pytest

from cds_b12.clinical.record import Finding

from .read_support import LOINC, SNOMED, SUBJECT, condition, observation, read


def said(text, **status):
    """A Condition carrying only the words a clinician typed."""
    return condition("c1", {"text": text}, **status)


def findings(*resources):
    return [(f.finding, f.active) for f in read(*resources).findings]


@pytest.mark.parametrize(
    "text",
    [
        "Not pregnant",
        "Non-pregnant",
        "Pregnancy test negative",
        "Negative pregnancy test",
        "Pregnancy ruled out",
        "No numbness",
        "Denies numbness or tingling in the feet",
        "Patient denies paraesthesia",
        "Negative for peripheral neuropathy",
        "Neuropathy: absent",
        "Without paresthesia",
        "No evidence of subacute combined degeneration",
        "Pernicious anaemia excluded",
        "B12 deficiency ruled out",
        "No history of gastrectomy",
        "Nitrous oxide use denied",
        "Never used nitrous oxide",
        "Not vegan",
        "Family history of pernicious anaemia",
        "FH: pernicious anemia (mother)",
        "Mother has pernicious anaemia",
    ],
)
def test_negated_mention_names_nothing(text):
    assert findings(said(text)) == []


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("No weakness, numbness of both feet", Finding.NEURO),
        ("Tingling in hands but no ataxia", Finding.NEURO),
        ("No ataxia; paraesthesia of both feet", Finding.NEURO),
        ("Pregnant, no neuropathy", Finding.PREGNANCY),
        ("Pernicious anaemia, no neuropathy", Finding.PERNICIOUS_ANAEMIA),
        ("Regular nitrous oxide use", Finding.NITROUS_OXIDE),
        ("Recreational N2O use (whippets)", Finding.NITROUS_OXIDE),
        ("Inhales laughing gas at weekends", Finding.NITROUS_OXIDE),
        ("Uses nangs", Finding.NITROUS_OXIDE),
        ("No improvement in numbness of feet", Finding.NEURO),
        ("Paraesthesia not improved", Finding.NEURO),
    ],
)
def test_negation_reaches_only_its_own_clause(text, finding):
    assert findings(said(text)) == [(finding, True)]


@pytest.mark.parametrize(
    "text",
    [
        "?Pernicious anaemia",
        "Possible pernicious anaemia",
        "Suspected coeliac disease",
        "Query Crohn's disease",
        "Pernicious anaemia not excluded",
        "R/O pernicious anemia",
        "Probable dietary B12 deficiency",
    ],
)
def test_a_cause_only_suspected_is_not_a_cause(text):
    assert findings(said(text)) == []


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Possible peripheral neuropathy", Finding.NEURO),
        ("Suspected subacute combined degeneration", Finding.NEURO_SEVERE),
        ("?Pregnant", Finding.PREGNANCY),
        ("Son reports tingling in her feet", Finding.NEURO),
        ("Paraesthesia - cannot rule out B12 neuropathy", Finding.NEURO),
    ],
)
def test_a_suspected_sign_that_matters_for_safety_is_kept(text, finding):
    assert findings(said(text)) == [(finding, True)]


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("History of paraesthesia", Finding.NEURO),
        ("Previous nitrous oxide use, stopped 2023", Finding.NITROUS_OXIDE),
        ("H/O pregnancy", Finding.PREGNANCY),
    ],
)
def test_a_past_episode_is_an_inactive_finding(text, finding):
    assert findings(said(text)) == [(finding, False)]


def test_history_of_surgery_is_still_the_surgery():
    assert findings(said("History of total gastrectomy")) == [(Finding.GASTRECTOMY, True)]


@pytest.mark.parametrize(
    ("verification", "expected"),
    [
        ("refuted", []),
        ("unconfirmed", []),
        ("provisional", []),
        ("differential", []),
        ("confirmed", [(Finding.PERNICIOUS_ANAEMIA, True)]),
    ],
)
def test_verification_status_decides_a_cause(verification, expected):
    coded = condition("c1", "84027009", system=SNOMED, verification=verification)
    assert findings(coded) == expected


def test_an_unconfirmed_neurological_sign_is_kept():
    assert findings(said("Numbness of feet", verification="unconfirmed")) == [(Finding.NEURO, True)]


NUMBNESS = {"text": "Numbness of feet"}
NITROUS = {"text": "Nitrous oxide use"}


@pytest.mark.parametrize(
    ("code", "value", "expected"),
    [
        (NUMBNESS, {"valueBoolean": True}, [(Finding.NEURO, True)]),
        (NUMBNESS, {"valueBoolean": False}, []),
        (NUMBNESS, {}, [(Finding.NEURO, True)]),
        (
            NUMBNESS,
            {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "2667000"}]}},
            [],
        ),
        (
            NUMBNESS,
            {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA32-8"}]}},
            [],
        ),
        (NUMBNESS, {"valueCodeableConcept": {"text": "Absent"}}, []),
        (NUMBNESS, {"valueCodeableConcept": {"text": "Present"}}, [(Finding.NEURO, True)]),
        (NITROUS, {"valueString": "Denies"}, []),
        (NITROUS, {"valueString": "no"}, []),
        (NITROUS, {"valueString": "Yes, weekly"}, [(Finding.NITROUS_OXIDE, True)]),
        ({"text": "Diet"}, {"valueString": "Vegan"}, [(Finding.DIETARY_DEFICIENCY, True)]),
        ({"text": "Diet"}, {"valueString": "Not vegan"}, []),
        (NUMBNESS, {"valueQuantity": {"value": 2, "unit": "score"}}, []),
    ],
)
def test_an_observation_is_decided_by_its_answer(code, value, expected):
    assert findings(observation("o1", code, **value)) == expected


def test_no_known_allergy_to_cobalt_is_no_allergy():
    allergy = {
        "resourceType": "AllergyIntolerance",
        "id": "a1",
        "code": {"text": "No known allergy to cobalt"},
        "patient": SUBJECT,
    }
    assert findings(allergy) == []
