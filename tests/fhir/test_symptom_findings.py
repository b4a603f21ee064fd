"""Tiredness, glossitis (Seed 2) and breastfeeding (NG239 review at 1 month) are read from
Conditions and Observations, coded or in words, with their negation.

Codes are literals here, never taken from cds_b12.clinical.codes.
"""

import pytest

from cds_b12.clinical.record import Finding

from .read_support import SNOMED, condition, observation
from .test_findings_words import findings, said


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Tired all the time", Finding.FATIGUE),
        ("Fatigue", Finding.FATIGUE),
        ("Sore tongue", Finding.GLOSSITIS),
        ("Atrophic glossitis", Finding.GLOSSITIS),
        ("Breastfeeding", Finding.BREASTFEEDING),
        ("Breast-feeding mother", Finding.BREASTFEEDING),
    ],
)
def test_words_name_the_finding(text, finding):
    assert findings(said(text)) == [(finding, True)]


@pytest.mark.parametrize(
    ("code", "finding"),
    [
        ("84229001", Finding.FATIGUE),
        ("17793005", Finding.GLOSSITIS),
        ("169750002", Finding.BREASTFEEDING),
    ],
)
def test_codes_name_the_finding(code, finding):
    coded = {"coding": [{"system": SNOMED, "code": code}], "text": "x"}
    assert findings(condition("c1", coded)) == [(finding, True)]


@pytest.mark.parametrize("text", ["Not breastfeeding", "Denies fatigue", "No sore tongue"])
def test_a_negated_mention_names_nothing(text):
    assert findings(said(text)) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"valueCodeableConcept": {"text": "Breastfeeding"}}, [(Finding.BREASTFEEDING, True)]),
        ({"valueCodeableConcept": {"text": "Not breastfeeding"}}, []),
        ({"valueString": "not currently"}, []),
        ({"valueBoolean": False}, []),
    ],
)
def test_a_breastfeeding_status_is_decided_by_its_answer(value, expected):
    code = {"text": "Breastfeeding status"}
    assert findings(observation("o1", code, **value)) == expected


def test_a_tiredness_observation_is_decided_by_its_answer():
    code = {"coding": [{"system": SNOMED, "code": "84229001"}], "text": "Tiredness"}
    assert findings(observation("o1", code, valueBoolean=True)) == [(Finding.FATIGUE, True)]
    assert findings(observation("o1", code, valueBoolean=False)) == []
