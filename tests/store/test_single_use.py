"""The replay store in the service's database, on SQLite and PostgreSQL: each (scope, value)
once until it expires, agreed on by racing threads and by separate app instances (as
gunicorn workers are), expired rows purged as calls go by, and closed when it cannot answer.
Through a real multi-worker ``cds-b12 serve``: ``test_replay_serve.py``."""

from __future__ import annotations

import threading
import time
from uuid import uuid4

import pytest
from sqlalchemy import select

from cds_b12.auth.replay import MAX_KEEP, ReplayStoreDown, replay_key
from cds_b12.store import single_use
from cds_b12.store.db import Database
from cds_b12.store.schema import SingleUse
from cds_b12.store.single_use import DatabaseReplayStore

from ..auth.support import (
    ATTACKER_EC_KEY,
    ISS,
    ISS_TENANTED,
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


def jti() -> str:
    return f"replay-test-{uuid4()}"


def rows(db: Database) -> dict[str, float]:
    with db.session() as session:
        return {k: u for k, u in session.execute(select(SingleUse.key, SingleUse.expires_at))}


def test_a_jti_is_accepted_once(replay):
    token_id, expires = jti(), time.time() + 300
    assert replay.first_use(ISS, token_id, expires) is True
    assert replay.first_use(ISS, token_id, expires) is False
    assert replay.first_use(ISS, token_id, expires + 600) is False


def test_the_same_jti_from_another_issuer_is_another_token(replay):
    token_id, expires = jti(), time.time() + 300
    assert replay.first_use(ISS, token_id, expires) is True
    assert replay.first_use(ISS_TENANTED, token_id, expires) is True
    assert replay.first_use(ISS_TENANTED, token_id, expires) is False


def test_scope_and_value_are_not_confused_by_concatenation(replay):
    token_id, expires = jti(), time.time() + 300
    assert replay.first_use("https://ehr.example/a", f"b{token_id}", expires) is True
    assert replay.first_use("https://ehr.example/ab", token_id, expires) is True


def test_another_kind_of_one_time_value_has_a_scope_of_its_own(replay):
    """The same store serves any single-use check (a SMART launch's state, say)."""
    value, expires = jti(), time.time() + 600
    assert replay.first_use("smart-state", value, expires) is True
    assert replay.first_use(ISS, value, expires) is True
    assert replay.first_use("smart-state", value, expires) is False


def test_an_expired_entry_can_be_used_again(replay):
    token_id, expires = jti(), time.time() + 0.3
    assert replay.first_use(ISS, token_id, expires) is True
    assert replay.first_use(ISS, token_id, expires) is False
    deadline = time.time() + 5
    while not replay.first_use(ISS, token_id, expires):
        assert time.time() < deadline, "the entry never expired"
        time.sleep(0.05)
    assert time.time() >= expires


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
    with pytest.raises(ReplayStoreDown):
        DatabaseReplayStore(Database(UNREACHABLE)).first_use(ISS, jti(), time.time() + 300)


def test_two_app_instances_on_one_database_refuse_a_token_replayed_across_them(db_url):
    """Two workers without Redis: the token is accepted once, whichever gets it first."""
    worker_a, worker_b = (
        auth_app({ISS: issuer_config()}, database_url=db_url).test_client() for _ in range(2)
    )
    token = make_token()
    first = worker_a.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token))
    assert first.status_code == 200
    assert_bare_401(worker_b.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token)))
    assert_bare_401(worker_a.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token)))
    fresh = make_token()
    assert (
        worker_b.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(fresh)).status_code
        == 200
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
