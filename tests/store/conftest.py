"""Store fixtures: every test runs once on SQLite (a temporary file) and once on PostgreSQL.

PostgreSQL is never skipped. The session gets a database of its own, made on the
server named by ``TEST_POSTGRES_URL`` (default: the local ``test`` database) and
dropped at the end; each test gets an empty schema of its own in it, reached
through ``search_path``, so a test sees exactly the tables it made.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, text

from cds_b12.store import db as db_module
from cds_b12.store.db import Database

from ..serving import ServeProcess, service_env
from .support import fresh_pg_database


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database for this session: its URL. Dropped at the end, connections and all."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def pg_admin(pg_database: str) -> Iterator[Engine]:
    """An autocommit connection pool to the session's database, for making schemas."""
    engine = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Engine]]:
    """Every engine the service makes during a test, closed when the test ends (the app and
    the CLI keep theirs for the life of the process)."""
    made: list[Engine] = []
    real = db_module._create_engine

    def tracking(url: str, **options: bool) -> Engine:
        engine = real(url, **options)
        made.append(engine)
        return engine

    monkeypatch.setattr(db_module, "_create_engine", tracking)
    yield made
    for engine in made:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path, engines: list[Engine]) -> Iterator[str]:
    """An empty store: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        for engine in engines:
            engine.dispose()
    else:
        yield from _pg_schema(request, engines)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest, engines: list[Engine]) -> Iterator[str]:
    """An empty PostgreSQL store, for what only PostgreSQL does."""
    yield from _pg_schema(request, engines)


def _pg_schema(request: pytest.FixtureRequest, engines: list[Engine]) -> Iterator[str]:
    admin: Engine = request.getfixturevalue("pg_admin")
    base: str = request.getfixturevalue("pg_database")
    schema = f"t_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{base}?options={quote(f'-csearch_path={schema}')}"
    for engine in engines:
        engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def store(db_url: str) -> Database:
    """The store, migrated to the current schema."""
    db = Database(db_url)
    db.upgrade()
    return db


@pytest.fixture
def start_server(db_url: str, tmp_path) -> Iterator[Callable[..., ServeProcess]]:
    """Starts real ``cds-b12 serve`` processes on the test's store, with any other settings
    given; kills them all at the end, whatever happened (before the store itself is dropped)."""
    started: list[ServeProcess] = []

    def start(workers: int = 2, **settings: str) -> ServeProcess:
        env = service_env(database_url=db_url, data_dir=str(tmp_path / "data"), **settings)
        server = ServeProcess(env, tmp_path / "serve.log", workers=workers)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.kill()
