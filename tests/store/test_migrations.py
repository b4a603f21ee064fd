"""The schema is made by the Alembic migrations: on start, by ``cds-b12 db upgrade``, once."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from cds_b12.cli import main
from cds_b12.store.db import MIGRATIONS, Database
from cds_b12.store.schema import Base

from .support import CDS_B12, UNREACHABLE, free_port, service_env

TABLES = {"hook_call", "issued_card", "feedback"}
ERROR = "cds-b12: error: store unavailable: "


def head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    revision = ScriptDirectory.from_config(config).get_current_head()
    assert revision
    return revision


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_upgrade_makes_the_tables_once_and_records_the_head(db_url):
    db = Database(db_url)
    assert not TABLES & set(inspect(db.engine).get_table_names())
    assert current_revision(db) is None

    assert db.upgrade() is True
    assert TABLES | {"alembic_version"} <= set(inspect(db.engine).get_table_names())
    assert current_revision(db) == head()

    assert db.upgrade() is False
    assert Database(db_url).upgrade() is False  # another process, same answer
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
            head()
        ]


def test_the_migrated_schema_is_exactly_the_models(store):
    """A change to schema.py without its migration shows up here."""
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_cli_db_upgrade_says_what_it_did(db_url, monkeypatch, capsys):
    monkeypatch.setenv("CDS_B12_DATABASE_URL", db_url)
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr() == ("store migrated to the current schema\n", "")
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr() == ("store already current\n", "")
    assert current_revision(Database(db_url)) == head()


@pytest.mark.parametrize(
    "argv",
    [["db", "upgrade"], ["report"], ["report", "--json"], ["purge", "--older-than", "30"]],
    ids=" ".join,
)
def test_an_unreachable_store_is_one_line_and_exit_2(argv, monkeypatch, capsys):
    monkeypatch.setenv("CDS_B12_DATABASE_URL", UNREACHABLE)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(ERROR) and len(line) > len(ERROR), err
    assert "Traceback" not in err


def test_serve_with_an_unreachable_store_exits_2_without_a_traceback(tmp_path):
    env = service_env(database_url=UNREACHABLE, data_dir=str(tmp_path))
    proc = subprocess.run(
        [CDS_B12, "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1].startswith(ERROR), proc.stderr
    assert "Traceback" not in proc.stderr


def _upgrades_racing(url: str) -> list[bool]:
    """Two replicas start on an empty database at the same moment: both read "no schema",
    then queue on the migration lock (held here until both wait on it)."""
    holder = Database(url)
    results: list[bool] = []
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            results.append(Database(url).upgrade())
        except BaseException as exc:
            errors.append(exc)

    with holder.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": 0x0CD5B12})
        threads = [threading.Thread(target=replica) for _ in range(2)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while (
            conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar()
            < 2
        ):
            assert time.monotonic() < deadline, "the replicas never queued on the lock"
            time.sleep(0.02)
        conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": 0x0CD5B12})
        conn.commit()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors, errors
    assert current_revision(holder) == head()
    return results


def test_replicas_starting_together_both_come_up(pg_url):
    assert len(_upgrades_racing(pg_url)) == 2


def test_only_the_replica_that_migrated_says_so(pg_url):
    assert sorted(_upgrades_racing(pg_url)) == [False, True]
