"""Helpers for the store tests: what is in the tables, feedback entries, real servers."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from cds_b12.store.db import Database
from cds_b12.store.schema import Feedback, HookCall, IssuedCard

TABLES = {"hook_call": HookCall, "issued_card": IssuedCard, "feedback": Feedback}
CDS_B12 = str(Path(sys.executable).parent / "cds-b12")
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/x"
WHEN = "2026-01-01T10:05:31Z"
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


def accepted(card: str, suggestion: str, when: str = WHEN) -> dict:
    return {
        "card": card,
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": suggestion}],
        "outcomeTimestamp": when,
    }


def overridden(
    card: str, code: str | None = None, comment: str | None = None, when: str = WHEN
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(**settings: str) -> dict[str, str]:
    """This process's environment without any CDS_B12_* variable, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_B12_")}
    env.update({f"CDS_B12_{k.upper()}": v for k, v in settings.items()})
    return env


class Server:
    """A real ``cds-b12 serve``: gunicorn's master and its workers, in a process group of
    their own so that all of them can be killed at once."""

    def __init__(
        self, env: dict[str, str], log: Path, workers: int = 2, port: int | None = None
    ) -> None:
        self.env = env
        self.log = log
        self.workers = workers
        self.port = port  # kept across restarts once chosen
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        return self.launch().wait_ready()

    def launch(self) -> Server:
        """Start without waiting, so that several servers can start at once."""
        self.port = self.port or free_port()
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [CDS_B12, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 30) -> Server:
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"cds-b12 serve did not become ready:\n{self.output()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL to the master and every worker; returns once nothing listens on the port."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.base}/healthz", timeout=0.5)
            except requests.ConnectionError:
                return
            except requests.Timeout:
                pass
            time.sleep(0.05)
        raise AssertionError("a killed server still answers: a worker survived")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def post(
        self, path: str, body: object, session: requests.Session | None = None
    ) -> requests.Response:
        return (session or requests).post(f"{self.base}{path}", json=body, timeout=30)


def new_card() -> str:
    return str(uuid4())
