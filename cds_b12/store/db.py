"""Connections and migrations. One engine per process: a forked gunicorn worker must not
share its parent's connections."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from .prepared import Pooled, checkout

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 0x0CD5B12  # advisory lock id: one migrating process at a time


class Database:
    """``durable=False`` commits without waiting for the disk (SQLite ``synchronous=NORMAL``,
    PostgreSQL ``synchronous_commit=off``): an OS crash may lose the last moments' writes,
    never the database. Only for what may be lost so: the single-use store, and the audit
    (``audit_writer``: a record still queued is lost on a kill anyway)."""

    def __init__(self, url: str, *, durable: bool = True) -> None:
        self.url = url
        self.durable = durable
        self._pid: int | None = None
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._readers: Engine | None = None  # SQLite: where ``kept_reader`` connects
        self._kept = threading.local()  # each thread's (readers engine, its connection)
        self._lock = threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.url).get_backend_name() == "sqlite"

    @property
    def engine(self) -> Engine:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._engine = _create_engine(self.url, durable=self.durable)
                    self._sessions = sessionmaker(self._engine, expire_on_commit=False)
                    if _sqlite_file(self.url):  # (an in-memory one is each connection's own)
                        self._readers = _create_engine(self.url, durable=self.durable, pool=False)
                    self._pid = os.getpid()
        assert self._engine is not None
        return self._engine

    def kept_reader(self) -> Pooled | None:
        """On SQLite, this thread's connection for the hook call's read (``history``), kept
        from call to call: a check-out of the pool and its reset on the way back were 92 K
        of the read's 204 K instructions. None on PostgreSQL: its connections are the
        server's to count, so its reads stay within the pool's bounds (and its pre-ping).

        Each thread has its own (gunicorn's threads are a fixed set), made by its own engine
        without a pool (``NullPool``: no bound for the pool's other users to wait on), so a
        forked worker or a disposed store makes new ones. A read opens no transaction
        (SQLite's module begins one only for a write), so a kept connection holds no lock;
        one found lost is made again."""
        self.engine  # noqa: B018 - makes sure this process has its own engines
        readers = self._readers
        if readers is None:
            return None
        kept = getattr(self._kept, "reader", None)
        if kept is None or kept[0] is not readers or not kept[1].connection.is_valid:
            kept = self._kept.reader = (readers, checkout(readers))
        return kept[1]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        self.engine  # noqa: B018 - makes sure this process has its own engine
        assert self._sessions is not None
        with self._sessions.begin() as session:
            yield session

    def upgrade(self) -> bool:
        """Apply pending migrations; True if there were any.

        On PostgreSQL this runs under an advisory lock, so replicas may start
        together. At head it costs one query, so every start may call it.
        """
        with self.engine.begin() as conn:
            if MigrationContext.configure(conn).get_current_revision() == _head():
                return False
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_MIGRATION_LOCK})
                if MigrationContext.configure(conn).get_current_revision() == _head():
                    return False  # another replica migrated while we waited for the lock
            config = _config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            return True

    def dispose(self) -> None:
        if self._engine is not None and self._pid == os.getpid():
            self._engine.dispose()
            kept = getattr(self._kept, "reader", None)
            if kept is not None:  # this thread's; another thread's closes with its thread
                kept[1].connection.close()
        self._pid = self._engine = self._sessions = self._readers = None
        self._kept = threading.local()


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def _head() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def _create_engine(url: str, *, durable: bool = True, pool: bool = True) -> Engine:
    """``pool=False`` (SQLite): each connection made for its user, closed when it goes back."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if durable:
            return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        engine = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=5)

        @event.listens_for(engine, "connect")
        def _no_wait(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            dbapi_connection.execute("SET synchronous_commit TO off")
            dbapi_connection.autocommit = autocommit

        return engine
    if _sqlite_file(url):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
    engine = create_engine(
        url, connect_args={"timeout": 10}, **({} if pool else {"poolclass": NullPool})
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
        # FULL: a 200 for feedback means it is on disk
        cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    return engine


def _sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


def as_utc(value: datetime) -> datetime:
    """A stored time, aware: SQLite hands back naive datetimes, which were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
