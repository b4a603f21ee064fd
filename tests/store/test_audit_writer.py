"""The audit writer ``serve`` uses: off the request path, batched, never losing a record it
holds, and always ahead of the feedback that refers to it."""

from __future__ import annotations

import threading
import time

from cds_b12.api import create_app
from cds_b12.config import Settings
from cds_b12.store import audit_writer
from cds_b12.store.audit_writer import AuditWriter
from cds_b12.store.db import Database
from cds_b12.store.records import CallRecord
from cds_b12.store.report import report

from ..api.support import TODAY, scenario_named, scenario_request
from .support import accepted, counts


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


def test_a_full_queue_makes_the_caller_write_its_own_record(store, monkeypatch):
    monkeypatch.setattr(audit_writer, "MAX_QUEUED", 1)
    writer = AuditWriter(store)
    gate = threading.Event()
    real_write = writer._write

    def slow_write(batch):
        gate.wait(5)
        real_write(batch)

    writer._write = slow_write  # the writer thread is held up...
    writer.submit(_record(1))  # ...taken by the thread, which now waits
    deadline = time.monotonic() + 5
    while writer._queue.qsize():
        assert time.monotonic() < deadline
        time.sleep(0.005)
    writer.submit(_record(2))  # queued
    writer._write = real_write
    writer.submit(_record(3))  # the queue is full: written here and now
    assert counts(store)["hook_call"] == 1
    gate.set()
    writer.flush()
    assert counts(store)["hook_call"] == 3


def test_a_failing_store_is_logged_not_raised(logs):
    writer = AuditWriter(Database("postgresql+psycopg://postgres@127.0.0.1:1/nowhere"))
    writer.submit(_record(1))
    writer.flush()
    (error,) = [r for r in logs.records() if r["message"] == "audit not stored"]
    assert error["calls"] == 1 and error["hookInstance"] == ["hi-1"]


def test_feedback_right_after_the_call_finds_its_card(db_url):
    app = create_app(Settings(database_url=db_url), today=lambda: TODAY, background_audit=True)
    client = app.test_client()
    service, call = scenario_request(scenario_named("R1-start-neuro-loading/pa-neuro"))
    (card,) = client.post(f"/cds-services/{service}", json=call).get_json()["cards"]
    body = {"feedback": [accepted(card["uuid"], card["suggestions"][0]["uuid"])]}
    assert client.post(f"/cds-services/{service}/feedback", json=body).status_code == 200
    db = app.extensions["cds_b12"].db
    assert counts(db) == {"hook_call": 1, "issued_card": 1, "feedback": 1}
    (row,) = report(db)
    assert (row.issued, row.accepted) == (1, 1)  # linked: the card was written first
