"""On SQLite the history read runs on a connection its thread keeps (``Database.kept_reader``):
one per thread and per process, seeing every write committed since, made again when lost or
when the store is disposed. On PostgreSQL it goes through the pool."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

from cds_b12.store.db import Database
from cds_b12.store.history import history
from cds_b12.store.records import CallRecord, record_calls

KEY = "k" * 64


def _call(n: int) -> CallRecord:
    card = {"uuid": f"card-{n}", "indicator": "info"}
    return CallRecord(
        "b12-patient-view", "patient-view", "hi-1", None, None, KEY, "US", [("R1", card)]
    )


def _read(db) -> int:
    since = datetime.now(UTC) - timedelta(days=1)
    found = history(
        db,
        patient_key=KEY,
        issuer=None,
        tenant=None,
        hook_instance="hi-1",
        encounter=None,
        since=since,
    )
    return len(found)


def test_a_thread_reads_on_one_connection_and_sees_each_new_write(store):
    first = store.kept_reader()
    for n in range(3):
        record_calls(store, [_call(n)])
        assert _read(store) == n + 1
    if store.is_sqlite:
        assert first is not None and store.kept_reader() is first
    else:
        assert first is None and store.engine.pool.checkedout() == 0


def test_each_thread_has_its_own(store):
    record_calls(store, [_call(1)])
    mine = store.kept_reader()
    theirs = []

    def read() -> None:
        theirs.append((store.kept_reader(), _read(store)))

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    ((other, found),) = theirs
    assert found == 1
    assert other is None if mine is None else other is not mine


def test_a_lost_or_disposed_one_is_made_again(store):
    record_calls(store, [_call(1)])
    if not store.is_sqlite:
        assert store.kept_reader() is None
        return
    lost = store.kept_reader()
    lost.connection.invalidate()
    assert _read(store) == 1
    again = store.kept_reader()
    assert again is not lost and again.connection.is_valid
    store.dispose()
    assert store.kept_reader() is not again and _read(store) == 1


def test_a_forked_process_reads_on_a_connection_of_its_own(store):
    record_calls(store, [_call(1)])
    assert _read(store) == 1
    parent = store.kept_reader()
    pid = os.fork()
    if pid == 0:  # the child: its answer is its exit status
        status = 1
        try:
            mine = store.kept_reader()
            ok = (mine is None) == (parent is None) and (mine is None or mine is not parent)
            status = 0 if ok and _read(store) == 1 else 1
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.kept_reader() is parent and _read(store) == 1


def test_an_in_memory_sqlite_store_keeps_none():
    """Each connection to ``sqlite://`` is a database of its own: the pool's is the store."""
    assert Database("sqlite://").kept_reader() is None
