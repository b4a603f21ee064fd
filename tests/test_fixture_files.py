"""Every fixture bundle is indexed, well formed and anchor-dated (fhir_fixtures/README.md)."""

from __future__ import annotations

import datetime
import json
import pathlib
import tomllib
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from cds_b12.fhir.redate import is_anchor_dated, redate

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fhir_fixtures"

RULE_IDS = (
    "R1-start-neuro-loading",
    "R2-start-standard-loading",
    "R3-dietary-oral",
    "R4-medication-cause",
    "R5-indeterminate-order-mma",
    "R6-indeterminate-neuro",
    "R7-severe-anaemia",
    "R8-suboptimal-response",
    "R9-neuro-loading-continue",
    "R10-start-maintenance",
    "R11-maintenance-overdue",
    "R12-missed-doses",
    "R13-intensify-interval",
    "R14-lab-drift",
    "R15-b12-order-on-maintenance",
    "R16-consider-stop",
    "R17-metformin-screening",
    "R18-acid-suppressant-screening",
    "R19-bariatric-prophylaxis",
    "R20-folate-without-b12",
    "R21-cyanocobalamin-contraindicated",
    "R22-raised-b12",
    "R23-not-adult",
    "R24-confounded-marker",
    "R25-unreadable-result",
    "R26-interrupted-course",
    "R27-oral-relapse",
    "R28-order-dose-error",
    "R29-over-treatment",
)
EXTRA_FOLDERS = ("safety", "messy")
PROFILES = {"US", "UK"}
HOOKS = {"patient-view", "order-select", "order-sign"}
SCENARIO_KEYS = {"file", "description", "profiles", "hook", "expect", "messy"}

ANCHOR = datetime.date(2026, 1, 1)
ANCHOR_TIMESTAMP = "2026-01-01T00:00:00Z"
SHIFT_DAYS = 10
ENTRY_ERRORS = (ValidationError, ValueError, KeyError, TypeError)


def folders() -> list[pathlib.Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def index(folder: pathlib.Path) -> list[dict[str, Any]]:
    with (folder / "scenarios.toml").open("rb") as fh:
        return tomllib.load(fh).get("scenario", [])


def scenarios() -> list[tuple[pathlib.Path, dict[str, Any]]]:
    return [(folder / sc["file"], sc) for folder in folders() for sc in index(folder)]


def scenario_id(case: tuple[pathlib.Path, dict[str, Any]]) -> str:
    return f"{case[0].parent.name}/{case[0].name}"


SCENARIOS = scenarios()
VALID = [case for case in SCENARIOS if not case[1]["messy"]]
MESSY = [case for case in SCENARIOS if case[1]["messy"]]


def load(path: pathlib.Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle["entry"]]


def patient_id(bundle: dict[str, Any]) -> str:
    patients = [r for r in resources(bundle) if r.get("resourceType") == "Patient"]
    assert len(patients) == 1
    return patients[0]["id"]


def test_folder_names_are_rule_ids_or_extras() -> None:
    names = {p.name for p in folders()}
    assert names <= set(RULE_IDS) | set(EXTRA_FOLDERS)
    assert names >= set(RULE_IDS) | set(EXTRA_FOLDERS), "every rule has a fixture folder"
    assert not [p for p in FIXTURES.glob("*.json")], "bundles live in a folder"


@pytest.mark.parametrize("folder", folders(), ids=lambda p: p.name)
def test_index_matches_folder(folder: pathlib.Path) -> None:
    indexed = [sc["file"] for sc in index(folder)]
    assert len(indexed) == len(set(indexed)), "a file is indexed twice"
    assert set(indexed) == {p.name for p in folder.glob("*.json")}
    assert {p.name for p in folder.iterdir()} == {*indexed, "scenarios.toml"}


@pytest.mark.parametrize("case", SCENARIOS, ids=scenario_id)
def test_index_entry_is_complete(case: tuple[pathlib.Path, dict[str, Any]]) -> None:
    path, sc = case
    assert set(sc) == SCENARIO_KEYS
    assert sc["description"].strip()
    assert sc["profiles"] and set(sc["profiles"]) <= PROFILES
    assert sc["hook"] in HOOKS
    assert isinstance(sc["messy"], bool)
    assert len(sc["expect"]) == len(set(sc["expect"]))
    assert set(sc["expect"]) <= set(RULE_IDS)
    if path.name.endswith("-fires.json"):
        assert path.parent.name in sc["expect"]
    if path.name.endswith("-silent.json"):
        assert sc["expect"] == []


def test_patient_ids_are_distinct() -> None:
    ids = [patient_id(load(path)) for path, _ in SCENARIOS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", SCENARIOS, ids=scenario_id)
def test_bundle_is_anchor_dated_transaction(case: tuple[pathlib.Path, dict[str, Any]]) -> None:
    path, sc = case
    bundle = load(path)
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "transaction"
    assert bundle["timestamp"] == ANCHOR_TIMESTAMP
    assert is_anchor_dated(bundle)
    pid = patient_id(bundle)
    ids = set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["request"] == {
            "method": "PUT",
            "url": f"{resource['resourceType']}/{resource['id']}",
        }
        assert (resource["resourceType"], resource["id"]) not in ids
        ids.add((resource["resourceType"], resource["id"]))
        for key in ("subject", "patient"):
            if key in resource:
                assert resource[key] == {"reference": f"Patient/{pid}"}
    drafts = [r for r in resources(bundle) if r.get("status") == "draft"]
    assert bool(drafts) == (sc["hook"] != "patient-view"), "draft orders only for order hooks"


@pytest.mark.parametrize("case", VALID, ids=scenario_id)
def test_bundle_validates_as_r4b(case: tuple[pathlib.Path, dict[str, Any]]) -> None:
    bundle = load(case[0])
    Bundle.model_validate(bundle)
    Bundle.model_validate(redate(bundle, ANCHOR + datetime.timedelta(days=SHIFT_DAYS)))


@pytest.mark.parametrize("case", MESSY, ids=scenario_id)
def test_messy_bundle_has_an_invalid_entry(case: tuple[pathlib.Path, dict[str, Any]]) -> None:
    failures = []
    for resource in resources(load(case[0])):
        try:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except ENTRY_ERRORS as exc:
            failures.append((resource.get("id"), type(exc).__name__))
    assert failures


def walk(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Pairs of leaf values that differ between two JSON trees of the same shape."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        return [d for key in a for d in walk(a[key], b[key], f"{path}.{key}")]
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in walk(x, y, path)]
    return [] if a == b else [(path, a, b)]


@pytest.mark.parametrize("case", SCENARIOS, ids=scenario_id)
def test_redate_moves_every_date_consistently(case: tuple[pathlib.Path, dict[str, Any]]) -> None:
    bundle = load(case[0])
    shifted = redate(bundle, ANCHOR + datetime.timedelta(days=SHIFT_DAYS))
    assert bundle == load(case[0]), "input untouched"
    assert shifted["timestamp"] == "2026-01-11T00:00:00Z"

    changes = walk(bundle, shifted)
    changed_keys = {path.rsplit(".", 1)[-1] for path, _, _ in changes}
    assert not changed_keys & {"id", "code", "system", "display", "text", "url", "reference"}
    for path, old, new in changes:
        assert isinstance(old, str) and isinstance(new, str), path
        moved = datetime.date.fromisoformat(old[:10]) + datetime.timedelta(days=SHIFT_DAYS)
        assert new == moved.isoformat() + old[10:], path

    for before, after in zip(resources(bundle), resources(shifted), strict=True):
        for key in ("birthDate", "effectiveDateTime", "authoredOn", "performedDateTime"):
            if isinstance(before.get(key), str) and len(before[key]) >= 10:
                assert after[key] != before[key], f"{before['id']}.{key} did not move"
    assert redate(shifted, ANCHOR) == bundle, "shifting back restores the file"


def test_known_fixture_date_moves_by_ten_days() -> None:
    bundle = load(FIXTURES / "R11-maintenance-overdue" / "monthly-overdue-fires.json")
    shifted = redate(bundle, ANCHOR + datetime.timedelta(days=SHIFT_DAYS))
    last_dose = max(
        r["effectiveDateTime"]
        for r in resources(shifted)
        if r["resourceType"] == "MedicationAdministration"
    )
    assert last_dose == "2025-11-27T10:30:00-05:00"  # 45 days before anchor + 10
    codes = [
        r["medicationCodeableConcept"]["coding"][0]["code"]
        for r in resources(shifted)
        if "medicationCodeableConcept" in r
    ]
    assert set(codes) == {"309594"}
