"""The fixture scenarios: each bundled patient once per profile it is written for."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cds_b12.hooks.fixtures import DEFAULT_FIXTURES, FixturePatient, fixture_patients

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer

FIXTURES = DEFAULT_FIXTURES
AS_OF = date(2026, 11, 21)
# What the service's fallback searches for a patient (besides reading the Patient itself)
SEARCHED = (
    "Observation",
    "MedicationRequest",
    "MedicationAdministration",
    "MedicationStatement",
    "Condition",
    "Procedure",
    "AllergyIntolerance",
)


@dataclass(frozen=True)
class Scenario:
    patient: FixturePatient
    profile: str

    @property
    def path(self) -> Path:
        return self.patient.path

    @property
    def hook(self) -> str:
        return self.patient.hook

    @property
    def expect(self) -> frozenset[str]:
        return self.patient.expect

    @property
    def messy(self) -> bool:
        return self.patient.messy

    @property
    def id(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}[{self.profile}]"

    def data(self, as_of: date = AS_OF) -> tuple[list[dict], list[dict]]:
        """(resources, draft orders) redated to ``as_of``, split as the hook would send them."""
        return self.patient.data(as_of)


def scenarios() -> list[Scenario]:
    return [Scenario(p, profile) for p in fixture_patients() for profile in p.profiles]


def as_patient(resources: list[dict], patient_id: str, new_id: str) -> list[dict]:
    """The record with every ``Patient/<patient_id>`` reference naming ``new_id`` instead: a
    fake EHR that serves a fixture under another id must serve it as that patient's, or the
    service leaves the entries out as another patient's."""
    ours, theirs = (json.dumps(f"Patient/{p}")[1:-1] for p in (patient_id, new_id))
    return json.loads(json.dumps(resources).replace(ours, theirs))


def serve_record(server: HTTPServer, resources: Iterable[dict], patient_id: str) -> None:
    """A fake EHR's FHIR API on ``server``: any ``/fhir/Patient/<id>`` read answers the
    record's Patient as ``patient_id``, and each search the fallback makes answers that
    kind's resources."""
    by_type: dict[str, list[dict]] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(r)
    server.expect_request(re.compile(r"/fhir/Patient/.+")).respond_with_json(
        {**by_type["Patient"][0], "id": patient_id}
    )
    for kind in SEARCHED:
        server.expect_request(f"/fhir/{kind}").respond_with_json(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": r} for r in by_type.get(kind, [])],
            }
        )
