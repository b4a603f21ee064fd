"""Tests for the anchor-date shift of fixture bundles (cds_b12.fhir.redate)."""

from __future__ import annotations

import copy
import datetime

import pytest

from cds_b12.fhir.redate import is_anchor_dated, redate

from . import read_support

ANCHOR = datetime.date(2026, 1, 1)
TAG = {"system": "urn:cds-b12:fixture", "code": "anchor-dated"}


def bundle_with(*resources: dict, timestamp: str = "2026-01-01T00:00:00Z") -> dict:
    """A bundle as ``fhir_fixtures/`` holds one: anchor-tagged, each entry PUT to its own URL."""
    fixture = read_support.bundle(*resources, kind="transaction")
    for entry in fixture["entry"]:
        resource = entry["resource"]
        entry["request"] = {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
    return {**fixture, "meta": {"tag": [TAG]}, "timestamp": timestamp}


def first(bundle: dict) -> dict:
    return bundle["entry"][0]["resource"]


def test_anchor_dated_bundle_is_recognised() -> None:
    assert is_anchor_dated(bundle_with())


@pytest.mark.parametrize(
    "bundle",
    [
        None,
        "Bundle",
        [],
        {"resourceType": "Patient", "meta": {"tag": [TAG]}, "timestamp": "2026-01-01"},
        {"resourceType": "Bundle", "timestamp": "2026-01-01T00:00:00Z"},
        {"resourceType": "Bundle", "meta": {"tag": [TAG]}},
        {"resourceType": "Bundle", "meta": {"tag": [TAG]}, "timestamp": "2026"},
        {"resourceType": "Bundle", "meta": {"tag": [TAG]}, "timestamp": "2026-02-30"},
        {"resourceType": "Bundle", "meta": {"tag": [TAG]}, "timestamp": 20260101},
        {"resourceType": "Bundle", "meta": {"tag": "anchor-dated"}, "timestamp": "2026-01-01"},
        {
            "resourceType": "Bundle",
            "meta": {"tag": [{"system": "urn:cds-b12:fixture", "code": "other"}]},
            "timestamp": "2026-01-01T00:00:00Z",
        },
        {
            "resourceType": "Bundle",
            "meta": {"tag": [{"system": "urn:other", "code": "anchor-dated"}]},
            "timestamp": "2026-01-01T00:00:00Z",
        },
    ],
)
def test_other_values_are_not_anchor_dated(bundle: object) -> None:
    assert not is_anchor_dated(bundle)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2025-12-27", "2026-01-06"),
        ("2025-12-27T08:30:00Z", "2026-01-06T08:30:00Z"),
        ("2025-12-27T08:30:00-05:00", "2026-01-06T08:30:00-05:00"),
        ("2025-12-27T08:30:00+14:00", "2026-01-06T08:30:00+14:00"),
        ("2025-12-27T08:30:00.123456Z", "2026-01-06T08:30:00.123456Z"),
        ("2025-12-27T08:30:00", "2026-01-06T08:30:00"),
        ("2024-02-25", "2024-03-06"),
        ("2025", "2025"),
        ("2025-12", "2025-12"),
        ("2025-02-30", "2025-02-30"),
        ("2025-12-27 08:30", "2025-12-27 08:30"),
        ("2025-12-27T8:30:00Z", "2025-12-27T8:30:00Z"),
        ("on 2025-12-27", "on 2025-12-27"),
    ],
)
def test_shift_keeps_precision_and_suffix(written: str, expected: str) -> None:
    obs = {"resourceType": "Observation", "id": "o", "effectiveDateTime": written}
    shifted = redate(bundle_with(obs), ANCHOR + datetime.timedelta(days=10))
    assert first(shifted)["effectiveDateTime"] == expected


@pytest.mark.parametrize(
    "field",
    [
        "birthDate",
        "authoredOn",
        "effectiveDateTime",
        "occurrenceDateTime",
        "recordedDate",
        "onsetDateTime",
        "abatementDateTime",
        "performedDateTime",
        "dateAsserted",
        "issued",
    ],
)
def test_every_date_field_moves(field: str) -> None:
    resource = {"resourceType": "Basic", "id": "b", field: "2025-06-01"}
    shifted = redate(bundle_with(resource), ANCHOR + datetime.timedelta(days=3))
    assert first(shifted)[field] == "2025-06-04"


def test_nested_dates_and_timestamp_move() -> None:
    rx = {
        "resourceType": "MedicationRequest",
        "id": "rx",
        "dispenseRequest": {"validityPeriod": {"start": "2020-01-01", "end": "2025-03-07"}},
        "dosageInstruction": [{"timing": {"event": ["2025-12-01T09:00:00Z"]}}],
        "extension": [{"url": "http://example.org/x", "valueDateTime": "2025-12-31"}],
    }
    shifted = redate(bundle_with(rx), ANCHOR - datetime.timedelta(days=1))
    assert shifted["timestamp"] == "2025-12-31T00:00:00Z"
    moved = first(shifted)
    assert moved["dispenseRequest"]["validityPeriod"] == {
        "start": "2019-12-31",
        "end": "2025-03-06",
    }
    assert moved["dosageInstruction"][0]["timing"]["event"] == ["2025-11-30T09:00:00Z"]
    assert moved["extension"][0]["valueDateTime"] == "2025-12-30"


def test_ids_codes_and_text_are_untouched() -> None:
    date_like = "2025-12-27"
    resource = {
        "resourceType": "Observation",
        "id": date_like,
        "identifier": [{"system": "urn:lab", "value": date_like}],
        "code": {"coding": [{"system": "urn:local", "code": date_like, "display": date_like}]},
        "text": {"status": "generated", "div": date_like},
        "note": [{"text": date_like}],
        "valueString": date_like,
        "valueQuantity": {"value": 2025, "unit": "pg/mL"},
        "subject": {"reference": f"Patient/{date_like}"},
    }
    original = copy.deepcopy(resource)
    shifted = redate(bundle_with(resource), ANCHOR + datetime.timedelta(days=30))
    assert first(shifted) == original
    assert shifted["entry"][0]["request"]["url"] == f"Observation/{date_like}"


def test_input_is_not_modified() -> None:
    bundle = bundle_with({"resourceType": "Patient", "id": "p", "birthDate": "1970-05-05"})
    before = copy.deepcopy(bundle)
    shifted = redate(bundle, ANCHOR + datetime.timedelta(days=400))
    assert bundle == before
    assert shifted is not bundle
    assert first(shifted)["birthDate"] == "1971-06-09"


def test_bundle_without_anchor_comes_back_unchanged() -> None:
    bundle = bundle_with({"resourceType": "Patient", "id": "p", "birthDate": "1970-05-05"})
    bundle["meta"] = {}
    shifted = redate(bundle, ANCHOR + datetime.timedelta(days=10))
    assert shifted == bundle
    assert shifted is not bundle


def test_redating_to_the_anchor_is_identity() -> None:
    bundle = bundle_with({"resourceType": "Patient", "id": "p", "birthDate": "1970-05-05"})
    assert redate(bundle, ANCHOR) == bundle


def test_redating_twice_composes() -> None:
    bundle = bundle_with(
        {"resourceType": "Observation", "id": "o", "effectiveDateTime": "2025-12-27T08:30:00Z"}
    )
    once = redate(bundle, datetime.date(2026, 9, 1))
    assert is_anchor_dated(once)
    assert redate(once, datetime.date(2027, 3, 1)) == redate(bundle, datetime.date(2027, 3, 1))


def test_anchor_with_offset_uses_its_written_date() -> None:
    bundle = bundle_with(
        {"resourceType": "Patient", "id": "p", "birthDate": "1970-05-05"},
        timestamp="2026-01-01T23:00:00-05:00",
    )
    shifted = redate(bundle, datetime.date(2026, 1, 2))
    assert shifted["timestamp"] == "2026-01-02T23:00:00-05:00"
    assert first(shifted)["birthDate"] == "1970-05-06"


def test_datetime_as_of_uses_its_date() -> None:
    bundle = bundle_with({"resourceType": "Patient", "id": "p", "birthDate": "1970-05-05"})
    shifted = redate(bundle, datetime.datetime(2026, 1, 3, 15, 0, tzinfo=datetime.UTC))
    assert first(shifted)["birthDate"] == "1970-05-07"
