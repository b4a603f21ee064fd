"""The JWT check at the front door (CDS Hooks 2.0 §Trusting CDS Clients; notes §8.2-8.3).

Every attack in ``token_cases`` gets the same bare 401, with the reason in the server
log only, and the hook never runs. The good tokens, and only they, reach the service.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from ..conformance import assert_valid_response
from .support import (
    ATTACKER_EC_KEY,
    ISS,
    ISS_ES256,
    ISS_OTHER,
    ISS_TENANTED,
    JKU_JWK,
    ORIGIN,
    OTHER_JWKS,
    SERVICE_PATH,
    TENANT,
    assert_bare_401,
    assert_hook_did_not_run,
    auth_app,
    close,
    issuer_config,
    jwks,
    prefetched_body,
    public_jwk,
    refusals,
)
from .token_cases import ATTACKS, GOOD, Urls

ATTACKER_JWK = public_jwk(ATTACKER_EC_KEY, "attacker-kid", "ES384")


@pytest.fixture
def matrix(httpserver: HTTPServer) -> Iterator[tuple[Flask, Urls]]:
    """The service trusting four issuers, and a key server for the allow-listed ``jku``."""
    urls = Urls(
        jku=httpserver.url_for("/ehr/jwks.json"),
        attacker_jku=httpserver.url_for("/attacker/jwks.json"),
    )
    httpserver.expect_request("/ehr/jwks.json").respond_with_json(jwks(JKU_JWK))
    httpserver.expect_request("/attacker/jwks.json").respond_with_json(jwks(ATTACKER_JWK))
    app = auth_app(
        {
            ISS: issuer_config(jku_allowlist=[urls.jku]),
            ISS_TENANTED: issuer_config(tenants=[TENANT]),
            ISS_ES256: issuer_config(algorithms=["ES256"]),
            ISS_OTHER: {"jwks": OTHER_JWKS},
        }
    )
    yield app, urls
    close(app)


def headers_for(authorization: str | None) -> dict[str, str]:
    headers = {"Origin": ORIGIN}
    if authorization is not None:
        headers["Authorization"] = authorization
    return headers


def test_the_table_has_at_least_a_dozen_distinct_attacks():
    assert len({case.id for case in ATTACKS}) == len(ATTACKS) >= 12
    assert len({case.reason for case in ATTACKS}) >= 12


@pytest.mark.parametrize("case", ATTACKS, ids=lambda case: case.id)
def test_an_attack_gets_a_bare_401_and_the_hook_never_runs(case, matrix, httpserver, logs):
    app, urls = matrix
    response = app.test_client().post(
        SERVICE_PATH, json=prefetched_body(), headers=headers_for(case.authorization(urls))
    )
    assert_bare_401(response)
    (reason,) = refusals(logs)
    assert case.reason in reason
    assert_hook_did_not_run(logs)
    assert httpserver.log == []  # no key server contacted, the attacker's jku least of all


@pytest.mark.parametrize("case", GOOD, ids=lambda case: case.id)
def test_a_good_token_reaches_the_service(case, matrix, httpserver, logs):
    app, urls = matrix
    response = app.test_client().post(
        SERVICE_PATH, json=prefetched_body(), headers=headers_for(case.authorization(urls))
    )
    assert response.status_code == 200, refusals(logs)
    assert_valid_response(response.get_json())
    assert response.get_json()["cards"]
    assert response.headers.get("Access-Control-Allow-Origin") in (ORIGIN, "*")
    (line,) = logs.requests()
    assert line["status"] == 200 and line["rules"] and line["iss"] and line["jti"]
    fetched = [request.path for request, _response in httpserver.log]
    assert fetched == (["/ehr/jwks.json"] if case.id == "jku-on-the-allowlist" else [])
