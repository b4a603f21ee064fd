"""The test FHIR server (Node, Medplum's router) for the whole session, loaded with every fixture.

Missing Node or ``node_modules`` fails the suite rather than skipping it: a skipped
integration suite looks green in CI while proving nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from cds_b12.api import create_app
from cds_b12.config import Settings
from cds_b12.fhir.redate import is_anchor_dated, redate
from cds_b12.hooks.response import split_drafts

from ..serving import FhirTestServer, start_fhir_server

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fhir_fixtures"
EXAMPLE_PATIENT_ID = "1288992"  # the spec's patient-view example patient
HTTP_TIMEOUT = 30.0


def post_transaction(base: str, bundle: dict, name: str) -> None:
    """Load a transaction Bundle, and check that the server took every entry."""
    resp = requests.post(
        base, json=bundle, timeout=HTTP_TIMEOUT, headers={"Content-Type": "application/fhir+json"}
    )
    assert resp.status_code == 200, f"{name}: {resp.status_code} {resp.text[:500]}"
    answer = resp.json()
    assert answer.get("type") == "transaction-response", f"{name}: {resp.text[:500]}"
    statuses = [e.get("response", {}).get("status", "") for e in answer.get("entry", [])]
    assert len(statuses) == len(bundle["entry"]), name
    assert all(s.startswith("2") for s in statuses), f"{name}: entry statuses {statuses}"


def storable(path: Path) -> bool:
    """Whether a FHIR server can hold the fixture: a number that overflows a double
    (``1e400``) can reach the service in a prefetch, but no server stores it as sent."""
    try:
        json.dumps(json.loads(path.read_text(encoding="utf-8")), allow_nan=False)
    except ValueError:
        return False
    return True


def record_bundle(path: Path, as_of: date) -> dict:
    """The fixture redated to ``as_of``, without its draft orders.

    Drafts are orders being written: an EHR sends them in ``draftOrders``, they are
    not in the record yet, so they are not on the server either.
    """
    bundle = json.loads(path.read_text(encoding="utf-8"))
    assert is_anchor_dated(bundle), f"{path.name} is not anchor-dated"
    bundle = redate(bundle, as_of)
    record, _ = split_drafts([e["resource"] for e in bundle["entry"]])
    kept = {id(r) for r in record}
    bundle["entry"] = [e for e in bundle["entry"] if id(e["resource"]) in kept]
    return bundle


@pytest.fixture(scope="session")
def as_of() -> date:
    """Today, read once: the fixtures and the app must agree even across midnight."""
    return date.today()


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory, as_of) -> Iterator[FhirTestServer]:
    server = start_fhir_server(tmp_path_factory.mktemp("fhir-server") / "stderr.log")
    try:
        for path in sorted(p for p in FIXTURES.glob("*/*.json") if storable(p)):
            post_transaction(
                server.base, record_bundle(path, as_of), f"{path.parent.name}/{path.name}"
            )
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def examples_dir(cds_hooks_examples, fhir_server) -> Path:
    """The official examples, with their patient (Patient/1288992) loaded on our server."""
    examples = cds_hooks_examples
    spec = json.loads((examples / "spec-2.0.1" / "patient-view-request.json").read_text())
    patient = spec["prefetch"]["patientToGreet"]
    assert patient["id"] == EXAMPLE_PATIENT_ID
    post_transaction(
        fhir_server.base,
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "resource": patient,
                    "request": {"method": "PUT", "url": f"Patient/{EXAMPLE_PATIENT_ID}"},
                }
            ],
        },
        "example patient",
    )
    return examples


@pytest.fixture(scope="session")
def make_client(as_of) -> Callable[..., FlaskClient]:
    """A test client of the app built with these settings; one app per distinct settings."""
    apps: dict[tuple, FlaskClient] = {}

    def make(**settings: object) -> FlaskClient:
        key = tuple(sorted(settings.items()))
        if key not in apps:
            apps[key] = create_app(Settings(**settings), today=lambda: as_of).test_client()
        return apps[key]

    return make
