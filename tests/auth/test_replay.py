"""Replay protection on Redis: each (iss, jti) once until the token expires, shared by every
worker that uses the same Redis. The database store (the default) is tested on SQLite and
PostgreSQL in ``tests/store/test_single_use.py``, and through a real multi-worker
``cds-b12 serve`` in ``tests/store/test_replay_serve.py``.

Redis is a real server: ``TEST_REDIS_URL``, by default ``redis://127.0.0.1:6379/0``.
Every test uses fresh jti values, so nothing is flushed and nothing collides with
other users of that server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from cds_b12.auth.replay import MAX_KEEP, RedisReplayStore, replay_key
from cds_b12.auth.verify import LEEWAY, MAX_LIFETIME

from .replay_contract import (
    CHECKS,
    down_raises_replay_store_down,
    jti,
    replayed_across_workers_is_refused,
    reused_once_expired,
)
from .support import (
    ATTACKER_EC_KEY,
    ISS,
    ISS_TENANTED,
    REDIS_URL,
    SERVICE_PATH,
    assert_bare_401,
    auth_app,
    bearer,
    issuer_config,
    make_token,
    prefetched_body,
    refusals,
)

UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"


@pytest.fixture
def raw_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"these tests need the Redis server at {REDIS_URL} (TEST_REDIS_URL): {exc}")
    yield client
    client.close()


@pytest.fixture
def store(raw_redis):
    return RedisReplayStore(REDIS_URL)


def redis_key(scope: str, value: str) -> str:
    return "cds-b12:jti:" + replay_key(scope, value)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_the_single_use_contract(store, check):
    check(store)


def test_an_expired_entry_can_be_used_again(store):
    """Not before it expires (Redis keeps whole seconds, so it may be up to a second late)."""
    assert reused_once_expired(store) < 2


def test_redis_entries_expire_with_the_token(raw_redis):
    token_id, expires = jti(), time.time() + 300
    assert RedisReplayStore(REDIS_URL).first_use(ISS, token_id, expires) is True
    key = redis_key(ISS, token_id)
    assert token_id not in key and ISS not in key  # the caller's text is hashed
    assert 298 <= raw_redis.ttl(key) <= 302
    assert raw_redis.delete(key) == 1


def test_nothing_is_kept_longer_than_the_longest_token_may_live(raw_redis):
    """The verifier refuses a token living longer than an hour (plus skew), and the store
    keeps no pair longer than that, whatever it is asked."""
    assert MAX_LIFETIME + 2 * LEEWAY <= MAX_KEEP <= 2 * 3600
    token_id = jti()
    assert RedisReplayStore(REDIS_URL).first_use(ISS, token_id, time.time() + 10 * 86400)
    assert MAX_KEEP - 2 <= raw_redis.ttl(redis_key(ISS, token_id)) <= MAX_KEEP + 2


def test_redis_unreachable_raises_replay_store_down():
    down_raises_replay_store_down(RedisReplayStore(UNREACHABLE_REDIS_URL))


def test_two_workers_sharing_redis_refuse_a_token_replayed_across_them(raw_redis, logs):
    replayed_across_workers_is_refused(lambda: auth_app(redis_url=REDIS_URL).test_client())
    assert [r.split(" ", 2)[:2] for r in refusals(logs)] == [["replayed", "jti"]] * 2


def test_redis_unreachable_is_503_not_200_and_not_500(logs):
    client = auth_app(redis_url=UNREACHABLE_REDIS_URL).test_client()
    response = client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(make_token()))
    assert response.status_code == 503
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert "temporarily unavailable" in body["issue"][0]["diagnostics"]
    assert response.headers.get("Access-Control-Allow-Origin")
    down = [r for r in logs.records() if r["message"] == "replay store unavailable"]
    assert [r["level"] for r in down] == ["error"]
    (line,) = logs.requests()
    assert line["status"] == 503 and "rules" not in line


def test_redis_unreachable_still_refuses_a_bad_token_with_401():
    client = auth_app(redis_url=UNREACHABLE_REDIS_URL).test_client()
    forged = make_token(key=ATTACKER_EC_KEY)
    assert_bare_401(client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(forged)))


def test_the_replay_store_is_per_issuer_through_the_app(raw_redis):
    app = auth_app({ISS: issuer_config(), ISS_TENANTED: issuer_config()}, redis_url=REDIS_URL)
    client, shared = app.test_client(), jti()
    for iss in (ISS, ISS_TENANTED):
        assert (
            client.post(
                SERVICE_PATH,
                json=prefetched_body(),
                headers=bearer(make_token(iss=iss, jti=shared)),
            ).status_code
            == 200
        )
    assert_bare_401(
        client.post(
            SERVICE_PATH, json=prefetched_body(), headers=bearer(make_token(iss=ISS, jti=shared))
        )
    )
