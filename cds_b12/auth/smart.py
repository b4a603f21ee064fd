"""SMART App Launch (EHR launch) for the timeline: discovery, PKCE, single-use state, token.

The EHR names itself by ``iss``, which the launch policy has already admitted;
its ``.well-known/smart-configuration`` then names the OAuth endpoints. Those
are held to the ``iss``'s own origin, or to https on the ``iss``'s host or under
``CDS_B12_SMART_AUTH_SERVERS``: an allowed EHR cannot send the browser, or the
authorization code, anywhere else. The code is bound to this launch by PKCE
(S256); the verifier is derived from the state with a server key, so it never
leaves the service. A state is accepted once, through the replay store, and
every call goes through the same HTTP seam as the FHIR fetches (deadline, size
cap, no redirects).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from ..net.http import HttpClient, HttpError, deadline_in
from ..net.urls import Target, UrlPolicy, UrlRefused, parse
from .replay import ReplayStore

MAX_ANSWER_BYTES = 64 * 1024
STATE_ISSUER = "cds-b12:smart-state"  # the replay store's namespace for launch states


class SmartError(Exception):
    """The launch cannot go on; ``str(exc)`` is safe to show (no token, no code)."""


class StateReused(SmartError):
    """The callback for this launch was already taken: a replayed or resubmitted code."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    authorize: Target
    token: Target


@dataclass(frozen=True, slots=True)
class EndpointPolicy:
    """Where an ``iss``'s OAuth endpoints may be."""

    auth_servers: tuple[str, ...] = ()
    http_loopback: bool = False

    def check(self, url: object, iss: Target) -> Target:
        target = parse(url)
        if target.origin == iss.origin:
            return target  # the EHR itself, which the launch policy admitted
        if target.scheme == "https" and target.host == iss.host:
            return target
        try:
            return UrlPolicy.of(
                self.auth_servers, open=False, https_only=True, http_loopback=self.http_loopback
            ).check(url)
        except UrlRefused as exc:
            raise UrlRefused(
                f"{exc} (it must be https on the EHR's host, or under CDS_B12_SMART_AUTH_SERVERS)"
            ) from None


def discover(http: HttpClient, iss: Target, policy: EndpointPolicy, *, seconds: float) -> Endpoints:
    """The EHR's authorize and token endpoints, each checked against ``policy``."""
    where = parse(iss.join(".well-known/smart-configuration"))
    config = _json(http, "GET", where, seconds=seconds)
    found = {}
    for name in ("authorization_endpoint", "token_endpoint"):
        try:
            found[name] = policy.check(config.get(name), iss)
        except UrlRefused as exc:
            raise SmartError(f"the EHR's SMART configuration {name} {exc}") from None
    return Endpoints(found["authorization_endpoint"], found["token_endpoint"])


def new_state() -> str:
    return secrets.token_urlsafe(32)


def pkce(secret: bytes, state: str) -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) for this launch; the verifier is recomputed at the
    callback from the state, so it is stored nowhere and never reaches the browser."""
    digest = hmac.new(secret, b"smart-pkce\x00" + state.encode(), hashlib.sha256).digest()
    verifier = _b64url(digest)  # 43 characters, the minimum RFC 7636 allows
    return verifier, _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def use_state(replay: ReplayStore, state: str, expires_at: float) -> None:
    """Accept a launch's state once, whichever worker or replica the callback reaches."""
    if not replay.first_use(STATE_ISSUER, state, expires_at):
        raise StateReused("this launch was already completed; launch again from the EHR")


def exchange(
    http: HttpClient,
    token_endpoint: Target,
    *,
    code: str,
    redirect_uri: str,
    client_id: str,
    verifier: str,
    seconds: float,
) -> tuple[str, str]:
    """(access token, patient id) for the authorization code."""
    answer = _json(
        http,
        "POST",
        token_endpoint,
        seconds=seconds,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    token, patient = answer.get("access_token"), answer.get("patient")
    if not isinstance(token, str) or not isinstance(patient, str) or not token or not patient:
        raise SmartError("the EHR did not give a token for a patient")
    return token, patient


def _json(
    http: HttpClient,
    method: str,
    target: Target,
    *,
    seconds: float,
    data: dict[str, str] | None = None,
) -> dict:
    what = "the EHR did not give a token" if method == "POST" else "the SMART configuration"
    try:
        answer = http.request(
            method,
            target,
            deadline=deadline_in(seconds),
            max_bytes=MAX_ANSWER_BYTES,
            headers={"Accept": "application/json"},
            data=data,
        )
    except HttpError as exc:
        raise SmartError(f"{what}: {exc.reason}") from None
    if answer.status != 200:
        raise SmartError(f"{what}: its {target.path} answered {answer.status}")
    if len(answer.body) > MAX_ANSWER_BYTES:
        raise SmartError(f"{what}: the answer is too large")
    try:
        value = json.loads(answer.body)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise SmartError(f"{what}: the answer is not a JSON object")
    return value


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
