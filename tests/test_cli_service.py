"""The CLI's service-facing commands: ``request`` for curl, ``evaluate --fhir-server``."""

from __future__ import annotations

import json
from datetime import date

import pytest
from werkzeug import Response

from cds_b12.api import create_app
from cds_b12.cli import main
from cds_b12.config import Settings

from .conformance import assert_valid_response
from .scenarios import SEARCHED, scenarios
from .serving import free_port

TODAY = date(2026, 11, 21)


def _strip_ids(body: dict) -> list[tuple[str, str, str]]:
    """Cards without their fresh uuids. A prefetch is keyed by resource type, so a resource of
    an unknown type in the bundle (the messy fixture has one) is never sent: drop its note."""

    def detail(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if "unknown resource type" not in line)

    return [(c["indicator"], c["summary"], detail(c["detail"])) for c in body["cards"]]


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.id)
def test_request_is_what_the_service_answers_like_evaluate(scenario, capsys, monkeypatch):
    """`cds-b12 request | curl` gives the same cards as `cds-b12 evaluate` on the bundle.

    Every data-quality note is listed (no "N more not shown"): the bundle's note of an unknown
    resource type, which no prefetch carries, would otherwise shift which notes are listed."""
    monkeypatch.setattr("cds_b12.render.data_quality.MAX_DATA_NOTES", 100)
    args = ["--bundle", str(scenario.path), "--hook", scenario.hook, "--as-of", TODAY.isoformat()]
    assert main(["request", *args]) == 0
    request = capsys.readouterr().out  # sent as printed, as curl would (1e400 stays a number)
    assert main(["evaluate", *args, "--profile", scenario.profile, "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)

    app = create_app(Settings(profile=scenario.profile), today=lambda: TODAY)
    response = app.test_client().post(
        f"/cds-services/b12-{scenario.hook}", data=request, content_type="application/json"
    )
    assert response.status_code == 200, response.json
    assert_valid_response(response.json)
    assert _strip_ids(response.json) == _strip_ids(expected)


def test_request_without_a_patient_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "obs.json"
    path.write_text(json.dumps({"resourceType": "Observation", "id": "o"}))
    assert main(["request", "--bundle", str(path)]) == 2
    assert "no Patient" in capsys.readouterr().err


def _fhir(httpserver, status: int, body: dict | str) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    httpserver.expect_request("/fhir/Patient/p1").respond_with_response(
        Response(text, status=status, content_type="application/fhir+json")
    )
    httpserver.expect_request("/fhir/Observation").respond_with_json(
        {"resourceType": "Bundle", "type": "searchset"}
    )
    return httpserver.url_for("/fhir")


def test_evaluate_fhir_server_unknown_patient(httpserver, capsys):
    base = _fhir(httpserver, 404, {"resourceType": "OperationOutcome", "issue": []})
    assert main(["evaluate", "--fhir-server", base, "--patient", "p1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "cds-b12: error: Cannot evaluate without the patient record "
        "(Patient/p1 was not found on the FHIR server)"
    ]


def test_evaluate_fhir_server_refusing_the_token(httpserver, capsys, monkeypatch):
    monkeypatch.setenv("SANDBOX_TOKEN", "tok-123")
    base = _fhir(httpserver, 401, {"resourceType": "OperationOutcome", "issue": []})
    assert (
        main(
            [
                "evaluate",
                "--fhir-server",
                base,
                "--patient",
                "p1",
                "--bearer-token-env",
                "SANDBOX_TOKEN",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "401 Unauthorized" in err and "tok-123" not in err and len(err.splitlines()) == 1
    sent = [req.headers.get("Authorization") for req, _ in httpserver.log]
    assert "Bearer tok-123" in sent


def test_evaluate_fhir_server_unreachable(capsys):
    base = f"http://127.0.0.1:{free_port()}/fhir"
    assert main(["evaluate", "--fhir-server", base, "--patient", "p1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "connection refused" in err[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fhir-server", "http://127.0.0.1:1/fhir"], "needs --patient"),
        (["--fhir-server", "ftp://x", "--patient", "p"], "http or https"),
        (
            [
                "--fhir-server",
                "http://127.0.0.1:1/fhir",
                "--patient",
                "p",
                "--bearer-token-env",
                "CDS_B12_TEST_UNSET_VAR",
            ],
            "CDS_B12_TEST_UNSET_VAR is not set",
        ),
    ],
)
def test_evaluate_fhir_server_usage_errors(args, message, capsys):
    assert main(["evaluate", *args]) == 2
    assert message in capsys.readouterr().err


def test_evaluate_fhir_server_reads_the_patient(httpserver, capsys):
    httpserver.expect_request("/fhir/Patient/p1").respond_with_json(
        {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1950-01-01"}
    )
    httpserver.expect_request("/fhir/Observation").respond_with_json(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Observation",
                        "id": "b12",
                        "status": "final",
                        "code": {"coding": [{"system": "http://loinc.org", "code": "2132-9"}]},
                        "effectiveDateTime": "2026-11-01",
                        "valueQuantity": {"value": 90, "unit": "pg/mL"},
                    }
                }
            ],
        }
    )
    for kind in SEARCHED:
        if kind == "Observation":  # answered above, with the B12
            continue
        httpserver.expect_request(f"/fhir/{kind}").respond_with_json(
            {"resourceType": "Bundle", "type": "searchset"}
        )
    assert (
        main(
            [
                "evaluate",
                "--fhir-server",
                httpserver.url_for("/fhir"),
                "--patient",
                "p1",
                "--as-of",
                TODAY.isoformat(),
                "--json",
            ]
        )
        == 0
    )
    body = json.loads(capsys.readouterr().out)
    assert_valid_response(body)
    assert [c["summary"].split(":")[0] for c in body["cards"]] == ["Start B12 loading injections"]
