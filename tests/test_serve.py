"""``cds-b12 serve`` is the production path: a real gunicorn process answering over a socket."""

from __future__ import annotations

import http.client
import json
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import requests

from cds_b12.api import MAX_BODY_BYTES
from cds_b12.fhir.read import collect_resources
from cds_b12.fhir.redate import redate

from .conformance import assert_valid_response
from .fhir.read_support import bundle
from .serving import ServeProcess, refused_serve, service_env, started

ROOT = Path(__file__).resolve().parents[1]
R1 = ROOT / "fhir_fixtures" / "R1-start-neuro-loading" / "pa-neuro-low-b12-fires.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ServeProcess]:
    work = tmp_path_factory.mktemp("serve")
    with started(service_env(work / "data"), work / "serve.log") as running:
        yield running


def _prefetch_request() -> dict:
    resources = collect_resources(redate(json.loads(R1.read_text()), date.today()))
    patient = next(r for r in resources if r["resourceType"] == "Patient")

    def searchset(*types: str) -> dict:
        return bundle(*(r for r in resources if r["resourceType"] in types))

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
    base = server.base
    health = requests.get(f"{base}/healthz", timeout=5)
    assert health.headers["Server"].startswith("gunicorn")
    assert health.json()["status"] == "ok"
    services = requests.get(f"{base}/cds-services", timeout=5).json()["services"]
    assert {s["hook"] for s in services} == {"patient-view", "order-select", "order-sign"}


def test_serve_says_where_it_answers_where_its_data_lives_and_where_the_preview_is(server):
    data = Path(server.env["CDS_B12_DATA_DIR"]).resolve()
    said = [line for line in server.output().splitlines() if line.startswith("cds-b12: ")]
    assert said == [
        "cds-b12: warning: authentication is off (no CDS_B12_TRUSTED_ISSUERS); serving on "
        "loopback only",
        f"cds-b12: serving {server.base}/cds-services (US profile, 2 workers x 16 threads)",
        f"cds-b12: preview: {server.base}/preview",
        f"cds-b12: store: SQLite {data / 'cds-b12.sqlite3'}",
        f"cds-b12: pseudonym key: {data / 'pseudonym.key'}",
    ]
    assert (data / "cds-b12.sqlite3").is_file() and (data / "pseudonym.key").is_file()
    assert requests.get(f"{server.base}/preview", timeout=10).status_code == 200


def test_the_root_is_a_landing_page_whose_links_answer(server):
    page = requests.get(f"{server.base}/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    links = re.findall(r'href="([^"]+)"', page.text)
    local = [link for link in links if not link.startswith(("http", "data:"))]
    assert {"cds-services", "preview", "openapi.json"} <= set(local)
    for link in local:
        assert requests.get(f"{server.base}/{link}", timeout=10).status_code == 200, link


def test_serve_answers_a_hook_over_http(server):
    base = server.base
    response = requests.post(
        f"{base}/cds-services/b12-patient-view", json=_prefetch_request(), timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert_valid_response(body)
    assert [c["indicator"] for c in body["cards"]] == ["critical"]


def test_serve_reads_a_body_of_known_length_or_a_chunked_one_and_refuses_too_long_a_length(
    server,
):
    url = f"{server.base}/cds-services/b12-patient-view"
    body = json.dumps(_prefetch_request()).encode()
    json_type = {"Content-Type": "application/json"}

    def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
        yield from (data[i : i + size] for i in range(0, len(data), size))

    for sent in (body, chunks(body)):  # requests sends an iterator chunked
        response = requests.post(url, data=sent, headers=json_type, timeout=30)
        assert response.status_code == 200 and response.json()["cards"]
    response = requests.post(
        url, data=b"{" + b" " * (6 << 20) + b"}", headers=json_type, timeout=30
    )
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"


def _post_chunked(server: ServeProcess, path: str, body: bytes) -> tuple[int, dict]:
    """POST ``body`` in 64 KiB chunks (Transfer-Encoding: chunked, no Content-Length)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        chunks = (body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024))
        conn.request("POST", path, body=chunks, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.mark.parametrize(
    "path",
    [
        "/cds-services/b12-patient-view",
        "/cds-services/b12-patient-view/feedback",
        "/preview/request",
    ],
)
def test_serve_refuses_a_chunked_body_over_the_limit_and_still_names_one_that_is_not_json(
    server, path
):
    status, problem = _post_chunked(server, path, b"{" + b" " * MAX_BODY_BYTES + b"}")
    assert status == 413
    assert problem["resourceType"] == "OperationOutcome"
    assert problem["issue"][0]["code"] == "too-costly"
    status, problem = _post_chunked(server, path, b"not json")
    assert status == 400
    assert problem["issue"][0]["diagnostics"] == "the request body must be a JSON object"


def test_serve_logs_each_call_and_stops_cleanly_on_sigterm(server):
    base = server.base
    requests.post(f"{base}/cds-services/b12-patient-view", json=_prefetch_request(), timeout=10)
    assert server.stop() == 0
    stderr = server.output()
    assert "Starting gunicorn" in stderr
    # one JSON line per request, from the app itself
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    hook_lines = [line for line in lines if line.get("path") == "/cds-services/b12-patient-view"]
    assert hook_lines and hook_lines[0]["rules"] == ["R1-start-neuro-loading"]
    assert hook_lines[0]["hookInstance"] == "7b1d7c4e-2f59-4d3a-9a57-0f6a5f0d1e11"


def test_serve_with_a_bad_setting_is_one_line_and_exit_2():
    env = {**os.environ, "CDS_B12_PROFILE": "fr"}
    proc = refused_serve(env, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "cds-b12: error: CDS_B12_PROFILE: Input should be 'us' or 'uk'"
    ]
