"""One JSON line per request, with the hook call's fields; never a token, never "Bearer"."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask

from cds_b12.api.logs import JsonLines

from .support import (
    TYPE_BY_KEY,
    make_app,
    scenario_named,
    scenario_request,
    serve_r1_patient,
)

TOKEN = "secret-token-123"
AUTH = {
    "access_token": TOKEN,
    "token_type": "Bearer",
    "expires_in": 300,
    "scope": "user/Patient.read user/Observation.read",
    "subject": "cds-b12",
}


@pytest.fixture
def app() -> Iterator[Flask]:
    app = make_app(log_level="DEBUG")
    yield app
    app.extensions["cds_b12"].client.session.close()


def assert_no_secrets(logs, caplog) -> None:
    text = logs.text + "\n" + caplog.text
    assert logs.lines
    assert TOKEN not in text
    assert "bearer" not in text.lower()


def test_one_json_line_per_request_with_the_hook_fields(app, logs):
    client = app.test_client()
    scenario = scenario_named("R7-severe-anaemia/severe-anaemia-fires")
    service, body = scenario_request(scenario)
    assert client.post(f"/cds-services/{service}", json=body).status_code == 200
    assert client.get("/cds-services").status_code == 200
    assert client.post(f"/cds-services/{service}", json={"hook": 1}).status_code == 400
    hook_line, discovery_line, bad_line = logs.requests()

    assert hook_line["message"] == "request" and hook_line["level"] == "info"
    assert hook_line["method"] == "POST"
    assert hook_line["path"] == f"/cds-services/{service}"
    assert hook_line["status"] == 200
    assert isinstance(hook_line["latency_ms"], int | float) and hook_line["latency_ms"] >= 0
    assert hook_line["service"] == service and hook_line["hook"] == scenario.hook
    assert hook_line["hookInstance"] == body["hookInstance"]
    assert sorted(hook_line["rules"]) == sorted(scenario.expect)
    assert hook_line["cards"] == len(scenario.expect)

    assert discovery_line["method"] == "GET" and discovery_line["path"] == "/cds-services"
    assert discovery_line["status"] == 200 and "rules" not in discovery_line

    assert bad_line["status"] == 400 and bad_line["service"] == service
    assert "rules" not in bad_line


def test_the_service_writes_single_line_json_through_one_handler():
    """However many apps a process builds, each record is written once, as one JSON line."""
    make_app()
    make_app(profile="uk")
    logger = logging.getLogger("cds_b12")
    (handler,) = [h for h in logger.handlers if isinstance(h.formatter, JsonLines)]
    assert logger.propagate is False
    record = logging.LogRecord("cds_b12.request", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"path": "/cds-services", "note": "two\nlines"}
    line = handler.formatter.format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["note"] == "two\nlines" and parsed["logger"] == "cds_b12.request"
    assert parsed["time"].endswith("Z")


def test_hook_instance_is_logged_even_when_the_request_is_invalid(app, logs):
    body = {"hook": "patient-view", "hookInstance": "abc-123", "context": "nope"}
    app.test_client().post("/cds-services/b12-patient-view", json=body)
    (line,) = logs.requests()
    assert line["status"] == 400 and line["hookInstance"] == "abc-123"


def test_the_query_string_is_never_logged(app, logs, everything_logged):
    service, body = scenario_request(scenario_named("R1-start-neuro-loading"))
    app.test_client().post(f"/cds-services/{service}?access_token={TOKEN}", json=body)
    (line,) = logs.requests()
    assert line["path"] == f"/cds-services/{service}"
    assert_no_secrets(logs, everything_logged)


def test_token_is_not_logged_when_the_prefetch_is_complete(app, logs, everything_logged):
    service, body = scenario_request(scenario_named("R1-start-neuro-loading"))
    body["fhirServer"] = "https://ehr.example/fhir"
    body["fhirAuthorization"] = AUTH
    response = app.test_client().post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200
    (line,) = logs.requests()
    assert line["fetched"] == [] and line["rules"]
    assert_no_secrets(logs, everything_logged)


def test_token_is_not_logged_when_the_service_fetches(app, logs, everything_logged, httpserver):
    scenario = scenario_named("R1-start-neuro-loading")
    service, body = scenario_request(scenario)
    del body["prefetch"]
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    body["fhirServer"] = serve_r1_patient(httpserver, headers=bearer)
    body["fhirAuthorization"] = AUTH

    response = app.test_client().post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200, response.get_json()
    assert len(httpserver.log) == len(TYPE_BY_KEY)  # the token did reach the FHIR server
    (line,) = logs.requests()
    assert sorted(line["fetched"]) == sorted(TYPE_BY_KEY)
    assert set(line["rules"]) == scenario.expect
    assert_no_secrets(logs, everything_logged)


def test_token_is_not_logged_when_the_fetch_fails(app, logs, everything_logged, httpserver):
    httpserver.expect_request("/fhir/Patient/p1").respond_with_data("nope", status=401)
    body = {
        "hook": "patient-view",
        "hookInstance": "h-1",
        "fhirServer": httpserver.url_for("/fhir"),
        "fhirAuthorization": AUTH,
        "context": {"userId": "Practitioner/1", "patientId": "p1"},
    }
    response = app.test_client().post("/cds-services/b12-patient-view", json=body)
    assert response.status_code == 412
    assert TOKEN not in response.get_data(as_text=True)
    assert_no_secrets(logs, everything_logged)


def test_token_is_not_logged_on_a_500(app, logs, everything_logged, monkeypatch):
    def explode(call, **_kwargs):
        raise RuntimeError(f"failed for {call.fhir_server!r}")

    monkeypatch.setattr("cds_b12.api.services.invoke", explode)
    service, body = scenario_request(scenario_named("R1-start-neuro-loading"))
    body["fhirServer"] = "https://ehr.example/fhir"
    body["fhirAuthorization"] = AUTH
    response = app.test_client().post(f"/cds-services/{service}", json=body)
    assert response.status_code == 500
    assert any("RuntimeError" in r.get("exception", "") for r in logs.records())
    assert_no_secrets(logs, everything_logged)


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "two\nlines\tand \x1b[31m escape",
        "caf\u00e9 \u2028 \u009b",  # non-ASCII, a line separator, a C1 control
        "\ud800",  # a lone surrogate (orjson refuses it)
        2**70,  # beyond 64 bits (orjson refuses it)
        {1: "int key"},
        [1.5, None, True],
        date(2026, 12, 1),
        Path("/tmp/x"),
    ],
)
def test_a_log_line_reads_as_the_standard_library_wrote_it_and_stays_ascii(value):
    record = logging.LogRecord("cds_b12.request", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"value": value}
    line = JsonLines().format(record)
    assert line.isascii() and "\n" not in line
    expected = json.loads(json.dumps({"value": value}, default=str))["value"]
    assert json.loads(line)["value"] == expected


@pytest.mark.parametrize(
    ("created", "msecs", "expected"),
    [
        (1_796_094_245.678, 678.0, "2026-12-01T03:04:05.678Z"),
        (1_796_094_245.001, 1.0, "2026-12-01T03:04:05.001Z"),  # the same second again
        (1_796_094_246.0, 0.0, "2026-12-01T03:04:06.000Z"),  # the next second
        (1_796_094_245.999, 999.0, "2026-12-01T03:04:05.999Z"),  # back to an earlier second
    ],
)
def test_a_line_is_stamped_with_its_records_utc_time_to_the_millisecond(created, msecs, expected):
    record = logging.LogRecord("cds_b12.request", logging.INFO, __file__, 1, "request", None, None)
    record.created, record.msecs = created, msecs
    assert json.loads(JsonLines().format(record))["time"] == expected


def test_the_proxys_request_id_is_on_the_line_cut_to_100_characters(app, logs):
    client = app.test_client()
    client.get("/cds-services", headers={"X-Request-ID": "r" * 150})
    client.get("/cds-services")
    with_id, without = logs.requests()
    assert with_id["requestId"] == "r" * 100
    assert "requestId" not in without
