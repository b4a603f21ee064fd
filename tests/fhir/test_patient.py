"""The Patient resource: death and a missing birth date are read, not ignored (issue 12 §8)."""

from __future__ import annotations

from datetime import date

import pytest

from cds_b12.fhir.read import read_record


def patient(**fields) -> dict:
    return {"resourceType": "Patient", "id": "p1", "gender": "female", **fields}


@pytest.mark.parametrize(
    ("fields", "deceased", "on"),
    [
        ({"deceasedBoolean": True}, True, None),
        ({"deceasedBoolean": False}, False, None),
        ({"deceasedDateTime": "2025-12-12T09:30:00Z"}, True, date(2025, 12, 12)),
        ({"deceasedDateTime": "2025"}, True, date(2025, 1, 1)),
        ({"deceasedDateTime": "not known"}, True, None),
        ({}, False, None),
    ],
)
def test_death_is_read_from_either_deceased_element(fields, deceased, on):
    p = read_record([patient(birthDate="1950-01-01", **fields)]).patient
    assert (p.deceased, p.deceased_on) == (deceased, on)


def test_no_birth_date_is_noted_as_read_as_an_adult():
    record = read_record([patient()])
    assert record.patient.birth_date is None
    assert [(n.resource, n.message) for n in record.notes] == [
        ("Patient/p1", "no birth date: adult guidance applied; check the patient's age")
    ]


def test_an_unreadable_birth_date_is_noted_too():
    (note,) = read_record([patient(birthDate="last spring")]).notes
    assert note.message.startswith("birth date not understood: adult guidance applied")


def test_a_birth_date_gives_no_note():
    assert read_record([patient(birthDate="1950-01-01")]).notes == ()
