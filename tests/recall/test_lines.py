"""Routing a Bulk line to its patient: exactly the patient its parsed resource names."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_b12.recall.lines import _PATIENT, Problem, patient_id, patient_of, route

from .support import fixture_resources


def compact(resource: dict) -> bytes:
    return json.dumps(resource, separators=(",", ":")).encode()


@pytest.mark.parametrize("spaced", [False, True])
def test_every_fixture_line_goes_to_its_patient(spaced):
    for resource in fixture_resources():
        line = json.dumps(resource).encode() if spaced else compact(resource)
        assert route(line).patient == patient_of(resource)


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
    assert route(line).patient == patient


@pytest.mark.parametrize(
    ("line", "patient"),
    [
        # an escaped key is the same key once parsed; the nested one is not the patient
        (
            b'{"resourceType":"Observation","s\\u0075bject":{"reference":"Patient/e"},'
            b'"extension":[{"patient":{"reference":"Patient/n"}}]}',
            "e",
        ),
        # a repeated key: the last one, as every JSON parser reads it
        (
            b'{"resourceType":"Observation","subject":{"reference":"Patient/a"},'
            b'"subject":{"reference":"Patient/b"}}',
            "b",
        ),
        # a Patient by its own id, whatever it refers to
        (
            b'{"resourceType":"Patient","id":"p",'
            b'"extension":[{"patient":{"reference":"Patient/n"}}]}',
            "p",
        ),
    ],
    ids=["escaped-key", "repeated-key", "patient-with-reference"],
)
def test_only_the_parsed_top_level_reference_counts(line, patient):
    assert route(line).patient == patient


def test_a_nested_reference_alone_is_no_patient_reference():
    line = compact(
        {"resourceType": "Basic", "id": "b", "extension": [{"subject": {"reference": "Patient/n"}}]}
    )
    assert (route(line).patient, route(line).problem) == (None, Problem.NO_PATIENT)


def test_a_line_that_is_not_utf8_is_not_json():
    line = b'{"resourceType":"Observation","subject":{"reference":"Patient/\xff"}}'
    assert route(line).problem is Problem.NOT_JSON


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
    assert route(line.encode()).problem is problem


def test_shared_medications_are_kept_aside():
    assert route(b'{"resourceType":"Medication","id":"med1"}').medication == "Medication/med1"


ids = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from(["subject", "patient", "performer", "focus"]),
    reference=st.one_of(ids, ids.map(lambda i: f"Patient/{i}")),
    extra=st.dictionaries(st.sampled_from(["note", "text", "status"]), ids, max_size=2),
    spaced=st.booleans(),
)
def test_any_spelling_of_a_resource_routes_as_its_parse(key, reference, extra, spaced):
    resource = {"resourceType": "Observation", **extra, key: {"reference": reference}}
    line = json.dumps(resource).encode() if spaced else compact(resource)
    assert route(line).patient == patient_of(resource)


@settings(max_examples=300, deadline=None)
@given(
    rid=st.one_of(ids, st.from_regex(r"[A-Za-z0-9\-.]{1,64}", fullmatch=True)),
    prefix=st.sampled_from(["", " ", "https://x.org/fhir/", "Patient/"]),
    suffix=st.sampled_from(["", " ", "/_history/2", "/"]),
)
def test_a_patient_id_is_read_as_the_full_pattern_reads_it(rid, prefix, suffix):
    """The plain ``Patient/<id>`` form skips the regular expression, with the same answer."""
    reference = f"{prefix}Patient/{rid}{suffix}"
    match = _PATIENT.search(reference.strip())
    assert patient_id(reference) == (match[1] if match else None)
