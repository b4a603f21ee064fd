"""A store that fails after start: feedback gets 503 so the EHR sends it again; a hook call
still gets its cards, and the missing audit is logged as an error."""

from __future__ import annotations

import dataclasses

import pytest

from cds_b12.store.audit_writer import AuditWriter
from cds_b12.store.db import Database

from ..api.support import assert_operation_outcome, make_app, scenario_named, scenario_request
from .support import UNREACHABLE, counts, new_card, overridden

FEEDBACK = "/cds-services/b12-patient-view/feedback"


@pytest.fixture
def app(db_url):
    return make_app(database_url=db_url)


def store_goes_down(app) -> Database:
    """Swap the running app's store for one that cannot be reached; returns the real one."""
    rt = app.extensions["cds_b12"]
    down = Database(UNREACHABLE)
    app.extensions["cds_b12"] = dataclasses.replace(
        rt, db=down, audit=AuditWriter(down, background=rt.audit.background)
    )
    return rt.db


def store_comes_back(app, db: Database) -> None:
    rt = app.extensions["cds_b12"]
    app.extensions["cds_b12"] = dataclasses.replace(
        rt, db=db, audit=AuditWriter(db, background=rt.audit.background)
    )


def test_feedback_is_503_until_the_store_is_back(app, logs):
    real = store_goes_down(app)
    body = {"feedback": [overridden(new_card(), code="patient-declined")]}
    diagnostics = assert_operation_outcome(app.test_client().post(FEEDBACK, json=body), 503)
    assert "send it again" in diagnostics
    (error,) = [r for r in logs.records() if r["level"] == "error"]
    assert error["message"] == "feedback not stored" and error["error"] == "OperationalError"
    assert "exception" not in error  # a one-line error, not a traceback
    assert logs.requests()[-1]["status"] == 503
    assert counts(real)["feedback"] == 0

    store_comes_back(app, real)  # the EHR sends it again
    assert app.test_client().post(FEEDBACK, json=body).status_code == 200
    assert counts(real)["feedback"] == 1


def test_a_hook_call_still_gets_its_cards_and_the_lost_audit_is_logged(app, logs):
    real = store_goes_down(app)
    service, request = scenario_request(scenario_named("R1-start-neuro-loading/pa-neuro"))
    response = app.test_client().post(f"/cds-services/{service}", json=request)
    assert response.status_code == 200
    assert [c["indicator"] for c in response.get_json()["cards"]] == ["critical"]
    (error,) = [r for r in logs.records() if r["level"] == "error"]
    assert error["message"] == "audit not stored"
    assert error["error"] == "OperationalError"
    assert error["hookInstance"] == [request["hookInstance"]] and error["calls"] == 1
    assert "exception" not in error
    line = logs.requests()[-1]
    assert (line["status"], line["cards"]) == (200, 1)
    assert counts(real) == {"hook_call": 0, "issued_card": 0, "feedback": 0}
