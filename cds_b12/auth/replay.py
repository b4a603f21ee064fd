"""Replay protection: each (issuer, jti) is accepted once until the token expires.

In memory by default (one process); Redis when ``CDS_B12_REDIS_URL`` is set, so
that every worker and replica of one deployment shares what it has seen.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Protocol

import redis


class ReplayStoreDown(Exception):
    """The shared store cannot be reached: fail closed, not open."""


class ReplayStore(Protocol):
    def first_use(self, iss: str, jti: str, expires_at: float) -> bool:
        """Record the pair; False if it was already recorded and has not expired."""


def _key(iss: str, jti: str) -> str:
    # hashed: a jti is caller-chosen text, of any length
    return "cds-b12:jti:" + hashlib.sha256(f"{iss}\x00{jti}".encode()).hexdigest()


class MemoryReplayStore:
    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_use(self, iss: str, jti: str, expires_at: float) -> bool:
        key, now = _key(iss, jti), time.time()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            if self._seen.get(key, 0) > now:
                return False
            self._seen[key] = expires_at
            return True


class RedisReplayStore:
    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def first_use(self, iss: str, jti: str, expires_at: float) -> bool:
        try:
            return bool(
                self._redis.set(
                    _key(iss, jti),
                    b"1",
                    nx=True,
                    exat=max(int(expires_at) + 1, int(time.time()) + 1),
                )
            )
        except redis.RedisError as exc:
            raise ReplayStoreDown(type(exc).__name__) from None
