"""The bundled fixture patients (``fhir_fixtures/``), for the preview page and the timeline.

Each is a FHIR transaction Bundle written as if today were its anchor date;
loading one shifts its dates to the evaluation date, so it never goes stale.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

from ..fhir.read import collect_resources
from ..fhir.redate import redate
from .response import ORDER_HOOKS, split_drafts

# The repository's fhir_fixtures/, shipped inside the package (see pyproject.toml)
DEFAULT_FIXTURES = Path(str(resources.files("cds_b12") / "fhir_fixtures"))


@dataclass(frozen=True, slots=True)
class FixturePatient:
    path: Path
    patient_id: str
    description: str
    profiles: tuple[str, ...]  # "us", "uk"
    hook: str
    expect: frozenset[str]  # rule ids that fire
    messy: bool

    @property
    def folder(self) -> str:
        return self.path.parent.name

    def data(self, as_of: date) -> tuple[list[dict], list[dict]]:
        """(resources, draft orders) at ``as_of``, split as the fixture's hook sends them."""
        resources = collect_resources(redate(json.loads(self.path.read_text()), as_of))
        return split_drafts(resources) if self.hook in ORDER_HOOKS else (resources, [])


@cache
def fixture_patients(root: Path = DEFAULT_FIXTURES) -> tuple[FixturePatient, ...]:
    found = []
    for index in sorted(root.glob("*/scenarios.toml")):
        for entry in tomllib.loads(index.read_text())["scenario"]:
            path = index.parent / entry["file"]
            bundle = json.loads(path.read_text())
            patient_id = next(
                e["resource"]["id"]
                for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Patient"
            )
            found.append(
                FixturePatient(
                    path=path,
                    patient_id=patient_id,
                    description=entry["description"],
                    profiles=tuple(p.lower() for p in entry["profiles"]),
                    hook=entry["hook"],
                    expect=frozenset(entry["expect"]),
                    messy=entry.get("messy", False),
                )
            )
    return tuple(found)


def find_fixture(patient_id: str, root: Path = DEFAULT_FIXTURES) -> FixturePatient | None:
    """Looked up on every hook call (the timeline link) and every timeline page."""
    return _by_patient(root).get(patient_id)


@cache
def _by_patient(root: Path) -> dict[str, FixturePatient]:
    found: dict[str, FixturePatient] = {}
    for fixture in fixture_patients(root):
        found.setdefault(fixture.patient_id, fixture)  # the first, as a search would find
    return found
