"""A failing FHIR server never gives a 500 and never holds the EHR past the deadline.

Without the patient or the labs the answer is a 412 naming what failed; when only
optional data fails, the cards still come, each saying what it could not see.
"""

from __future__ import annotations

import time

import pytest

from cds_b12.config import Settings
from cds_b12.hooks.prefetch import QUERY_BY_KEY

from ..scenarios import scenarios
from ..serving import start_fhir_server
from .ehr import Answer, MockEhr, assert_outcome, normalise, without_note

# A read timeout well under the deadline, yet not so short that a busy machine turns a
# normal (slow) answer into a timeout and adds a note the expected cards do not have.
TIMEOUTS = {"fhir_connect_timeout": 0.5, "fhir_read_timeout": 1.0, "fhir_deadline": 2.0}
MARGIN = 1.5  # seconds on top of the deadline: a bound on hanging, not a benchmark

# Cards from labs alone: losing medications or conditions does not change them.
SCENARIO = next(
    s for s in scenarios() if s.path.name == "unknown-cause-pmol-fires.json" and s.profile == "us"
)
PATIENT = next(r["id"] for r in SCENARIO.data()[0] if r["resourceType"] == "Patient")


@pytest.fixture
def client(make_client):
    return make_client(**TIMEOUTS)


def timed_call(ehr: MockEhr, body: dict, deadline: float = TIMEOUTS["fhir_deadline"]) -> Answer:
    started = time.monotonic()
    answer = ehr.call(body)
    elapsed = time.monotonic() - started
    assert elapsed < deadline + MARGIN, f"took {elapsed:.1f} s"
    return answer


def test_stopped_server_is_412(client, tmp_path):
    stopped = start_fhir_server(tmp_path / "stderr.log")
    base = stopped.base
    stopped.stop()
    ehr = MockEhr(client, base)
    diagnostics = assert_outcome(timed_call(ehr, ehr.request("patient-view", PATIENT)), 412)
    assert "the patient record" in diagnostics and "laboratory results" in diagnostics
    assert "connection refused" in diagnostics or "cannot connect" in diagnostics


def test_server_slower_than_the_read_timeout_is_412_in_time(client, fhir_server):
    ehr = MockEhr(client, fhir_server.fault("delay=3000"))
    diagnostics = assert_outcome(timed_call(ehr, ehr.request("patient-view", PATIENT)), 412)
    assert "timed out" in diagnostics


def test_server_slower_than_the_deadline_is_412_in_time(make_client, fhir_server):
    """Read timeout longer than the deadline: the deadline alone must end the wait."""
    client = make_client(fhir_connect_timeout=0.5, fhir_read_timeout=5.0, fhir_deadline=1.0)
    ehr = MockEhr(client, fhir_server.fault("delay=3000"))
    answer = timed_call(ehr, ehr.request("patient-view", PATIENT), deadline=1.0)
    assert "deadline" in assert_outcome(answer, 412)


@pytest.mark.parametrize(
    ("fault", "named"),
    [
        ("status=500", "500 Internal Server Error"),
        ("status=503", "503 Service Unavailable"),  # retried, then given up
        ("status=401", "401 Unauthorized"),
        ("status=403", "403 Forbidden"),
        ("body=garbage", "not JSON"),
        ("body=truncated", "not JSON"),
    ],
)
def test_broken_server_is_412_naming_the_problem(client, fhir_server, fault, named):
    ehr = MockEhr(client, fhir_server.fault(fault))
    diagnostics = assert_outcome(timed_call(ehr, ehr.request("patient-view", PATIENT)), 412)
    assert f"Patient/{PATIENT}" in diagnostics and named in diagnostics


def test_unknown_patient_is_412_not_found(client, fhir_server):
    ehr = MockEhr(client, fhir_server.base)
    diagnostics = assert_outcome(
        timed_call(ehr, ehr.request("patient-view", "no-such-patient")), 412
    )
    assert "Patient/no-such-patient was not found" in diagnostics


def test_null_patient_prefetch_is_412(client, fhir_server):
    """``null`` means the EHR looked and found no patient: not fetched again."""
    ehr = MockEhr(client, fhir_server.base)
    answer = timed_call(ehr, ehr.request("patient-view", PATIENT, prefetch={"patient": None}))
    assert f"the client found no Patient/{PATIENT}" in assert_outcome(answer, 412)


def test_prefetch_of_another_patient_is_400(client, fhir_server):
    """Cards computed on another patient's record must never be shown."""
    ehr = MockEhr(client, fhir_server.base)
    other = ehr.prefetch("patient-view", "r1-pa-neuro-low-b12", fhir_server.base)
    answer = timed_call(ehr, ehr.request("patient-view", PATIENT, prefetch=other))
    assert "context.patientId" in assert_outcome(answer, 400)


@pytest.mark.parametrize(
    ("fault", "key", "named"),
    [
        (
            "type=MedicationAdministration,status=500",
            "medicationAdministrations",
            "MedicationAdministration search: the server answered 500 Internal Server Error",
        ),
        ("type=Condition,delay=3000", "conditions", "Condition search: timed out"),
    ],
)
def test_failing_optional_data_gives_the_cards_with_a_note(
    client, fhir_server, as_of, fault, key, named
):
    _, drafts = SCENARIO.data(as_of)
    good = MockEhr(client, fhir_server.base)
    prefetch = good.prefetch(SCENARIO.hook, PATIENT, fhir_server.base)
    expected = good.call(good.request(SCENARIO.hook, PATIENT, drafts=drafts, prefetch=prefetch))
    assert expected.status == 200 and len(expected.body["cards"]) == len(SCENARIO.expect) > 0

    ehr = MockEhr(client, fhir_server.fault(fault))
    sent = {k: prefetch[k] for k in ("patient", "labs")}
    answer = timed_call(ehr, ehr.request(SCENARIO.hook, PATIENT, drafts=drafts, prefetch=sent))

    assert answer.status == 200, answer.body
    note = f"{QUERY_BY_KEY[key].what}: not available ({named}); advice made without it"
    for card in answer.body["cards"]:
        assert note in card["detail"], card["detail"]
    assert [without_note(c, note) for c in normalise(answer.body)] == normalise(expected.body)


def test_failing_lab_search_is_412_naming_it(client, fhir_server):
    ehr = MockEhr(client, fhir_server.fault("type=Observation,status=404"))
    diagnostics = assert_outcome(timed_call(ehr, ehr.request("patient-view", PATIENT)), 412)
    assert (
        "laboratory results (Observation search: the server answered 404 Not Found)" in diagnostics
    )
    assert "the patient record" not in diagnostics  # the Patient read itself worked


@pytest.mark.parametrize(
    "fault",
    [
        "body=loop",  # every search's next link points back at itself
        "type=Observation,entries=10000",  # ten thousand (old, normal) Hb results
    ],
)
def test_looping_or_huge_searches_still_give_the_cards_in_time(
    make_client, fhir_server, as_of, fault
):
    """With the service's own limits (read timeout 5 s, deadline 8 s): the single-threaded test
    server answers the other searches only after writing ten thousand entries, which on a busy
    machine takes longer than the 1 s read timeout of the other tests here."""
    client = make_client()
    _, drafts = SCENARIO.data(as_of)
    good = MockEhr(client, fhir_server.base)
    expected = good.call(good.request(SCENARIO.hook, PATIENT, drafts=drafts))
    assert expected.status == 200 and expected.body["cards"]

    ehr = MockEhr(client, fhir_server.fault(fault))
    deadline = Settings().fhir_deadline
    answer = timed_call(ehr, ehr.request(SCENARIO.hook, PATIENT, drafts=drafts), deadline)
    assert answer.status == 200, answer.body
    assert normalise(answer.body) == normalise(expected.body)
