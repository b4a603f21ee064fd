"""The schema is made by the Alembic migrations: on start, by ``cds-b12 db upgrade``, once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select, text

from cds_b12.cli import main
from cds_b12.store.db import MIGRATIONS, Database, _config
from cds_b12.store.history import history
from cds_b12.store.schema import Base, Feedback, HookCall, IssuedCard

from ..serving import refused_serve, service_env
from .support import UNREACHABLE

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
    proc = refused_serve(env)
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


def test_0005_gives_each_answer_that_counts_its_card_s_patient(db_url):
    """Feedback stored before 0005 still holds its card back: the history finds it by index."""
    db = Database(db_url)
    with db.engine.begin() as conn:
        config = _config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
    shown = datetime.now(UTC) - timedelta(days=2)
    with db.engine.begin() as conn:
        (call,) = conn.execute(
            insert(HookCall)
            .values(
                received_at=shown,
                service_id="b12-patient-view",
                hook="patient-view",
                hook_instance="i1",
                patient_key="p1",
                profile="us",
            )
            .returning(HookCall.id)
        ).scalars()
        conn.execute(
            insert(IssuedCard).values(
                uuid="c1", call_id=call, rule_id="R1", indicator="info", suggestion_uuids=[]
            )
        )
        answer = {
            "received_at": shown,
            "service_id": "b12-patient-view",
            "outcome": "overridden",
            "accepted_suggestions": [],
            "has_comment": False,
            "outcome_at": shown,
        }
        conn.execute(
            insert(Feedback),
            [
                {**answer, "entry_key": "counts", "card_uuid": "c1", "known_card": True},
                {**answer, "entry_key": "another's", "card_uuid": "c1", "known_card": False},
            ],
        )
    assert db.upgrade() is True
    with db.engine.connect() as conn:
        keys = dict(conn.execute(select(Feedback.entry_key, Feedback.patient_key)).all())
    assert keys == {"counts": "p1", "another's": None}
    (past,) = history(
        db,
        patient_key="p1",
        issuer=None,
        tenant=None,
        hook_instance="another",
        encounter=None,
        since=shown - timedelta(days=1),
    )
    assert (past.rule, past.outcome) == ("R1", "overridden")
