"""``prefetch.expand``: tokens filled as a 2.0 client fills them, values unable to inject."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from cds_b12.hooks.prefetch import expand, templates

CONTEXT = {"userId": "Practitioner/123", "patientId": "1288992", "encounterId": "89284"}


def test_fills_the_patient_id():
    assert expand("Patient/{{context.patientId}}", CONTEXT) == "Patient/1288992"
    assert expand("Condition?patient={{context.patientId}}&_count=5", CONTEXT) == (
        "Condition?patient=1288992&_count=5"
    )


def test_tolerates_spaces_inside_the_braces():
    assert expand("Patient/{{ context.patientId }}", CONTEXT) == "Patient/1288992"


def test_a_template_without_tokens_is_unchanged():
    assert expand("Observation?code=http://loinc.org|2132-9", {}) == (
        "Observation?code=http://loinc.org|2132-9"
    )


@pytest.mark.parametrize(
    "patient_id", ["a&b=c/d", "x?_count=1000", "../Practitioner/1", "a#frag", "a b+c%20d", "ü-1"]
)
def test_a_value_cannot_add_parameters_or_path_segments(patient_id):
    context = {**CONTEXT, "patientId": patient_id}
    search = expand("Observation?patient={{context.patientId}}&_count=5", context)
    parts = urlsplit(search)
    assert parts.path == "Observation" and not parts.fragment
    assert parse_qs(parts.query, keep_blank_values=True) == {
        "patient": [patient_id],
        "_count": ["5"],
    }
    read = expand("Patient/{{context.patientId}}", context)
    assert "?" not in read and "#" not in read
    kind, ident = read.split("/")
    assert kind == "Patient" and unquote(ident) == patient_id


def test_fills_every_discovery_template_from_a_patient_view_context():
    for key, template in templates(date(2026, 1, 1)).items():
        url = expand(template, CONTEXT)
        assert url is not None and "{" not in url and "}" not in url, key
        assert "1288992" in url, key


@pytest.mark.parametrize(
    ("user_id", "token", "expected"),
    [
        ("Practitioner/123", "userPractitionerId", "123"),
        ("PractitionerRole/r-9", "userPractitionerRoleId", "r-9"),
        ("Patient/p1", "userPatientId", "p1"),
        ("RelatedPerson/rp1", "userRelatedPersonId", "rp1"),
        ("Practitioner/123", "userPractitionerRoleId", None),
        ("PractitionerRole/r-9", "userPractitionerId", None),
        ("Patient/p1", "userRelatedPersonId", None),
        ("123", "userPractitionerId", None),
        ("Practitioner/", "userPractitionerId", None),
        (None, "userPractitionerId", None),
    ],
)
def test_user_tokens_come_from_user_id_of_the_right_type(user_id, token, expected):
    context = {**CONTEXT, "userId": user_id} if user_id else {"patientId": "1"}
    result = expand(f"PractitionerRole?_id={{{{{token}}}}}", context)
    assert result == (None if expected is None else f"PractitionerRole?_id={expected}")


@pytest.mark.parametrize("value", [None, {"reference": "Patient/1"}, ["1", "2"], True, ""])
def test_a_missing_or_non_primitive_field_leaves_the_template_unfilled(value):
    context = {**CONTEXT, "encounterId": value}
    assert expand("Encounter/{{context.encounterId}}", context) is None


def test_a_field_absent_from_the_context_leaves_the_template_unfilled():
    assert expand("Encounter/{{context.encounterId}}", {"patientId": "1"}) is None


def test_numbers_are_primitives():
    assert expand("Patient/{{context.patientId}}", {"patientId": 42}) == "Patient/42"


@pytest.mark.parametrize(
    "template",
    [
        "Observation?patient={{context.draftOrders.entry.resource.id}}",
        "Observation?date=ge{{today() - 90 days}}",
        "Patient/{{Patient.id}}",
        "Patient/{{%patient.id}}",
    ],
)
def test_tokens_that_are_not_2_0_tokens_are_unfilled(template):
    context = {**CONTEXT, "draftOrders": {"resourceType": "Bundle"}}
    assert expand(template, context) is None
