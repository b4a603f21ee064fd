"""The audit off the request path: a writer thread per process, writing calls in batches.

A hook call only puts its record on a bounded queue; the thread commits what
has gathered in one transaction, so workers do not queue behind SQLite's single
write lock. After the first record it waits ``LINGER_SECONDS`` for others: a batch of one
is the dearest kind, and a worker answering calls back to back would otherwise write
almost every call in a batch of its own. A full queue makes the request write its own
record: slower, never lost.
Feedback does not wait for the queue: it may reach another worker or replica anyway,
and the store matches it to its card whichever is written first (``records``).

Whatever a write raises is logged and the thread goes on; should the thread die all
the same, the next record starts another. The queue is drained at shutdown, for at
most ``FLUSH_SECONDS``. A record still queued when the process is killed outright is
lost; it was never acknowledged to anyone. So the writes do not wait for the disk either
(``Database(durable=False)``): an OS crash may lose the last moments' records, as a kill
loses the queued ones, never the database, and the next durable commit (feedback) puts
every earlier one on disk with it, so no feedback outlives the card it was matched to.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import Pool

from .db import Database
from .prepared import Pooled, checkout, commit_pooled
from .records import CallRecord, record_calls, write_calls

log = logging.getLogger("cds_b12.audit")
MAX_QUEUED = 10_000
MAX_BATCH = 200
# judgement: a batch costs about as much CPU as six of its rows (the transaction, the
# statements), so the thread waits this long for more. A row reaches the store that much
# later: feedback does not mind (``records``); a second call of the same hookInstance or
# encounter within that time may show a card the first one showed, as it may already
LINGER_SECONDS = 0.01
FLUSH_SECONDS = 5.0
# the thread gives its connection back after this long with nothing to write: an idle
# process (or a test's writer) holds none, and a busy one keeps it (``KeptConnection``)
IDLE_SECONDS = 5.0


class AuditWriter:
    """``background=False`` writes each record in the request instead (tests, the CLI)."""

    def __init__(self, db: Database, *, background: bool = True) -> None:
        # its own connections, committing without waiting for the disk (``durable=False``)
        self.db = Database(db.url, durable=False)
        self.background = background
        self._queue: queue.Queue[CallRecord | threading.Event] = queue.Queue(MAX_QUEUED)
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # observers for the metrics (api/metrics.py): the queue depth, records not stored
        self.on_depth: Callable[[int], object] = _ignore
        self.on_failure: Callable[[int], object] = _ignore
        self._depth_lock = threading.Lock()
        self._local = threading.local()  # the writer thread's ``KeptConnection``

    def submit(self, record: CallRecord) -> None:
        if not self.background:
            self._write([record])
            return
        self._ensure_thread()
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self._write([record])  # back-pressure instead of loss
        self._report_depth()

    def flush(self, timeout: float = FLUSH_SECONDS) -> bool:
        """Wait until every record submitted so far is written (or reported as failed);
        False if that took longer than ``timeout`` seconds."""
        if not self.background or self._pid != os.getpid():
            return True
        self._ensure_thread()
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid != os.getpid():
                # a forked worker starts with its parent's queue object but no thread
                self._queue = queue.Queue(MAX_QUEUED)
                atexit.register(self.flush)
                self._pid = os.getpid()
            elif self._thread is not None and self._thread.is_alive():
                return
            else:
                log.error("audit writer thread had stopped; starting another")
            self._thread = threading.Thread(target=self._run, name="cds-b12-audit", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        kept = self._local.kept = KeptConnection(self.db)
        try:
            while True:
                self._run_batch(kept)
        finally:
            kept.close()

    def _run_batch(self, kept: KeptConnection) -> None:
        try:
            batch = [self._queue.get(timeout=IDLE_SECONDS)]
        except queue.Empty:
            kept.close()
            batch = [self._queue.get()]
        if isinstance(batch[0], CallRecord):
            time.sleep(LINGER_SECONDS)  # the calls answered meanwhile join this batch
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        records = [item for item in batch if isinstance(item, CallRecord)]
        try:
            if records:
                self._write(records)
        finally:
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()
            self._report_depth()

    def _report_depth(self) -> None:
        # read and reported under one lock: the last report is of the latest depth
        with self._depth_lock:
            self.on_depth(self._queue.qsize())

    def _write(self, batch: list[CallRecord]) -> None:
        """On the writer thread's kept connection; a request writing its own record (a full
        queue, ``background=False``) checks one out of the pool."""
        kept: KeptConnection | None = getattr(self._local, "kept", None)
        try:
            if kept is not None:
                kept.write(batch)
            else:
                record_calls(self.db, batch)
        except Exception as exc:  # a bad record must not stop the thread or fail a call
            self.on_failure(len(batch))
            log.error(
                "audit not stored",
                # the database being down needs no traceback; anything else is a bug
                exc_info=not isinstance(exc, SQLAlchemyError),
                extra={
                    "fields": {
                        "error": type(exc).__name__,
                        "calls": len(batch),
                        "hookInstance": [r.hook_instance for r in batch[:10]],
                    }
                },
            )


class KeptConnection:
    """The writer thread's connection, kept from one batch to the next: checking one out of
    the pool for each batch and resetting it on its way back (with PostgreSQL's pre-ping, a
    round trip) was 77 K of a one-record batch's 393 K instructions on SQLite, 239 K of
    1.53 M on PostgreSQL. Between batches no transaction is open, so it holds no lock. Used
    by one thread only, in the process that made it (``AuditWriter`` starts a thread per
    process).

    What the pool's pre-ping did at each check-out is done here after the fact: a batch
    whose statements find the kept connection lost (the database restarted) is written again
    on a new one. Any failure gives the connection back, so the next batch starts clean."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: Connection | Pooled | None = None
        self._pool: Pool | None = None  # the pool it came from

    def write(self, calls: list[CallRecord]) -> None:
        """``record_calls`` on this connection: one transaction, committed or undone."""
        reused = self._conn is not None
        conn = self._connection()
        try:
            try:
                write_calls(conn, calls)
            except DBAPIError as exc:
                if not (reused and exc.connection_invalidated):
                    raise
                self.close()  # nothing of it was committed: the batch again, on a new one
                conn = self._connection()
                write_calls(conn, calls)
            if isinstance(conn, Pooled):
                commit_pooled(conn)
            else:
                conn.commit()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Back to the pool (whose reset undoes whatever was not committed); closed instead
        if the engine was disposed meanwhile (its old pool would leave it open)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self.db.engine.pool is not self._pool:
            conn.invalidate()
        if isinstance(conn, Pooled):
            conn.connection.close()
        else:
            conn.close()

    def _connection(self) -> Connection | Pooled:
        if self._conn is None:
            engine = self.db.engine
            self._pool = engine.pool
            # as ``record_calls`` writes: SQLite on a ``Pooled`` one, PostgreSQL through Core
            self._conn = checkout(engine) if engine.dialect.name == "sqlite" else engine.connect()
        return self._conn


def _ignore(_: int) -> None:
    pass
