"""Verify a CDS client's JWT (CDS Hooks 2.0 §Trusting CDS Clients; best-practices §JWT).

Every check either passes or raises ``Unauthorized`` with a reason for the log.
The caller gets a bare 401 whatever the reason. The token, its signature and its
other claims never reach a log line: a reason names at most the header's ``alg``,
``kid`` and ``jku`` and the claims ``iss``, ``tenant`` and ``jti``, each cut short.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from .issuers import Issuer
from .keys import KeyStore, NoKey
from .replay import ReplayStore

LEEWAY = 60  # seconds of clock skew tolerated for exp and iat
MAX_LIFETIME = 3600  # a token may not claim to live longer than this (bounds the jti store)


class Unauthorized(Exception):
    """The token is refused; ``str(exc)`` is the reason, for the server log only."""


@dataclass(frozen=True, slots=True)
class Caller:
    issuer: Issuer
    tenant: str | None
    jti: str


class Verifier:
    def __init__(self, issuers: Mapping[str, Issuer], keys: KeyStore, replay: ReplayStore):
        self.issuers = issuers
        self.keys = keys
        self.replay = replay

    def verify(self, authorization: str | None, audience: str) -> Caller:
        token = _bearer(authorization)
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthorized("malformed JWT") from None
        issuer = self._issuer(header, unverified)
        key = self._key(header, issuer)
        try:
            claims = jwt.decode(
                token,
                key=jwt.PyJWK(dict(key), algorithm=header["alg"]),
                algorithms=sorted(issuer.algorithms),
                audience=[audience, audience + "/"],  # one trailing slash is tolerated
                issuer=issuer.iss,
                leeway=LEEWAY,
                options={
                    "require": ["iss", "aud", "exp", "iat", "jti"],
                    # an RSA key under 2048 bits (NIST SP 800-131A) is refused, not warned
                    # about; keys.unusable already keeps such keys out of every key set
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"{type(exc).__name__}: {exc}") from None
        return self._claims(claims, issuer)

    def _issuer(self, header: dict[str, Any], unverified: dict[str, Any]) -> Issuer:
        if str(header.get("typ", "")).upper() != "JWT":
            raise Unauthorized("header typ is not JWT")
        if not isinstance(header.get("kid"), str) or not header["kid"]:
            raise Unauthorized("header has no kid")
        iss = unverified.get("iss")
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise Unauthorized(f"untrusted issuer {str(iss)[:100]!r}")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in issuer.algorithms:
            raise Unauthorized(f"algorithm {str(alg)[:20]!r} not allowed")
        return issuer

    def _key(self, header: dict[str, Any], issuer: Issuer) -> Mapping[str, Any]:
        """The configured key with the token's kid; only when there is none, the key at the
        token's ``jku``, and only if that URL is on the issuer's allowlist. A key that names
        an ``alg`` verifies that one only (RFC 8725 §3.1): PyJWT is handed the token's."""
        kid, jku = header["kid"], header.get("jku")
        problem = f"no key {kid!r:.80} in the configured JWKS"
        try:
            key = self._configured_key(issuer, kid)
        except NoKey as exc:  # the jwks_url fetch failed, or has no such kid
            key, problem = None, str(exc)
        if key is None and jku is not None:
            if jku not in issuer.jku_allowlist:  # never fetch a key from a caller's URL
                raise Unauthorized(
                    f"{problem}, and jku {str(jku)[:200]!r} is not on the issuer's allowlist"
                )
            try:
                key = self.keys.key(jku, kid)
            except NoKey as exc:
                raise Unauthorized(str(exc)) from None
        if key is None:
            raise Unauthorized(problem)
        declared, alg = key.get("alg"), header["alg"]
        if declared is not None and declared != alg:
            raise Unauthorized(
                f"key {kid!r:.80} is for {declared!r:.20}, not the token's {alg!r:.20}"
            )
        return key  # one published for anything but signatures is in no key set (keys.unusable)

    def _configured_key(self, issuer: Issuer, kid: str) -> Mapping[str, Any] | None:
        """From the inline ``jwks`` (None if it has no such kid) or fetched from ``jwks_url``."""
        if issuer.jwks is not None:
            return next((k for k in issuer.jwks["keys"] if k.get("kid") == kid), None)
        if issuer.jwks_url is None:
            return None
        return self.keys.key(issuer.jwks_url, kid)

    def _claims(self, claims: dict[str, Any], issuer: Issuer) -> Caller:
        now = time.time()
        if not all(_is_number(claims[name]) for name in ("exp", "iat")):
            raise Unauthorized("exp and iat must be numbers")
        if claims["iat"] > now + LEEWAY:
            raise Unauthorized("iat is in the future")
        if claims["exp"] > now + MAX_LIFETIME + LEEWAY:
            raise Unauthorized("exp is more than an hour away")
        jti, tenant = claims["jti"], claims.get("tenant")
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise Unauthorized("jti is not a usable string")
        if tenant is not None and (not isinstance(tenant, str) or len(tenant) > 200):
            raise Unauthorized("tenant is not a string of at most 200 characters")
        if issuer.tenants and tenant not in issuer.tenants:
            raise Unauthorized(f"tenant {str(tenant)[:100]!r} not allowed for this issuer")
        if not self.replay.first_use(issuer.iss, jti, float(claims["exp"]) + LEEWAY):
            raise Unauthorized(f"replayed jti {jti[:100]!r}")
        return Caller(issuer, tenant, jti)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("no Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization is not a Bearer token")
    return token.strip()
