"""The single-use contract every replay store keeps (``cds_b12.auth.replay.ReplayStore``):
each (scope, value) once until it expires, whoever asks. Each backend's tests run it with
their own fixtures: Redis in ``test_replay.py``, the database (SQLite and PostgreSQL) in
``tests/store/test_single_use.py``; what only one backend does stays there."""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import uuid4

import pytest
from flask.testing import FlaskClient

from cds_b12.auth.replay import ReplayStore, ReplayStoreDown

from .support import (
    ISS,
    ISS_TENANTED,
    SERVICE_PATH,
    assert_bare_401,
    bearer,
    make_token,
    prefetched_body,
)


def jti() -> str:
    return f"replay-test-{uuid4()}"


def accepted_once(store: ReplayStore) -> None:
    token_id, expires = jti(), time.time() + 300
    assert store.first_use(ISS, token_id, expires) is True
    assert store.first_use(ISS, token_id, expires) is False
    assert store.first_use(ISS, token_id, expires + 600) is False


def the_same_jti_from_another_issuer_is_another_token(store: ReplayStore) -> None:
    token_id, expires = jti(), time.time() + 300
    assert store.first_use(ISS, token_id, expires) is True
    assert store.first_use(ISS_TENANTED, token_id, expires) is True
    assert store.first_use(ISS_TENANTED, token_id, expires) is False


def scope_and_value_are_not_confused_by_concatenation(store: ReplayStore) -> None:
    token_id, expires = jti(), time.time() + 300
    assert store.first_use("https://ehr.example/a", f"b{token_id}", expires) is True
    assert store.first_use("https://ehr.example/ab", token_id, expires) is True


def another_kind_of_one_time_value_has_a_scope_of_its_own(store: ReplayStore) -> None:
    """The same store serves any single-use check (a SMART launch's state, say)."""
    value, expires = jti(), time.time() + 600
    assert store.first_use("smart-state", value, expires) is True
    assert store.first_use(ISS, value, expires) is True
    assert store.first_use("smart-state", value, expires) is False


CHECKS = (
    accepted_once,
    the_same_jti_from_another_issuer_is_another_token,
    scope_and_value_are_not_confused_by_concatenation,
    another_kind_of_one_time_value_has_a_scope_of_its_own,
)


def reused_once_expired(store: ReplayStore) -> float:
    """An entry accepted again once it has expired, not before: how many seconds late."""
    token_id, expires = jti(), time.time() + 0.3
    assert store.first_use(ISS, token_id, expires) is True
    assert store.first_use(ISS, token_id, expires) is False
    deadline = time.time() + 5
    while not store.first_use(ISS, token_id, expires):
        assert time.time() < deadline, "the entry never expired"
        time.sleep(0.05)
    late = time.time() - expires
    assert late >= 0
    return late


def down_raises_replay_store_down(store: ReplayStore) -> None:
    """Fail closed: the caller turns this into a 503, never a pass."""
    with pytest.raises(ReplayStoreDown):
        store.first_use(ISS, jti(), time.time() + 300)


def replayed_across_workers_is_refused(worker: Callable[[], FlaskClient]) -> None:
    """Two app instances on one store (as gunicorn workers are): a token is accepted once,
    whichever gets it first, and a fresh one still goes through on either."""
    worker_a, worker_b = worker(), worker()
    token = make_token()
    assert (
        worker_a.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token)).status_code
        == 200
    )
    assert_bare_401(worker_b.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token)))
    assert_bare_401(worker_a.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token)))
    fresh = make_token()
    assert (
        worker_b.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(fresh)).status_code
        == 200
    )
