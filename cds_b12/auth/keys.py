"""Issuers' public keys: fetched from allow-listed JWKS URLs only, cached, refetched sparingly.

An unknown ``kid`` (a rotated key) triggers at most one refetch per URL per
minute, so forged tokens cannot make us hammer an EHR's key endpoint. A fetch
has a timeout, a size cap and no redirects; only loopback URLs may be plain http.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

CACHE_SECONDS = 300.0
REFETCH_SECONDS = 60.0
MAX_JWKS_BYTES = 256 * 1024
TIMEOUT = (2.0, 3.0)


class NoKey(Exception):
    """No usable key; the message is for the log only (a caller sees a bare 401)."""


@dataclass(slots=True)
class _Cached:
    keys: dict[str, Mapping[str, Any]]  # kid -> JWK
    fetched_at: float  # when these keys were fetched
    tried_at: float  # when a fetch was last tried, successful or not


class KeyStore:
    def __init__(self, session: requests.Session | None = None) -> None:
        self._session = session or requests.Session()
        self._session.trust_env = False
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def key(self, url: str, kid: str) -> Mapping[str, Any]:
        """The JWK with this kid from the JWKS at ``url`` (an allow-listed URL)."""
        entry = self._cache.get(url)
        if entry is None or self._wants_fetch(entry, kid):
            with self._lock:
                entry = self._cache.get(url)
                if entry is None or self._wants_fetch(entry, kid):
                    entry = self._fetch_into_cache(url, entry)
        if time.monotonic() - entry.fetched_at >= CACHE_SECONDS or kid not in entry.keys:
            raise NoKey(f"no key {kid!r:.80} in {url}")
        return entry.keys[kid]

    @staticmethod
    def _wants_fetch(entry: _Cached, kid: str) -> bool:
        now = time.monotonic()
        stale = now - entry.fetched_at >= CACHE_SECONDS or kid not in entry.keys
        return stale and now - entry.tried_at >= REFETCH_SECONDS

    def _fetch_into_cache(self, url: str, entry: _Cached | None) -> _Cached:
        now = time.monotonic()
        try:
            keys = jwk_set(self._fetch(url))
        except NoKey:
            if entry is None:
                self._cache[url] = _Cached({}, fetched_at=-CACHE_SECONDS, tried_at=now)
                raise
            entry.tried_at = now  # keep the last good keys until they expire
            return entry
        self._cache[url] = _Cached(keys, fetched_at=now, tried_at=now)
        return self._cache[url]

    def _fetch(self, url: str) -> object:
        if not fetchable(url):
            raise NoKey(f"JWKS URL must be https (or loopback http): {url}")
        try:
            with self._session.get(
                url,
                timeout=TIMEOUT,
                allow_redirects=False,
                stream=True,
                headers={"Accept": "application/json"},
            ) as resp:
                if resp.status_code != 200:
                    raise NoKey(f"JWKS fetch {url} answered {resp.status_code}")
                body = resp.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise NoKey(f"JWKS fetch {url} failed: {type(exc).__name__}") from None
        if len(body) > MAX_JWKS_BYTES:
            raise NoKey(f"JWKS at {url} is larger than {MAX_JWKS_BYTES} bytes")
        try:
            return requests.models.complexjson.loads(body)
        except ValueError:
            raise NoKey(f"JWKS at {url} is not JSON") from None


def jwk_set(data: object) -> dict[str, Mapping[str, Any]]:
    """kid -> JWK for a JWK Set whose every key has a unique kid; anything else is refused."""
    keys = data.get("keys") if isinstance(data, Mapping) else None
    if not isinstance(keys, list) or not all(isinstance(k, Mapping) for k in keys):
        raise NoKey('not a JWK Set: expected {"keys": [...]}')
    kids = [k.get("kid") for k in keys]
    if not all(isinstance(kid, str) and kid for kid in kids) or len(set(kids)) != len(kids):
        raise NoKey("every key in a JWK Set needs a unique kid")
    return {k["kid"]: k for k in keys}


def fetchable(url: str) -> bool:
    """https anywhere; plain http only to this machine (local development and tests)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False
