"""Render layer: card and suggestion ids, random (version 4) UUIDs, 256 per read of the
OS's randomness.

``uuid4()`` reads ``os.urandom`` for every id: a system call that lets go of the GIL and
waits to get it back, three or more times per hook call, which under gunicorn's threads
queues each call behind the others. Here one read serves 256 ids, as unpredictable as
``uuid4``'s. Each thread draws from a pool of its own, and a forked process (a gunicorn
worker) never from its parent's: the pool is dropped in the child at every fork.
"""

from __future__ import annotations

import os
import threading

POOL_SIZE = 256


class _Pool(threading.local):
    def __init__(self) -> None:
        self.ids: list[str] = []


_pool = _Pool()


def new_id() -> str:
    """A random UUID (version 4, RFC 9562 variant) as text, as ``str(uuid.uuid4())`` writes it."""
    ids = _pool.ids
    if not ids:
        ids += _fresh(POOL_SIZE)
    return ids.pop()


def _fresh(n: int) -> list[str]:
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])  # variant 10xx
    h = raw.hex()
    hexes = (h[i : i + 32] for i in range(0, len(h), 32))
    return [f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}" for x in hexes]


def _forget() -> None:
    global _pool
    _pool = _Pool()


os.register_at_fork(after_in_child=_forget)
