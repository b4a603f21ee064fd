"""The audit off the request path: a writer thread per process, writing calls in batches.

A hook call only puts its record on a bounded queue; the thread commits what
has gathered in one transaction, so workers do not queue behind SQLite's single
write lock. The queue is drained at shutdown and before any feedback is stored,
so feedback always finds the cards it is about. A full queue makes the request
write its own record: slower, never lost. A record still queued when the
process is killed outright is lost; it was never acknowledged to anyone.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from .db import Database
from .records import CallRecord, record_calls

log = logging.getLogger("cds_b12.audit")
MAX_QUEUED = 10_000
MAX_BATCH = 200


class AuditWriter:
    """``background=False`` writes each record in the request instead (tests, the CLI)."""

    def __init__(self, db: Database, *, background: bool = True) -> None:
        self.db = db
        self.background = background
        self._queue: queue.Queue[CallRecord] = queue.Queue(MAX_QUEUED)
        self._pid: int | None = None
        self._lock = threading.Lock()
        # observers for the metrics (api/metrics.py): the queue depth, records not stored
        self.on_depth: Callable[[int], object] = _ignore
        self.on_failure: Callable[[int], object] = _ignore
        self._depth_lock = threading.Lock()

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

    def flush(self) -> None:
        """Wait until every record submitted so far is committed (or reported as failed)."""
        if self._pid == os.getpid():
            self._queue.join()

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            # a forked worker starts with its parent's queue object but no thread
            self._queue = queue.Queue(MAX_QUEUED)
            threading.Thread(target=self._run, name="cds-b12-audit", daemon=True).start()
            atexit.register(self.flush)
            self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()
                self._report_depth()

    def _report_depth(self) -> None:
        # read and reported under one lock: the last report is of the latest depth
        with self._depth_lock:
            self.on_depth(self._queue.qsize())

    def _write(self, batch: list[CallRecord]) -> None:
        try:
            record_calls(self.db, batch)
        except SQLAlchemyError as exc:
            self.on_failure(len(batch))
            log.error(
                "audit not stored",
                extra={
                    "fields": {
                        "error": type(exc).__name__,
                        "calls": len(batch),
                        "hookInstance": [r.hook_instance for r in batch[:10]],
                    }
                },
            )


def _ignore(_: int) -> None:
    pass
