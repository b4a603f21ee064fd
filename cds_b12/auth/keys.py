"""Issuers' public keys: fetched from allow-listed JWKS URLs only, cached, refetched sparingly.

An unknown ``kid`` (a rotated key) triggers at most one refetch per URL per
minute, so forged tokens cannot make us hammer an EHR's key endpoint; a failed
fetch is not retried for a few seconds, so a burst of calls makes one fetch.
Each URL has its own lock, and at most ``MAX_WAITING`` calls wait on it (the
rest are refused at once): a slow key endpoint holds up a few of its own
issuer's calls, never another issuer's, an inline-key issuer's or ``/healthz``.
A fetch has a total deadline (a server sending a byte a second is cut off),
a size cap and no redirects, and is sent once more only when an idle kept-alive connection
was dropped unanswered; only loopback URLs may be plain http. Any failure
to get keys is a ``NoKey``, which the caller turns into a bare 401. A fetched key
that must never verify a token (``unusable``) is left out of its set with a warning;
in an inline ``jwks`` the same key stops start-up (``issuers.py``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from ..net.http import GetRetry, HttpClient, HttpError, deadline_in
from ..net.urls import Target, UrlPolicy, UrlRefused

CACHE_SECONDS = 300.0
REFETCH_SECONDS = 60.0  # at most one refetch per URL in this time for an unknown kid
FAILURE_SECONDS = 15.0  # after a failed fetch, no new try for this long
MAX_JWKS_BYTES = 256 * 1024
TIMEOUT = (2.0, 3.0)  # connect, and each read
DEADLINE_SECONDS = 5.0  # the whole fetch
MAX_WAITING = 4  # calls per URL waiting for a fetch in progress, per process
# once more on a new connection when the endpoint dropped an idle kept-alive one unanswered;
# a read timeout is not retried (the fetch's deadline is short)
RETRY = GetRetry(total=1, connect=1, read=0, status=0, allowed_methods=frozenset({"GET"}))
# https anywhere; plain http only to this machine (local development and tests)
JWKS_POLICY = UrlPolicy(https_only=True, http_loopback=True)
_RSA = RSAAlgorithm(RSAAlgorithm.SHA256)  # reads an RSA JWK and knows PyJWT's minimum size
_EC_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}  # curve -> its one alg
_RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
# the members only a private key has (RSA: RFC 7518 §6.3.2; EC: §6.2.2; OKP: RFC 8037 §2)
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth")

log = logging.getLogger("cds_b12.auth")


class NoKey(Exception):
    """No usable key; the message is for the log only (a caller sees a bare 401)."""


class _Flight:
    """One URL's fetch lock, and how many calls are waiting on it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting = 0


@dataclass(slots=True)
class _Cached:
    keys: dict[str, Mapping[str, Any]]  # kid -> JWK
    fetched_at: float  # when these keys were fetched
    tried_at: float  # when a fetch was last tried, successful or not
    failed: bool = False  # whether that try failed


class KeyStore:
    def __init__(self, session: requests.Session | None = None) -> None:
        self._http = HttpClient(
            connect_timeout=TIMEOUT[0], read_timeout=TIMEOUT[1], retry=RETRY, session=session
        )
        self._cache: dict[str, _Cached] = {}
        self._flights: dict[str, _Flight] = {}
        self._flights_lock = threading.Lock()

    def key(self, url: str, kid: str) -> Mapping[str, Any]:
        """The JWK with this kid from the JWKS at ``url`` (an allow-listed URL)."""
        entry = self._cache.get(url)
        if entry is None or self._wants_fetch(entry, kid):
            entry = self._fetch_once(url, kid)
        if time.monotonic() - entry.fetched_at >= CACHE_SECONDS or kid not in entry.keys:
            raise NoKey(f"no key {kid!r:.80} in {url}")
        return entry.keys[kid]

    def _fetch_once(self, url: str, kid: str) -> _Cached:
        """Fetch unless another call just did; one fetch per URL at a time."""
        with self._flights_lock:
            flight = self._flights.setdefault(url, _Flight())
            if flight.lock.locked() and flight.waiting >= MAX_WAITING:
                raise NoKey(f"{MAX_WAITING} calls are already waiting for the JWKS at {url}")
            flight.waiting += 1
        try:
            if not flight.lock.acquire(timeout=DEADLINE_SECONDS + 1):
                raise NoKey(f"the JWKS at {url} is still being fetched")
        finally:
            with self._flights_lock:
                flight.waiting -= 1
        try:
            entry = self._cache.get(url)
            if entry is None or self._wants_fetch(entry, kid):
                entry = self._fetch_into_cache(url, entry)
            return entry
        finally:
            flight.lock.release()

    @staticmethod
    def _wants_fetch(entry: _Cached, kid: str) -> bool:
        now = time.monotonic()
        stale = now - entry.fetched_at >= CACHE_SECONDS or kid not in entry.keys
        wait = FAILURE_SECONDS if entry.failed else REFETCH_SECONDS
        return stale and now - entry.tried_at >= wait

    def _fetch_into_cache(self, url: str, entry: _Cached | None) -> _Cached:
        now = time.monotonic()
        try:
            keys = _usable(jwk_set(self._fetch(url)), url)
        except NoKey:
            if entry is None:
                self._cache[url] = _Cached({}, -CACHE_SECONDS, tried_at=now, failed=True)
                raise
            entry.tried_at, entry.failed = now, True  # keep the last good keys until they expire
            return entry
        self._cache[url] = _Cached(keys, fetched_at=now, tried_at=now)
        return self._cache[url]

    def _fetch(self, url: str) -> object:
        target = jwks_target(url)
        try:
            answer = self._http.request(
                "GET",
                target,
                deadline=deadline_in(DEADLINE_SECONDS),
                max_bytes=MAX_JWKS_BYTES,
                headers={"Accept": "application/json"},
            )
        except HttpError as exc:
            raise NoKey(f"JWKS fetch {url} failed: {exc.reason}") from None
        if answer.status != 200:
            raise NoKey(f"JWKS fetch {url} answered {answer.status}")
        if len(answer.body) > MAX_JWKS_BYTES:
            raise NoKey(f"JWKS at {url} is larger than {MAX_JWKS_BYTES} bytes")
        try:
            return json.loads(answer.body)
        except (ValueError, RecursionError):
            raise NoKey(f"JWKS at {url} is not JSON") from None


def jwks_target(url: str) -> Target:
    """The JWKS URL as it will be fetched; ``NoKey`` if it may not be."""
    try:
        return JWKS_POLICY.check(url)
    except UrlRefused as exc:
        raise NoKey(f"JWKS URL must be https (or loopback http), and this one {exc}") from None


def jwk_set(data: object) -> dict[str, Mapping[str, Any]]:
    """kid -> JWK for a JWK Set whose every key has a unique kid; anything else is refused."""
    keys = data.get("keys") if isinstance(data, Mapping) else None
    if not isinstance(keys, list) or not all(isinstance(k, Mapping) for k in keys):
        raise NoKey('not a JWK Set: expected {"keys": [...]}')
    kids = [k.get("kid") for k in keys]
    if not all(isinstance(kid, str) and kid for kid in kids) or len(set(kids)) != len(kids):
        raise NoKey("every key in a JWK Set needs a unique kid")
    return {k["kid"]: k for k in keys}


def unusable(jwk: Mapping[str, Any]) -> str | None:
    """Why this key must never verify a token, or None. Only public RSA and EC keys for
    signatures verify tokens (the algorithms allowed are ES*, RS* and PS*): a private key (it
    was leaked, and PyJWT cannot verify with one), a shared secret (whoever holds it can
    sign), a key published for anything but signatures, an RSA key shorter than PyJWT allows
    (2048 bits) or naming an alg but RS* and PS*, an EC key off the curve of ES256, ES384 or
    ES512 or naming another alg than its curve's, and any other kty are refused. The reason
    names no key material, only the names of private members."""
    if private := [name for name in _PRIVATE_MEMBERS if name in jwk]:
        return (
            f"is a private key ({', '.join(private)}): the private part must be removed;"
            " a JWKS publishes public keys only"
        )
    kty = jwk.get("kty")
    if kty == "oct":
        return "is a symmetric (kty oct) key; only public keys may verify tokens"
    if why := _purpose_unusable(jwk):
        return why
    if kty == "EC":
        return _ec_unusable(jwk)
    if kty == "RSA":
        return _rsa_unusable(jwk)
    return f"has kty {kty!r:.20}; only RSA and EC public keys may verify tokens"


def _purpose_unusable(jwk: Mapping[str, Any]) -> str | None:
    """``use`` and ``key_ops`` (RFC 7517 §4.2, §4.3) say what a key is for: one published for
    encryption, or for operations that leave out ``verify``, must not verify a token."""
    if (use := jwk.get("use", "sig")) != "sig":
        return f"has use {use!r:.20}: only a key for signatures (use sig) may verify tokens"
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return "has key_ops without 'verify': only a key for verifying may verify tokens"
    return None


def _rsa_unusable(jwk: Mapping[str, Any]) -> str | None:
    """An RSA key verifies RS* and PS* tokens only, and only at 2048 bits or more."""
    if (alg := jwk.get("alg")) is not None and alg not in _RSA_ALGORITHMS:
        return f"names alg {alg!r:.20}: an RSA key signs {', '.join(_RSA_ALGORITHMS)} only"
    public = {name: jwk[name] for name in ("kty", "n", "e") if name in jwk}
    try:
        short = _RSA.check_key_length(_RSA.from_jwk(public))
    except (jwt.PyJWTError, ValueError, TypeError):
        return "is not a usable RSA public key"
    return f"is refused: {short}" if short else None


def _ec_unusable(jwk: Mapping[str, Any]) -> str | None:
    """JWA (RFC 7518 §3.4) gives each ES algorithm one curve; PyJWT refuses a token whose
    ``alg`` is not its key's curve's, so a key on any other curve, or naming another
    ``alg``, could never verify one."""
    crv, alg = jwk.get("crv"), jwk.get("alg")
    if crv not in _EC_ALGORITHMS:
        return f"has crv {crv!r:.20}: ES256, ES384 and ES512 allow only P-256, P-384 and P-521"
    if alg is not None and alg != _EC_ALGORITHMS[crv]:
        return f"names alg {alg!r:.20}: a {crv} key signs {_EC_ALGORITHMS[crv]} only"
    public = {name: jwk[name] for name in ("kty", "crv", "x", "y") if name in jwk}
    try:
        ECAlgorithm.from_jwk(public)  # the point must be on the curve
    except (jwt.PyJWTError, ValueError, TypeError):
        return "is not a usable EC public key"
    return None


def _usable(keys: dict[str, Mapping[str, Any]], url: str) -> dict[str, Mapping[str, Any]]:
    """The fetched keys that may verify a token; each one left out is logged (kid, why)."""
    kept = {}
    for kid, key in keys.items():
        if (why := unusable(key)) is None:
            kept[kid] = key
        else:
            log.warning(
                "JWKS key ignored", extra={"fields": {"url": url, "kid": kid[:80], "reason": why}}
            )
    return kept


def fetchable(url: str) -> bool:
    """https anywhere; plain http only to this machine (local development and tests)."""
    try:
        jwks_target(url)
    except NoKey:
        return False
    return True
