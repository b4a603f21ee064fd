"""The audit writer ``serve`` uses: off the request path, batched, never losing a record it
holds, surviving whatever a write raises, and never holding up feedback."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event

from cds_b12.api import create_app
from cds_b12.config import Settings
from cds_b12.store import audit_writer
from cds_b12.store.audit_writer import AuditWriter
from cds_b12.store.db import Database
from cds_b12.store.records import CallRecord
from cds_b12.store.report import report

from ..api.support import TODAY, scenario_named, scenario_request
from .support import UNREACHABLE, accepted, counts


def _record(n: int) -> CallRecord:
    card = {"uuid": f"card-{n}", "indicator": "info", "suggestions": [{"uuid": f"s-{n}"}]}
    return CallRecord(
        "b12-patient-view",
        "patient-view",
        f"hi-{n}",
        None,
        None,
        "k" * 64,
        "US",
        [("R11-maintenance-overdue", card)],
    )


def test_records_from_many_threads_are_all_written_once_flushed(store):
    writer = AuditWriter(store)
    threads = [
        threading.Thread(
            target=lambda i=i: [writer.submit(_record(i * 100 + j)) for j in range(50)]
        )
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.flush()
    assert counts(store) == {"hook_call": 400, "issued_card": 400, "feedback": 0}


def test_records_submitted_while_the_thread_waits_are_written_in_one_batch(store, monkeypatch):
    """A worker answering calls one after another: not one transaction per call."""
    monkeypatch.setattr(audit_writer, "LINGER_SECONDS", 0.5)  # ample: no race with the loop
    writer = AuditWriter(store)
    batches: list[int] = []
    real_write = writer._write
    writer._write = lambda batch: (batches.append(len(batch)), real_write(batch))
    for n in range(5):
        writer.submit(_record(n))
    assert writer.flush() is True
    assert batches == [5]
    assert counts(store)["hook_call"] == 5


def test_a_full_queue_makes_the_caller_write_its_own_record(store, monkeypatch):
    monkeypatch.setattr(audit_writer, "MAX_QUEUED", 1)
    writer = AuditWriter(store)
    gate = threading.Event()
    writing = threading.Event()
    real_write = writer._write

    def slow_write(batch):
        writing.set()
        gate.wait(5)
        real_write(batch)

    writer._write = slow_write  # the writer thread is held up...
    writer.submit(_record(1))  # ...taken by the thread, which now waits
    assert writing.wait(5)  # (past its wait for more records: LINGER_SECONDS)
    writer.submit(_record(2))  # queued
    writer._write = real_write
    writer.submit(_record(3))  # the queue is full: written here and now
    assert counts(store)["hook_call"] == 1
    gate.set()
    writer.flush()
    assert counts(store)["hook_call"] == 3


def test_a_failing_store_is_logged_not_raised(logs):
    writer = AuditWriter(Database(UNREACHABLE))
    writer.submit(_record(1))
    writer.flush()
    (error,) = [r for r in logs.records() if r["message"] == "audit not stored"]
    assert error["calls"] == 1 and error["hookInstance"] == ["hi-1"]


def serve_like_app(db_url: str):
    return create_app(Settings(database_url=db_url), today=lambda: TODAY, background_audit=True)


def test_feedback_right_after_the_call_counts_for_its_card(db_url):
    """Whichever is written first: here the card's row may follow the feedback."""
    app = serve_like_app(db_url)
    client = app.test_client()
    service, call = scenario_request(scenario_named("R1-start-neuro-loading/pa-neuro"))
    (card,) = client.post(f"/cds-services/{service}", json=call).get_json()["cards"]
    body = {"feedback": [accepted(card["uuid"], card["suggestions"][0]["uuid"])]}
    assert client.post(f"/cds-services/{service}/feedback", json=body).status_code == 200
    rt = app.extensions["cds_b12"]
    assert rt.audit.flush() is True
    assert counts(rt.db) == {"hook_call": 1, "issued_card": 1, "feedback": 1}
    (row,) = report(rt.db)
    assert (row.rule, row.issued, row.feedback, row.accepted) == (
        "R1-start-neuro-loading",
        1,
        1,
        1,
    )


def test_an_unexpected_error_in_a_write_is_logged_and_the_writer_goes_on(store, logs, monkeypatch):
    """Not only SQLAlchemy errors: a bug in a record (here a RuntimeError) loses that batch,
    with its traceback in the log, and nothing after it."""
    real = audit_writer.write_calls
    failures = iter([RuntimeError("a bad record")])

    def flaky(conn, batch):
        for failure in failures:
            raise failure
        real(conn, batch)

    monkeypatch.setattr(audit_writer, "write_calls", flaky)
    writer = AuditWriter(store)
    writer.submit(_record(1))
    assert writer.flush(timeout=10) is True
    writer.submit(_record(2))
    assert writer.flush(timeout=10) is True
    assert counts(store)["hook_call"] == 1
    (error,) = [r for r in logs.records() if r["message"] == "audit not stored"]
    assert error["error"] == "RuntimeError" and "a bad record" in error["exception"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_writer_thread_that_died_is_started_again(store, logs):
    writer = AuditWriter(store)
    real_write = writer._write

    def die(batch):
        writer._write = real_write
        raise SystemExit  # the thread ends, silently, as on any uncaught BaseException

    writer._write = die
    writer.submit(_record(1))  # lost with the thread that took it
    deadline = time.monotonic() + 10
    while writer._thread is not None and writer._thread.is_alive():
        assert time.monotonic() < deadline, "the writer thread did not stop"
        time.sleep(0.01)
    writer.submit(_record(2))
    assert writer.flush(timeout=10) is True
    assert counts(store)["hook_call"] == 1
    assert [r["level"] for r in logs.records() if "thread had stopped" in r["message"]] == ["error"]


def test_flush_gives_up_after_its_timeout(store):
    writer = AuditWriter(store)
    gate = threading.Event()
    real_write = writer._write
    writer._write = lambda batch: (gate.wait(30), real_write(batch))
    writer.submit(_record(1))
    started = time.monotonic()
    assert writer.flush(timeout=0.5) is False
    assert time.monotonic() - started < 5
    gate.set()
    assert writer.flush(timeout=10) is True
    assert counts(store)["hook_call"] == 1


def test_feedback_returns_while_the_audit_writer_is_stuck_or_dead(db_url, monkeypatch):
    """The writer thread died on a non-database error (or is stuck on a slow store): every
    feedback request used to wait for it, for ever."""
    gate = threading.Event()
    real = audit_writer.write_calls
    refused: list[int] = []  # records the broken writer has dropped

    def broken(conn, batch):
        if not gate.is_set():
            refused.append(len(batch))
            raise KeyError("uuid")
        real(conn, batch)

    monkeypatch.setattr(audit_writer, "write_calls", broken)
    app = serve_like_app(db_url)
    service, call = scenario_request(scenario_named("R1-start-neuro-loading/pa-neuro"))
    client = app.test_client()
    cards = [client.post(f"/cds-services/{service}", json=call).get_json()["cards"][0]]
    cards.append(client.post(f"/cds-services/{service}", json=call).get_json()["cards"][0])
    answers: list[int] = []

    def send_feedback() -> None:
        body = {"feedback": [accepted(c["uuid"], c["suggestions"][0]["uuid"]) for c in cards]}
        answers.append(
            app.test_client().post(f"/cds-services/{service}/feedback", json=body).status_code
        )

    sender = threading.Thread(target=send_feedback, daemon=True)
    sender.start()
    sender.join(20)
    assert answers == [200], "feedback waited on the audit writer"
    # the writer gathers a batch for a few ms: open the gate only once it has dropped both
    deadline = time.monotonic() + 10
    while sum(refused) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert sum(refused) == 2
    gate.set()
    client.post(f"/cds-services/{service}", json=call)  # the writer still works
    assert app.extensions["cds_b12"].audit.flush(timeout=10) is True
    assert counts(app.extensions["cds_b12"].db) == {"hook_call": 1, "issued_card": 1, "feedback": 2}


def test_audit_writes_do_not_wait_for_the_disk_but_feedback_still_does(store):
    """A queued record is lost on a kill anyway; an OS crash may lose the last ones written.
    A feedback 200 still means on disk: the store's own connections are unchanged."""
    writer = AuditWriter(store)
    query = "PRAGMA synchronous" if store.is_sqlite else "SHOW synchronous_commit"
    with writer.db.engine.connect() as conn:
        relaxed = conn.exec_driver_sql(query).scalar()
    with store.engine.connect() as conn:
        strict = conn.exec_driver_sql(query).scalar()
    assert (relaxed, strict) == ((1, 2) if store.is_sqlite else ("off", "on"))
    writer.submit(_record(1))
    assert writer.flush() is True
    assert counts(store)["hook_call"] == 1  # the same database all the same


def _checkouts(writer: AuditWriter) -> list:
    """The DBAPI connections the writer's pool hands out, in order."""
    handed: list = []
    event.listen(writer.db.engine, "checkout", lambda dbapi, _record, _proxy: handed.append(dbapi))
    return handed


def test_the_writer_thread_keeps_one_connection_from_batch_to_batch(store):
    writer = AuditWriter(store)
    handed = _checkouts(writer)
    for n in range(3):
        writer.submit(_record(n))
        assert writer.flush() is True
    assert len(handed) == 1
    assert counts(store)["hook_call"] == 3


def test_a_kept_connection_found_lost_is_replaced_and_the_batch_written(store, logs):
    """As the pool's pre-ping found a connection lost before a batch, the writer finds it
    lost in the batch: the batch goes again on a new connection, nothing is lost."""
    writer = AuditWriter(store)
    handed = _checkouts(writer)
    writer.submit(_record(1))
    assert writer.flush() is True
    if store.is_sqlite:
        handed[0].close()
    else:  # the server ends it, as on a restart
        with store.engine.connect() as conn:
            pid = conn.exec_driver_sql(f"SELECT pg_terminate_backend({handed[0].info.backend_pid})")
            assert pid.scalar() is True
    writer.submit(_record(2))
    assert writer.flush() is True
    assert len(handed) == 2
    assert counts(store)["hook_call"] == 2
    assert not [r for r in logs.records() if r["message"] == "audit not stored"]


def test_an_idle_writer_gives_its_connection_back(store, monkeypatch):
    monkeypatch.setattr(audit_writer, "IDLE_SECONDS", 0.05)
    writer = AuditWriter(store)
    writer.submit(_record(1))
    assert writer.flush() is True
    deadline = time.monotonic() + 10
    while writer.db.engine.pool.checkedout():
        assert time.monotonic() < deadline, "the idle writer kept its connection"
        time.sleep(0.01)
    writer.submit(_record(2))
    assert writer.flush() is True
    assert counts(store)["hook_call"] == 2
