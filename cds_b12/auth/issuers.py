"""The trusted issuers: one entry per EHR (``iss``), from ``CDS_B12_TRUSTED_ISSUERS``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .keys import NoKey, fetchable, jwk_set, unusable

# ES384 and RS384 are what CDS Hooks recommends; an issuer may add the others.
DEFAULT_ALGORITHMS = frozenset({"ES384", "RS384"})
OPTIONAL_ALGORITHMS = frozenset({"ES256", "ES512", "RS256", "RS512", "PS256", "PS384", "PS512"})


class IssuerConfigError(ValueError):
    """``CDS_B12_TRUSTED_ISSUERS`` is wrong; the message names the issuer and the field."""


@dataclass(frozen=True, slots=True)
class Issuer:
    iss: str
    jwks_url: str | None  # where its keys live, fetched and cached
    jwks: Mapping[str, Any] | None  # or its keys, given inline
    jku_allowlist: tuple[str, ...]  # JWKS URLs a token's `jku` header may name
    fhir_servers: tuple[str, ...]  # FHIR bases its requests may name
    algorithms: frozenset[str]
    tenants: tuple[str, ...]  # if set, a token's `tenant` must be one of these


def parse_issuers(raw: Mapping[str, Any]) -> dict[str, Issuer]:
    issuers = {}
    for iss, entry in raw.items():
        if not isinstance(entry, Mapping):
            raise IssuerConfigError(f"{iss}: must be a JSON object")
        jwks_url, jwks = entry.get("jwks_url"), entry.get("jwks")
        if (jwks_url is None) == (jwks is None):
            raise IssuerConfigError(f"{iss}: give exactly one of jwks_url and jwks")
        if jwks_url is not None and not isinstance(jwks_url, str):
            raise IssuerConfigError(f"{iss}: jwks_url must be a URL")
        jku_allowlist = _strings(entry, "jku_allowlist", iss)
        for url in (*jku_allowlist, *([jwks_url] if jwks_url else [])):
            if not fetchable(url):
                raise IssuerConfigError(f"{iss}: {url} must be https (http only on loopback)")
        if jwks is not None:
            try:
                keys = jwk_set(jwks)
            except NoKey as exc:
                raise IssuerConfigError(f"{iss}: jwks: {exc}") from None
            for kid, key in keys.items():
                if why := unusable(key):
                    raise IssuerConfigError(f"{iss}: jwks: key {kid!r:.80} {why}")
        algorithms = frozenset(_strings(entry, "algorithms", iss) or DEFAULT_ALGORITHMS)
        unknown = algorithms - DEFAULT_ALGORITHMS - OPTIONAL_ALGORITHMS
        if unknown:
            raise IssuerConfigError(
                f"{iss}: algorithms not allowed: {', '.join(sorted(unknown))}"
                " (asymmetric ES/RS/PS only)"
            )
        issuers[iss] = Issuer(
            iss=iss,
            jwks_url=jwks_url,
            jwks=jwks,
            jku_allowlist=jku_allowlist,
            fhir_servers=tuple(s.rstrip("/") for s in _strings(entry, "fhir_servers", iss)),
            algorithms=algorithms,
            tenants=_strings(entry, "tenants", iss),
        )
    return issuers


def _strings(entry: Mapping[str, Any], field: str, iss: str) -> tuple[str, ...]:
    value = entry.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise IssuerConfigError(f"{iss}: {field} must be a list of strings")
    return tuple(value)
