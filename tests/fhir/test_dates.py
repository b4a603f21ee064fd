"""Tolerant FHIR date parsing: the calendar date as written, no timezone conversion."""

from datetime import date

import pytest

from cds_b12.fhir.dates import parse_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-15", date(2024, 3, 15)),
        ("2024-03", date(2024, 3, 1)),
        ("2024", date(2024, 1, 1)),
        ("2024-03-15T08:00:00", date(2024, 3, 15)),
        ("2024-03-15T08:00:00Z", date(2024, 3, 15)),
        ("2024-03-15T23:30:00+05:00", date(2024, 3, 15)),
        ("2024-03-15T00:30:00-08:00", date(2024, 3, 15)),
        ("2024-03-15T08:00:00.123456+01:00", date(2024, 3, 15)),
        ("2024-03-15T08:00", date(2024, 3, 15)),
        (" 2024-03-15 ", date(2024, 3, 15)),
    ],
)
def test_accepted(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        20240315,
        "",
        "yesterday",
        "15/03/2024",
        "2024-13-01",
        "2024-02-30",
        "0000-01-01",
        "2024-3-5",
        "2024-03-15T",
        "2024-03-15Tgarbage",
        ["2024-03-15"],
    ],
)
def test_rejected(raw):
    assert parse_date(raw) is None
