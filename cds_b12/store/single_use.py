"""The single-use store in the service's database: what catches a replayed JWT when there
is no Redis, across gunicorn workers (SQLite) and replicas (PostgreSQL).

One statement decides: an insert that, on a key already present, only takes the row over
if it has expired. The database's unique key makes two racing workers agree: exactly one
of them gets the row back. Expired rows are deleted as calls go by, at most once a minute
per process, so the table holds about an hour of tokens.
"""

from __future__ import annotations

import threading
import time
from functools import cache

from sqlalchemy import Executable, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ..auth.replay import ReplayStoreDown, kept_until, replay_key
from .db import Database
from .schema import SingleUse

PURGE_EVERY = 60.0  # seconds


class DatabaseReplayStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._next_purge = 0.0
        self._lock = threading.Lock()

    def first_use(self, scope: str, value: str, expires_at: float) -> bool:
        now = time.time()
        params = {"key": replay_key(scope, value), "until": kept_until(expires_at, now), "now": now}
        try:
            with self.db.engine.begin() as conn:
                first = conn.execute(_claim(self.db.is_sqlite), params).first() is not None
            self._purge(now)
        except SQLAlchemyError as exc:
            raise ReplayStoreDown(type(exc).__name__) from None
        return first

    def _purge(self, now: float) -> None:
        with self._lock:
            if now < self._next_purge:
                return
            self._next_purge = now + PURGE_EVERY
        with self.db.engine.begin() as conn:
            conn.execute(delete(SingleUse).where(SingleUse.expires_at <= now))


@cache
def _claim(is_sqlite: bool) -> Executable:
    """Built once: insert the key, or take over its row only if that has expired; the key
    comes back only to the caller who got it."""
    dialect = sqlite if is_sqlite else postgresql
    insert = dialect.insert(SingleUse).values(key=bindparam("key"), expires_at=bindparam("until"))
    return insert.on_conflict_do_update(
        index_elements=[SingleUse.key],
        set_={"expires_at": insert.excluded.expires_at},
        where=SingleUse.expires_at <= bindparam("now"),
    ).returning(SingleUse.key)
