"""Routing a Bulk line to its patient: the regex shortcut never disagrees with a full parse."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_b12.recall.lines import Problem, patient_of, route, route_parsed

from .support import fixture_resources


def compact(resource: dict) -> str:
    return json.dumps(resource, separators=(",", ":"))


@pytest.mark.parametrize("spaced", [False, True])
def test_every_fixture_line_goes_to_its_patient(spaced):
    for resource in fixture_resources():
        line = json.dumps(resource) if spaced else compact(resource)
        assert route(line).patient == route_parsed(line).patient == patient_of(resource)


@pytest.mark.parametrize(
    ("resource", "patient"),
    [
        ({"resourceType": "Observation", "subject": {"reference": "Patient/a1"}}, "a1"),
        ({"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/a2"}}, "a2"),
        (
            {
                "resourceType": "Observation",
                "subject": {"reference": "https://x.org/fhir/Patient/a3"},
            },
            "a3",
        ),
        ({"resourceType": "Observation", "subject": {"reference": "Patient/a4/_history/2"}}, "a4"),
        ({"resourceType": "Patient", "id": "a5"}, "a5"),
        # a Group subject does not name a patient; the patient element does
        (
            {
                "resourceType": "Observation",
                "subject": {"reference": "Group/g"},
                "patient": {"reference": "Patient/a6"},
            },
            "a6",
        ),
        ({"resourceType": "Observation", "subject": {"reference": "Group/g"}}, None),
        ({"resourceType": "Observation", "subject": {"display": "Jane"}}, None),
        # the reference after another member, and one inside a string, are not taken as keys
        (
            {"resourceType": "Observation", "subject": {"display": "x", "reference": "Patient/a7"}},
            "a7",
        ),
        (
            {
                "resourceType": "Observation",
                "note": [{"text": '{"subject":{"reference":"Patient/evil"}}'}],
                "subject": {"reference": "Patient/a8"},
            },
            "a8",
        ),
        (
            {
                "resourceType": "Observation",
                "note": [{"text": ',"subject":{"reference":"Patient/evil"}'}],
            },
            None,
        ),
    ],
)
def test_references(resource, patient):
    line = compact(resource)
    assert patient_of(resource) == patient
    assert route_parsed(line).patient == patient
    assert route(line).patient == patient


def test_a_nested_reference_alone_is_caught_when_the_patient_is_read():
    """The shortcut may send such a line to the nested patient; ``patient_of`` on the parsed
    resource then says it names no patient, and recall counts it as such (see patient.py)."""
    resource = {"resourceType": "Basic", "extension": [{"subject": {"reference": "Patient/n"}}]}
    assert route(compact(resource)).patient == "n"
    assert patient_of(resource) is None


def test_contained_resources_are_parsed():
    resource = {
        "resourceType": "MedicationRequest",
        "contained": [{"resourceType": "Medication", "id": "m"}],
        "subject": {"reference": "Patient/c1"},
    }
    assert route(compact(resource)).patient == "c1"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", Problem.NOT_JSON),
        ("[1, 2]", Problem.NOT_RESOURCE),
        ('{"id": "x"}', Problem.NOT_RESOURCE),
        ('{"resourceType": "Practitioner", "id": "d1"}', Problem.NO_PATIENT),
    ],
)
def test_problems(line, problem):
    assert route(line).problem is problem


def test_shared_medications_are_kept_aside():
    assert route('{"resourceType":"Medication","id":"med1"}').medication == "Medication/med1"


ids = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from(["subject", "patient", "performer", "focus"]),
    reference=st.one_of(ids, ids.map(lambda i: f"Patient/{i}")),
    extra=st.dictionaries(st.sampled_from(["note", "text", "status"]), ids, max_size=2),
    spaced=st.booleans(),
)
def test_the_shortcut_agrees_with_a_full_parse(key, reference, extra, spaced):
    resource = {"resourceType": "Observation", **extra, key: {"reference": reference}}
    line = json.dumps(resource) if spaced else compact(resource)
    assert route(line).patient == patient_of(resource)
