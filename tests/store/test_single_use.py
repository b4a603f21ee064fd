"""The replay store in the service's database, on SQLite and PostgreSQL: each (scope, value)
once until it expires, agreed on by racing threads and by separate app instances (as
gunicorn workers are), expired rows purged as calls go by, and closed when it cannot answer.
Through a real multi-worker ``cds-b12 serve``: ``test_replay_serve.py``."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from cds_b12.auth.replay import MAX_KEEP, replay_key
from cds_b12.store import single_use
from cds_b12.store.db import Database
from cds_b12.store.schema import SingleUse
from cds_b12.store.single_use import DatabaseReplayStore

from ..auth.replay_contract import (
    CHECKS,
    down_raises_replay_store_down,
    jti,
    replayed_across_workers_is_refused,
    reused_once_expired,
)
from ..auth.support import (
    ATTACKER_EC_KEY,
    ISS,
    SERVICE_PATH,
    assert_bare_401,
    auth_app,
    bearer,
    issuer_config,
    make_token,
    prefetched_body,
)
from .support import UNREACHABLE


@pytest.fixture
def replay(store: Database) -> DatabaseReplayStore:
    return DatabaseReplayStore(store)


def rows(db: Database) -> dict[str, float]:
    with db.session() as session:
        return {k: u for k, u in session.execute(select(SingleUse.key, SingleUse.expires_at))}


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_the_single_use_contract(replay, check):
    check(replay)


def test_an_expired_entry_can_be_used_again(replay):
    reused_once_expired(replay)


def test_the_caller_text_is_hashed_and_kept_no_longer_than_a_token_may_live(replay, store):
    token_id = jti()
    before = time.time()
    assert replay.first_use(ISS, token_id, before + 10 * 86400)
    (key, until), *_ = [(k, u) for k, u in rows(store).items() if k == replay_key(ISS, token_id)]
    assert token_id not in key and ISS not in key
    assert before + MAX_KEEP - 1 <= until <= time.time() + MAX_KEEP


def test_expired_rows_are_purged_as_calls_go_by(replay, store, monkeypatch):
    now = time.time()
    for _ in range(5):
        assert replay.first_use(ISS, jti(), now + 0.2)
    live = jti()
    assert replay.first_use(ISS, live, now + 300)
    time.sleep(0.3)
    monkeypatch.setattr(single_use, "PURGE_EVERY", 0.0)
    replay._next_purge = 0.0
    last = jti()
    assert replay.first_use(ISS, last, now + 300)
    assert set(rows(store)) == {replay_key(ISS, live), replay_key(ISS, last)}


def test_racing_threads_accept_a_token_exactly_once(store):
    """Each thread with its own store object and connection, as separate workers have."""
    token_id, expires = jti(), time.time() + 300
    stores = [DatabaseReplayStore(Database(store.url)) for _ in range(12)]
    results: list[bool] = []
    start = threading.Barrier(len(stores))

    def use(s: DatabaseReplayStore) -> None:
        start.wait()
        results.append(s.first_use(ISS, token_id, expires))

    threads = [threading.Thread(target=use, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False] * 11 + [True]
    for s in stores:
        s.db.dispose()


def test_an_unreachable_database_raises_replay_store_down():
    down_raises_replay_store_down(DatabaseReplayStore(Database(UNREACHABLE)))


def test_two_app_instances_on_one_database_refuse_a_token_replayed_across_them(db_url):
    """Two workers without Redis: the token is accepted once, whichever gets it first."""
    replayed_across_workers_is_refused(
        lambda: auth_app({ISS: issuer_config()}, database_url=db_url).test_client()
    )


def test_the_database_being_down_is_503_for_a_good_token_and_401_for_a_bad_one(tmp_path):
    app = auth_app(database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
    rt = app.extensions["cds_b12"]
    rt.db.dispose()
    (tmp_path / "store.sqlite3").unlink()
    (tmp_path / "store.sqlite3").mkdir()  # the file is now a directory: no database to open
    client = app.test_client()
    good = client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(make_token()))
    assert good.status_code == 503
    forged = make_token(key=ATTACKER_EC_KEY)
    assert_bare_401(client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(forged)))


def test_the_store_does_not_wait_for_the_disk_but_feedback_still_does(db_url):
    """A token's record may be lost to an OS crash (as with a Redis restart); a feedback 200
    may not. The two go through separate connections."""
    app = auth_app(database_url=db_url)
    rt = app.extensions["cds_b12"]
    replay_db, store_db = rt.replay.db, rt.db
    query = "PRAGMA synchronous" if store_db.is_sqlite else "SHOW synchronous_commit"
    with replay_db.engine.connect() as conn:
        relaxed = conn.exec_driver_sql(query).scalar()
    with store_db.engine.connect() as conn:
        strict = conn.exec_driver_sql(query).scalar()
    assert (relaxed, strict) == ((1, 2) if store_db.is_sqlite else ("off", "on"))
    assert replay_db.url == store_db.url  # the same database all the same
