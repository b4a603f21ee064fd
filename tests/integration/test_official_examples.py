"""The official CDS Hooks example requests, as sent and pointed at our FHIR server.

As sent, their ``fhirServer`` (hooks.smarthealthit.org) cannot be reached from the
tests: the service must answer 412 or 200 in time, never 5xx. Pointed at the test
server, which holds their Patient/1288992, each must be a valid 200. The file lists
are fixed (not globbed), so a missing examples folder fails instead of collecting
nothing; test_every_request_shaped_example_is_run catches new files.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from uuid import uuid4

import pytest

from .ehr import MockEhr, assert_outcome

# Whole request bodies.
REQUESTS = [
    "spec-2.0.1/patient-view-request.json",
    "spec-2.0.1/request-with-extension.json",
    "assembled/order-select-request-r4.json",
    "assembled/order-sign-request-r4.json",
    "assembled/patient-view-request-no-prefetch.json",
    "assembled/patient-view-request-no-prefetch-no-fhirserver.json",
    "assembled/patient-view-request-null-prefetch.json",
    "assembled/patient-view-request-operationoutcome-prefetch.json",
    "assembled/patient-view-request-practitionerrole-context-only.json",
]
# Hook-library ``{"context": ...}`` files: wrapped with the hook named by the file.
CONTEXTS = [
    "hook-library-1.0.1/patient-view-context-practitionerrole.json",
    "hook-library-1.0.1/patient-view-context-with-encounter.json",
    "hook-library-1.0.1/order-select-context-r4.json",
    "hook-library-1.0.1/order-select-context-stu3.json",
    "hook-library-1.0.1/order-select-context-dstu2.json",
    "hook-library-1.0.1/order-sign-context-r4.json",
    "hook-library-1.0.1/order-sign-context-stu3.json",
    "hook-library-1.0.1/order-sign-context-dstu2.json",
    # hooks we do not serve: sent to b12-patient-view, they must be a clean 400
    "hook-library-1.0.1/appointment-book-context-stu3-a.json",
    "hook-library-1.0.1/appointment-book-context-stu3-b.json",
    "hook-library-1.0.1/encounter-start-context.json",
    "hook-library-1.0.1/encounter-discharge-context.json",
]
# Prefetch-token examples: context fragments without the hook's required fields.
NOT_REQUESTS = [
    "spec-2.0.1/context-token-example-simple.json",
    "spec-2.0.1/context-token-example-draftorders.json",
    "spec-2.0.1/context-token-example-medicationRequestId.json",
]
SERVED_HOOKS = ("patient-view", "order-select", "order-sign")
# Its patient-view context has no patientId, which the hook requires: a 400 either way.
NO_PATIENT = "spec-2.0.1/request-with-extension.json"
AS_SENT = {"fhir_connect_timeout": 0.5, "fhir_read_timeout": 0.5, "fhir_deadline": 1.0}
MARGIN = 1.5  # seconds on top of the deadline; a name lookup alone can take seconds here


def load(examples: Path, name: str) -> dict:
    path = examples / name
    if not path.is_file():
        pytest.fail(f"official example {name} is missing from {examples.name}/")
    data = json.loads(path.read_text(encoding="utf-8"))
    if name in CONTEXTS:
        hook = path.name.split("-context")[0]
        data = {"hook": hook, "hookInstance": str(uuid4()), **data}
    return data


def expected_400(body: dict, name: str) -> str | None:
    """What a 400 must name, for the requests the service must refuse outright."""
    if body["hook"] not in SERVED_HOOKS:
        return "hook"
    if name == NO_PATIENT:
        return "context.patientId"
    return None


def send(ehr: MockEhr, body: dict):
    service = "b12-patient-view" if body["hook"] not in SERVED_HOOKS else None
    return ehr.call(body, service_id=service)


@pytest.mark.parametrize("name", REQUESTS + CONTEXTS)
def test_example_as_sent_is_answered_in_time_without_5xx(name, examples_dir, make_client):
    body = load(examples_dir, name)
    ehr = MockEhr(make_client(**AS_SENT), None)
    started = time.monotonic()
    answer = send(ehr, body)
    elapsed = time.monotonic() - started
    assert elapsed < AS_SENT["fhir_deadline"] + MARGIN, f"took {elapsed:.1f} s"

    refused = expected_400(body, name)
    if refused:
        assert refused in assert_outcome(answer, 400)
    elif "fhirServer" not in body and not body.get("prefetch"):
        # nowhere to get the patient from: SHALL be 412
        assert "the patient record" in assert_outcome(answer, 412)
    else:
        assert answer.status in (200, 412), answer.body
        if answer.status == 412:
            assert_outcome(answer, 412)


@pytest.mark.parametrize("name", REQUESTS + CONTEXTS)
def test_example_pointed_at_our_server_is_a_valid_200(name, examples_dir, make_client, fhir_server):
    body = load(examples_dir, name)
    body["fhirServer"] = fhir_server.base
    answer = send(MockEhr(make_client(), None), body)  # call() checks every 200
    refused = expected_400(body, name)
    if refused:
        assert refused in assert_outcome(answer, 400)
    else:
        assert answer.status == 200, answer.body


def test_every_request_shaped_example_is_run(examples_dir):
    shaped = {
        str(path.relative_to(examples_dir))
        for path in examples_dir.glob("*/*.json")
        if "context" in json.loads(path.read_text(encoding="utf-8"))
    }
    assert shaped == set(REQUESTS + CONTEXTS + NOT_REQUESTS)
