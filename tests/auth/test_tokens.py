"""The JWT check at the front door (CDS Hooks 2.0 §Trusting CDS Clients; notes §8.2-8.3).

Every attack gets the same bare 401, with the reason in the server log only, and
the hook never runs. The good tokens, and only they, reach the service.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ..conformance import assert_valid_response
from .support import (
    ATTACKER_EC_KEY,
    ATTACKER_RSA_KEY,
    DISCOVERY_AUD,
    ENC_KEY,
    ENC_KID,
    FEEDBACK_AUD,
    FEEDBACK_BODY,
    ISS,
    ISS_ES256,
    ISS_OTHER,
    ISS_TENANTED,
    ISSUER_KID,
    ISSUER_PUBLIC_JWK,
    ISSUER_PUBLIC_PEM,
    JKU_JWK,
    JKU_KEY,
    JKU_KID,
    ORIGIN,
    OTHER_JWKS,
    OTHER_KID,
    P256_KID,
    PUBLIC_URL,
    RSA_KID,
    SERVICE,
    SERVICE_AUD,
    SERVICE_PATH,
    TENANT,
    assert_bare_401,
    assert_hook_did_not_run,
    auth_app,
    bearer,
    claims,
    close,
    hmac_token,
    issuer_config,
    jwks,
    make_token,
    prefetched_body,
    public_jwk,
    refusals,
    tampered,
    unsigned_token,
)

ATTACKER_JWK = public_jwk(ATTACKER_EC_KEY, "attacker-kid", "ES384")


@dataclass(frozen=True)
class Urls:
    jku: str  # on ISS's jku allowlist, serving JKU_JWK
    attacker_jku: str  # on no allowlist, serving the attacker's key


@dataclass(frozen=True)
class Case:
    id: str
    authorization: Callable[[Urls], str | None]  # the Authorization header, or None
    reason: str = ""  # for attacks: what the server log must give as the reason


def signed(**kwargs: object) -> Callable[[Urls], str]:
    """A Bearer header for ``make_token(**kwargs)``, minted when the test runs."""
    return lambda _urls: f"Bearer {make_token(**kwargs)}"


def now() -> int:
    return int(time.time())


ATTACKS = [
    Case("no-authorization-header", lambda u: None, "no Authorization header"),
    Case(
        "basic-scheme",
        lambda u: "Basic " + base64.b64encode(b"ehr:password").decode(),
        "Authorization is not a Bearer token",
    ),
    Case("bearer-without-a-token", lambda u: "Bearer", "Authorization is not a Bearer token"),
    Case(
        "token-without-the-bearer-scheme",
        lambda u: make_token(),
        "Authorization is not a Bearer token",
    ),
    Case("garbage-token", lambda u: "Bearer not-a-jwt-at-all", "malformed JWT"),
    Case("two-segments", lambda u: "Bearer " + make_token().rsplit(".", 1)[0], "malformed JWT"),
    Case(
        "alg-none-unsigned",
        lambda u: (
            "Bearer "
            + unsigned_token({"alg": "none", "typ": "JWT", "kid": "example-kid"}, claims())
        ),
        "algorithm 'none' not allowed",
    ),
    Case(
        "hs256-keyed-with-the-public-jwk-json",
        lambda u: "Bearer " + hmac_token(json.dumps(ISSUER_PUBLIC_JWK).encode()),
        "algorithm 'HS256' not allowed",
    ),
    Case(
        "hs256-keyed-with-the-public-key-pem",
        lambda u: "Bearer " + hmac_token(ISSUER_PUBLIC_PEM),
        "algorithm 'HS256' not allowed",
    ),
    Case(
        "hs384",
        lambda u: "Bearer " + hmac_token(b"a-shared-secret-" * 4, "HS384"),
        "algorithm 'HS384' not allowed",
    ),
    Case(
        "rs384-signed-by-a-key-the-issuer-lacks",
        signed(alg="RS384", key=ATTACKER_RSA_KEY, kid=RSA_KID),
        "InvalidSignatureError",
    ),
    Case(
        "es384-signed-by-an-attacker-key-with-the-same-kid",
        signed(key=ATTACKER_EC_KEY),
        "InvalidSignatureError",
    ),
    Case(
        "payload-tampered-after-signing",
        lambda u: "Bearer " + tampered(make_token(), tenant="another-org"),
        "InvalidSignatureError",
    ),
    Case(
        "rs384-header-naming-the-ec-key",
        signed(alg="RS384", key=ATTACKER_RSA_KEY),
        "InvalidKeyError",
    ),
    Case(
        "expired-beyond-the-leeway",
        lambda u: f"Bearer {make_token(exp=now() - 90)}",
        "ExpiredSignatureError",
    ),
    Case(
        "iat-in-the-future-beyond-the-leeway",
        lambda u: f"Bearer {make_token(iat=now() + 120, exp=now() + 420)}",
        "ImmatureSignatureError",
    ),
    Case(
        "nbf-in-the-future",
        lambda u: f"Bearer {make_token(nbf=now() + 200)}",
        "ImmatureSignatureError",
    ),
    Case("missing-exp", signed(omit=("exp",)), 'missing the "exp" claim'),
    Case("missing-iat", signed(omit=("iat",)), 'missing the "iat" claim'),
    Case("missing-jti", signed(omit=("jti",)), 'missing the "jti" claim'),
    Case("empty-jti", signed(jti=""), "jti is not a usable string"),
    Case("numeric-jti", signed(jti=12345), "InvalidJTIError"),
    Case(
        "aud-another-service",
        signed(aud=f"{PUBLIC_URL}/cds-services/b12-order-sign"),
        "InvalidAudienceError",
    ),
    Case(
        "aud-the-discovery-url-used-on-a-service", signed(aud=DISCOVERY_AUD), "InvalidAudienceError"
    ),
    Case(
        "aud-the-feedback-url-used-on-the-service", signed(aud=FEEDBACK_AUD), "InvalidAudienceError"
    ),
    Case(
        "aud-http-instead-of-https",
        signed(aud=SERVICE_AUD.replace("https://", "http://")),
        "InvalidAudienceError",
    ),
    Case(
        "aud-the-internal-host",
        signed(aud=f"http://cds-b12:8080{SERVICE_PATH}"),
        "InvalidAudienceError",
    ),
    Case(
        "aud-another-organisations-service",
        signed(aud=f"https://cds.attacker.example{SERVICE_PATH}"),
        "InvalidAudienceError",
    ),
    Case(
        "aud-array-without-our-url",
        signed(aud=[DISCOVERY_AUD, f"https://cds.attacker.example{SERVICE_PATH}"]),
        "InvalidAudienceError",
    ),
    Case("missing-aud", signed(omit=("aud",)), 'missing the "aud" claim'),
    Case(
        "untrusted-iss",
        signed(iss="https://ehr.attacker.example"),
        "untrusted issuer 'https://ehr.attacker.example'",
    ),
    Case("missing-iss", signed(omit=("iss",)), "untrusted issuer 'None'"),
    Case(
        "trusted-iss-unknown-kid",
        signed(kid="rotated-kid"),
        "no key 'rotated-kid' in the configured JWKS",
    ),
    Case(
        "kid-of-another-trusted-issuer",
        signed(iss=ISS_OTHER),
        "no key 'example-kid' in the configured JWKS",
    ),
    Case(
        "other-issuers-kid-signed-by-another-key",
        signed(iss=ISS_OTHER, kid=OTHER_KID),
        "InvalidSignatureError",
    ),
    Case("missing-kid", signed(kid=None), "header has no kid"),
    Case("typ-not-jwt", signed(typ="JOSE+JSON"), "header typ is not JWT"),
    Case("missing-typ", signed(typ=None), "header typ is not JWT"),
    Case(
        "jku-not-on-the-allowlist",
        lambda u: (
            "Bearer " + make_token(key=ATTACKER_EC_KEY, kid="attacker-kid", jku=u.attacker_jku)
        ),
        "is not on the issuer's allowlist",
    ),
    Case(
        "key-published-for-encryption-not-signing",
        signed(key=ENC_KEY, kid=ENC_KID),
        "is not a signing key",
    ),
    Case(
        "es256-where-the-issuer-allows-only-es384-rs384",
        signed(alg="ES256", kid=P256_KID),
        "algorithm 'ES256' not allowed",
    ),
    Case(
        "tenant-not-on-the-issuers-list",
        signed(iss=ISS_TENANTED, tenant="another-org"),
        "tenant 'another-org' not allowed",
    ),
    Case(
        "tenant-missing-where-the-issuer-lists-tenants",
        signed(iss=ISS_TENANTED),
        "tenant 'None' not allowed",
    ),
    Case(
        "exp-more-than-an-hour-away",
        lambda u: f"Bearer {make_token(exp=now() + 3600 + 120)}",
        "exp is more than an hour away",
    ),
]

GOOD = [
    Case("es384-spec-key", signed()),
    Case("lowercase-bearer-scheme", lambda u: f"bearer {make_token()}"),
    Case("rs384-rsa-key", signed(alg="RS384", kid=RSA_KID)),
    Case(
        "aud-array-containing-our-url",
        signed(aud=[DISCOVERY_AUD, SERVICE_AUD, "https://other.example/cds-services"]),
    ),
    Case(
        "jku-on-the-allowlist",
        lambda u: f"Bearer {make_token(key=JKU_KEY, kid=JKU_KID, jku=u.jku)}",
    ),
    Case(
        "exp-30s-ago-within-the-leeway",
        lambda u: f"Bearer {make_token(exp=now() - 30, iat=now() - 330)}",
    ),
    Case("iat-30s-ahead-within-the-leeway", lambda u: f"Bearer {make_token(iat=now() + 30)}"),
    Case("exp-an-hour-away", lambda u: f"Bearer {make_token(exp=now() + 3600)}"),
    Case("tenant-on-the-issuers-list", signed(iss=ISS_TENANTED, tenant=TENANT)),
    Case("es256-where-the-issuer-allows-it", signed(iss=ISS_ES256, alg="ES256", kid=P256_KID)),
]


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


def test_discovery_with_a_token_for_the_discovery_url():
    client = auth_app().test_client()
    response = client.get("/cds-services", headers=bearer(make_token(DISCOVERY_AUD)))
    assert response.status_code == 200
    assert SERVICE in {s["id"] for s in response.get_json()["services"]}
    assert_bare_401(client.get("/cds-services", headers=bearer(make_token(SERVICE_AUD))))


def test_feedback_with_a_token_for_the_feedback_url():
    client = auth_app().test_client()
    body = FEEDBACK_BODY
    response = client.post(
        f"{SERVICE_PATH}/feedback", json=body, headers=bearer(make_token(FEEDBACK_AUD))
    )
    assert response.status_code == 200 and response.get_json() == {}
    assert_bare_401(
        client.post(f"{SERVICE_PATH}/feedback", json=body, headers=bearer(make_token(SERVICE_AUD)))
    )


def test_a_service_call_with_a_token_for_the_service_url(logs):
    body = prefetched_body()
    response = (
        auth_app()
        .test_client()
        .post(SERVICE_PATH, json=body, headers=bearer(make_token(jti="jti-for-the-log")))
    )
    assert response.status_code == 200
    assert_valid_response(response.get_json())
    (line,) = logs.requests()
    assert (line["iss"], line["jti"], line["tenant"]) == (ISS, "jti-for-the-log", None)
    assert line["hookInstance"] == body["hookInstance"] and line["rules"]


@pytest.mark.parametrize(
    ("method", "path", "aud"),
    [
        ("POST", f"{SERVICE_PATH}/", SERVICE_AUD),
        ("GET", "/cds-services/", DISCOVERY_AUD),
        ("POST", f"{SERVICE_PATH}/feedback/", FEEDBACK_AUD),
    ],
    ids=["service", "discovery", "feedback"],
)
def test_a_trailing_slash_on_the_path_still_matches_the_aud(method, path, aud):
    body = FEEDBACK_BODY if "feedback" in path else prefetched_body()
    response = (
        auth_app()
        .test_client()
        .open(path, method=method, json=body, headers=bearer(make_token(aud)))
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_replayed_token_is_refused(logs):
    client = auth_app().test_client()
    token = make_token()
    assert (
        client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token)).status_code == 200
    )
    replayed = client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token))
    assert_bare_401(replayed)
    (reason,) = refusals(logs)
    assert reason.startswith("replayed jti")


def test_a_forged_token_does_not_use_up_its_jti():
    """The jti is recorded only once the signature is good, so a forger cannot burn the jti
    of a token the EHR is about to send."""
    client = auth_app().test_client()
    forged = make_token(key=ATTACKER_EC_KEY, jti="the-next-jti")
    assert_bare_401(client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(forged)))
    genuine = make_token(jti="the-next-jti")
    assert (
        client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(genuine)).status_code
        == 200
    )


def test_an_unknown_service_is_not_revealed_without_a_token():
    client = auth_app().test_client()
    assert_bare_401(
        client.post("/cds-services/no-such-service", json={}, headers={"Origin": ORIGIN})
    )
    response = client.post(
        "/cds-services/no-such-service",
        json={},
        headers=bearer(make_token(f"{PUBLIC_URL}/cds-services/no-such-service")),
    )
    assert response.status_code == 404


def test_healthz_needs_no_token():
    response = auth_app().test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/cds-services", SERVICE_PATH, f"{SERVICE_PATH}/feedback"])
def test_the_cors_preflight_needs_no_token(path):
    response = (
        auth_app()
        .test_client()
        .options(
            path,
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
    )
    assert 200 <= response.status_code < 300
    assert response.headers.get("Access-Control-Allow-Origin") in (ORIGIN, "*")
    assert "authorization" in response.headers.get("Access-Control-Allow-Headers", "").lower()


def test_keys_from_a_jwks_url_are_fetched_once_and_cached(httpserver, logs):
    httpserver.expect_request("/keys.json").respond_with_json(jwks(JKU_JWK))
    app = auth_app({ISS: {"jwks_url": httpserver.url_for("/keys.json")}})
    try:
        client = app.test_client()
        for _ in range(3):
            response = client.post(
                SERVICE_PATH,
                json=prefetched_body(),
                headers=bearer(make_token(key=JKU_KEY, kid=JKU_KID)),
            )
            assert response.status_code == 200, refusals(logs)
        assert_bare_401(
            client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(make_token()))
        )  # example-kid: not there
        assert [r.path for r, _ in httpserver.log] == ["/keys.json"]
    finally:
        close(app)


@pytest.mark.parametrize("alg", [["ES384"], {"ES384": True}], ids=["list", "object"])
def test_an_alg_that_is_not_a_string_is_a_bare_401(alg, logs):
    token = unsigned_token({"alg": alg, "typ": "JWT", "kid": ISSUER_KID}, claims())
    response = (
        auth_app().test_client().post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token))
    )
    assert_bare_401(response)
    assert refusals(logs)


@pytest.mark.parametrize("claim", ["iat", "exp"])
def test_a_numeric_string_time_claim_is_a_bare_401(claim, logs):
    now_ = now()
    token = make_token(**{claim: str(now_ if claim == "iat" else now_ + 300)})
    response = (
        auth_app().test_client().post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token))
    )
    assert_bare_401(response)
    assert refusals(logs)


def test_the_request_log_latency_includes_the_token_check(httpserver, logs):
    def slow_keys(_request: Request) -> Response:
        time.sleep(0.3)
        return Response(json.dumps(jwks(JKU_JWK)), content_type="application/json")

    httpserver.expect_request("/slow-jwks.json").respond_with_handler(slow_keys)
    app = auth_app({ISS: {"jwks_url": httpserver.url_for("/slow-jwks.json")}})
    try:
        forged = make_token(key=ATTACKER_EC_KEY, kid=JKU_KID)
        assert_bare_401(
            app.test_client().post(SERVICE_PATH, json=prefetched_body(), headers=bearer(forged))
        )
    finally:
        close(app)
    (line,) = logs.requests()
    assert line["latency_ms"] >= 300
