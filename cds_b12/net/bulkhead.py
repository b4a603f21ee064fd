"""A bulkhead for fallback fetches: a slow FHIR server can hold only a few of a worker's
threads, so calls with full prefetch never wait behind it.

A hook call that must fetch takes a slot for its FHIR server (its origin) for
as long as it fetches. Per process, at most ``per_server`` calls fetch from one
server at once; at most as many again wait for that server; and at most
``total`` calls fetch or wait at all. A call that cannot even wait gets no
slot at once; one that waits gets none if its deadline passes first. Either
way the caller answers 412 straight away instead of queueing past its deadline.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Hashable, Iterator
from contextlib import contextmanager


class NoSlot(Exception):
    """No slot: ``str(exc)`` says why, for the 412."""


class Bulkhead:
    def __init__(self, *, per_server: int, total: int) -> None:
        self.per_server = per_server
        self.total = total
        self._cond = threading.Condition()
        self._fetching: Counter[Hashable] = Counter()
        self._waiting: Counter[Hashable] = Counter()
        self._admitted = 0

    @contextmanager
    def slot(self, server: Hashable, deadline: float) -> Iterator[None]:
        """Hold a slot for ``server`` while the block runs; ``NoSlot`` if none by ``deadline``
        (``time.monotonic``)."""
        self._acquire(server, deadline)
        try:
            yield
        finally:
            with self._cond:
                self._fetching[server] -= 1
                self._admitted -= 1
                if not self._fetching[server]:
                    del self._fetching[server]  # keeps the counter to servers in use
                self._cond.notify_all()

    def _acquire(self, server: Hashable, deadline: float) -> None:
        with self._cond:
            if self._admitted >= self.total:
                raise NoSlot(f"the service is already fetching for {self.total} calls")
            if self._fetching[server] >= self.per_server:
                if self._waiting[server] >= self.per_server:
                    raise NoSlot(
                        f"{self.per_server * 2} calls are already fetching from or waiting"
                        " for this FHIR server"
                    )
                self._admitted += 1
                self._waiting[server] += 1
                try:
                    while self._fetching[server] >= self.per_server:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            self._admitted -= 1
                            raise NoSlot("no slot for this FHIR server within the deadline")
                        self._cond.wait(left)
                finally:
                    self._waiting[server] -= 1
                    if not self._waiting[server]:
                        del self._waiting[server]
            else:
                self._admitted += 1
            self._fetching[server] += 1

    def busy(self) -> dict[str, int]:
        """Calls fetching and waiting, for the health endpoint and tests."""
        with self._cond:
            return {
                "fetching": sum(self._fetching.values()),
                "waiting": sum(self._waiting.values()),
            }
