"""Single use: each (scope, value) is accepted once until it expires.

For JWTs the scope is the issuer and the value the ``jti``; the same check serves any
other one-time value (a SMART ``state``, say) under a scope of its own. Two stores, both
shared by every worker and replica of a deployment:

- the service's own database (``cds_b12.store.single_use``), the default;
- Redis, when ``CDS_B12_REDIS_URL`` is set: faster, but a Redis without persistence
  forgets every pair when it restarts, so a token seen just before can be used once more.

Nothing is kept longer than ``MAX_KEEP`` seconds, the longest life the verifier lets a
token claim plus the clock leeway on both sides.
"""

from __future__ import annotations

import hashlib
import time
from typing import Protocol

import redis

MAX_KEEP = 3600 + 2 * 60  # verify.MAX_LIFETIME + 2 * verify.LEEWAY


class ReplayStoreDown(Exception):
    """The shared store cannot be reached: fail closed, not open."""


class ReplayStore(Protocol):
    def first_use(self, scope: str, value: str, expires_at: float) -> bool:
        """Record the pair until ``expires_at`` (epoch seconds, capped at ``MAX_KEEP`` from
        now); False if it was already recorded and has not expired. Raises
        ``ReplayStoreDown`` when the store cannot answer."""


def replay_key(scope: str, value: str) -> str:
    """Hashed: the value is caller-chosen text of any length; the NUL keeps ``("a", "bc")``
    and ``("ab", "c")`` apart."""
    return hashlib.sha256(f"{scope}\x00{value}".encode()).hexdigest()


def kept_until(expires_at: float, now: float) -> float:
    return min(expires_at, now + MAX_KEEP)


class RedisReplayStore:
    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def first_use(self, scope: str, value: str, expires_at: float) -> bool:
        now = time.time()
        until = kept_until(expires_at, now)
        try:
            return bool(
                self._redis.set(
                    "cds-b12:jti:" + replay_key(scope, value),
                    b"1",
                    nx=True,
                    exat=max(int(until) + 1, int(now) + 1),
                )
            )
        except redis.RedisError as exc:
            raise ReplayStoreDown(type(exc).__name__) from None
