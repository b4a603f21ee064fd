"""Helpers for the store tests: what is in the tables, feedback entries, a fresh database."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from cds_b12.store.db import Database
from cds_b12.store.schema import Feedback, HookCall, IssuedCard

TABLES = {"hook_call": HookCall, "issued_card": IssuedCard, "feedback": Feedback}
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/x"
# A feedback time long past on the service's clock (the real one): a hold it starts for a
# period (an accepted card's 30 days, a critical card's 24 h, a snooze's up to 180 days:
# cds_b12/fatigue/policy.py) has run out, so the same patient's next call gets its card.
LONG_AGO = "2026-01-01T10:05:31Z"
REASONS = "https://example.org/cds-b12/override-reasons"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1/test")


@contextlib.contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty database on the ``TEST_POSTGRES_URL`` server: its URL. Dropped at the
    end, connections and all."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"cds_b12_test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {
            name: session.scalar(select(func.count()).select_from(table))
            for name, table in TABLES.items()
        }


def dump(db: Database) -> str:
    """Every row of every table as text; for SQLite also the raw bytes of its files."""
    parts = []
    with db.session() as session:
        names = [*TABLES, "alembic_version"]
        for name in names:
            for row in session.execute(text(f"SELECT * FROM {name}")):
                parts.append(f"{name}: {tuple(row)!r}")
    url = make_url(db.url)
    if url.get_backend_name() == "sqlite":
        for suffix in ("", "-wal"):
            path = Path(f"{url.database}{suffix}")
            if path.exists():
                parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def now_iso() -> str:
    """A feedback time of now on the service's clock: the hold it starts is still running."""
    return datetime.now(UTC).isoformat()


def accepted(card: str, suggestion: str, when: str = LONG_AGO) -> dict:
    return {
        "card": card,
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": suggestion}],
        "outcomeTimestamp": when,
    }


def overridden(
    card: str, code: str | None = None, comment: str | None = None, when: str = LONG_AGO
) -> dict:
    entry: dict = {"card": card, "outcome": "overridden", "outcomeTimestamp": when}
    reason: dict = {}
    if code:
        reason["reason"] = {"system": REASONS, "code": code}
    if comment:
        reason["userComment"] = comment
    if reason:
        entry["overrideReason"] = reason
    return entry


def new_card() -> str:
    return str(uuid4())
