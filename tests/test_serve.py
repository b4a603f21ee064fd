"""``cds-b12 serve`` is the production path: a real gunicorn process answering over a socket."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from cds_b12.fhir.read import collect_resources
from cds_b12.fhir.redate import redate

from .conformance import assert_valid_response

ROOT = Path(__file__).resolve().parents[1]
CDS_B12 = str(Path(sys.executable).parent / "cds-b12")
R1 = ROOT / "fhir_fixtures" / "R1-start-neuro-loading" / "pa-neuro-low-b12-fires.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k == "CDS_B12_DATA_DIR" or not k.startswith("CDS_B12_")
    }
    proc = subprocess.Popen(
        [CDS_B12, "serve", "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"cds-b12 serve did not become ready: {proc.communicate()[1][-2000:]}")
        time.sleep(0.1)
    yield base, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def _prefetch_request() -> dict:
    bundle = redate(json.loads(R1.read_text()), date.today())
    resources = collect_resources(bundle)
    patient = next(r for r in resources if r["resourceType"] == "Patient")

    def searchset(*types: str) -> dict:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources if r["resourceType"] in types],
        }

    return {
        "hook": "patient-view",
        "hookInstance": "7b1d7c4e-2f59-4d3a-9a57-0f6a5f0d1e11",
        "context": {"userId": "Practitioner/example", "patientId": patient["id"]},
        "prefetch": {
            "patient": patient,
            "labs": searchset("Observation"),
            "medicationRequests": searchset("MedicationRequest"),
            "medicationAdministrations": searchset("MedicationAdministration"),
            "medicationStatements": None,
            "conditions": searchset("Condition"),
            "procedures": searchset("Procedure"),
            "allergies": searchset("AllergyIntolerance"),
        },
    }


def test_serve_runs_under_gunicorn_and_reports_ready(server):
    base, _ = server
    health = requests.get(f"{base}/healthz", timeout=5)
    assert health.headers["Server"].startswith("gunicorn")
    assert health.json()["status"] == "ok"
    services = requests.get(f"{base}/cds-services", timeout=5).json()["services"]
    assert {s["hook"] for s in services} == {"patient-view", "order-select", "order-sign"}


def test_serve_answers_a_hook_over_http(server):
    base, _ = server
    response = requests.post(
        f"{base}/cds-services/b12-patient-view", json=_prefetch_request(), timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert_valid_response(body)
    assert [c["indicator"] for c in body["cards"]] == ["critical"]


def test_serve_logs_each_call_and_stops_cleanly_on_sigterm(server):
    base, proc = server
    requests.post(f"{base}/cds-services/b12-patient-view", json=_prefetch_request(), timeout=10)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    _, stderr = proc.communicate()
    assert "Starting gunicorn" in stderr
    # one JSON line per request, from the app itself
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    hook_lines = [line for line in lines if line.get("path") == "/cds-services/b12-patient-view"]
    assert hook_lines and hook_lines[0]["rules"] == ["R1-start-neuro-loading"]
    assert hook_lines[0]["hookInstance"] == "7b1d7c4e-2f59-4d3a-9a57-0f6a5f0d1e11"


def test_serve_with_a_bad_setting_is_one_line_and_exit_2():
    env = {**os.environ, "CDS_B12_PROFILE": "fr"}
    proc = subprocess.run(
        [CDS_B12, "serve", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "cds-b12: error: CDS_B12_PROFILE: Input should be 'us' or 'uk'"
    ]
