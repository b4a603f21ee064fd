"""Builders shared by the API tests: apps, fixture patients as CDS Hooks requests, log capture."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from uuid import uuid4

from flask import Flask

from cds_b12.api import create_app
from cds_b12.api.logs import REQUEST_LOGGER, JsonLines
from cds_b12.config import Settings
from cds_b12.hooks.response import ORDER_HOOKS

from ..fhir.read_support import bundle
from ..scenarios import Scenario, scenarios

TODAY = date(2026, 1, 1)
SERVICE_FOR_HOOK = {
    "patient-view": "b12-patient-view",
    "order-select": "b12-order-select",
    "order-sign": "b12-order-sign",
}
# How an EHR answers each discovery prefetch key: the resource type its template asks for.
TYPE_BY_KEY = {
    "patient": "Patient",
    "labs": "Observation",
    "medicationRequests": "MedicationRequest",
    "medicationAdministrations": "MedicationAdministration",
    "medicationStatements": "MedicationStatement",
    "conditions": "Condition",
    "procedures": "Procedure",
    "allergies": "AllergyIntolerance",
}
KEY_BY_TYPE = {rtype: key for key, rtype in TYPE_BY_KEY.items()}
OO_ISSUE_CODES = {400: "invalid", 404: "not-found", 405: "not-supported", 412: "processing"}


def make_app(today: Callable[[], date] = lambda: TODAY, **settings: object) -> Flask:
    return create_app(Settings(**settings), today=today)


def prefetch_for(resources: list[dict]) -> dict:
    """Every discovery key answered as an EHR would: the Patient read, each search a Bundle."""
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert len(patients) == 1, "a fixture patient has exactly one Patient resource"
    unknown = {r["resourceType"] for r in resources} - set(KEY_BY_TYPE)
    assert not unknown, f"no prefetch key asks for {sorted(unknown)}"
    prefetch: dict = {"patient": patients[0]}
    for key, rtype in TYPE_BY_KEY.items():
        if key != "patient":
            prefetch[key] = bundle(*(r for r in resources if r["resourceType"] == rtype))
    return prefetch


def serve_r1_patient(
    server: Any,
    next_links: Mapping[str, str] | None = None,
    *,
    failing: Mapping[str, int] | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """Make ``server`` (a pytest-httpserver) a FHIR server holding the R1 fixture patient;
    returns its base URL.

    ``next_links`` gives a search (by resource type) a ``next`` page link; the resource types
    in ``failing`` answer that status instead; ``headers`` must be on every request.
    """
    resources, _drafts = scenario_named("R1-start-neuro-loading").data(TODAY)
    for rtype in TYPE_BY_KEY.values():
        found = [r for r in resources if r["resourceType"] == rtype]
        path = f"/fhir/Patient/{found[0]['id']}" if rtype == "Patient" else f"/fhir/{rtype}"
        expected = server.expect_request(path, headers=headers)
        if failing and rtype in failing:
            expected.respond_with_data("no", status=failing[rtype])
        elif rtype == "Patient":
            expected.respond_with_json(found[0])
        else:
            answer = bundle(*found)
            if next_links and rtype in next_links:
                answer["link"] = [{"relation": "next", "url": next_links[rtype]}]
            expected.respond_with_json(answer)
    return server.url_for("/fhir")


def context_for(hook: str, patient_id: str, drafts: list[dict]) -> dict:
    context: dict = {"userId": "Practitioner/example", "patientId": patient_id}
    if hook in ORDER_HOOKS:
        context["draftOrders"] = bundle(*drafts, kind="collection")
    if hook == "order-select":
        context["selections"] = [f"{d['resourceType']}/{d['id']}" for d in drafts]
    return context


def scenario_request(scenario: Scenario, as_of: date = TODAY) -> tuple[str, dict]:
    """(service id, request body) for a fixture patient, with a complete prefetch."""
    resources, drafts = scenario.data(as_of)
    prefetch = prefetch_for(resources)
    return SERVICE_FOR_HOOK[scenario.hook], {
        "hookInstance": str(uuid4()),
        "hook": scenario.hook,
        "context": context_for(scenario.hook, prefetch["patient"]["id"], drafts),
        "prefetch": prefetch,
    }


def clean_scenarios() -> list[Scenario]:
    return [s for s in scenarios() if not s.messy]


def scenario_named(fragment: str, profile: str = "us") -> Scenario:
    (found,) = [s for s in clean_scenarios() if fragment in s.id and s.profile == profile]
    return found


def assert_operation_outcome(response, status: int) -> str:
    """The error body is one FHIR OperationOutcome issue; returns its diagnostics."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    (issue,) = body["issue"]
    assert issue["severity"] == "error"
    if status in OO_ISSUE_CODES:
        assert issue["code"] == OO_ISSUE_CODES[status]
    assert isinstance(issue["diagnostics"], str) and issue["diagnostics"].strip()
    return issue["diagnostics"]


class LogCapture(logging.Handler):
    """Every record of the service's loggers, formatted exactly as the service writes them."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonLines())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]

    def requests(self) -> list[dict]:
        return [r for r in self.records() if r["logger"] == REQUEST_LOGGER]
