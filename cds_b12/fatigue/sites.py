"""Per-site rule settings: with several EHR sites on one deployment, each may switch rules
off, change a rule's indicator, or set its own hold periods, in one file that
``CDS_B12_SITE_SETTINGS`` names (TOML, or JSON when the name ends in ``.json``)::

    [default]                                # every site, unless its own table says otherwise
    snooze_days = { "patient-declined" = 60 }

    [sites."tenant-a"]                       # a JWT ``tenant``, else an issuer (``iss``)
    rules_off = ["R17-metformin-screening"]
    indicators = { "R18-acid-suppressant-screening" = "info" }
    snooze_days = { "already-addressed" = 7 }
    accepted_days = 14

A safety rail is never switched off: the file may not name a rail (S1, S2, ...), switch off or lower
a critical safety card (``policy.CRITICAL_RULES``), and a card sent as critical stays critical
and shown whatever its site says. Such a file is refused whole, in one line. The service
checks the file's modification time as calls come (at most once a second) and reads it again
when it changed; a file that became invalid is logged and the last good one kept.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..clinical.sources import RULE_SOURCES
from .policy import CRITICAL_RULES, DEFAULT_SNOOZE_DAYS, Policy

log = logging.getLogger("cds_b12.config")
RECHECK_SECONDS = 1.0
_SAFETY_ID = re.compile(r"^S\d+$", re.IGNORECASE)
Days = Annotated[int, Field(ge=0, le=3650)]


class SiteError(ValueError):
    """A settings file that cannot be used; the message names the entry at fault."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    rules_off: list[str] = Field(default_factory=list)
    indicators: dict[str, Literal["info", "warning", "critical"]] = Field(default_factory=dict)
    snooze_days: dict[str, Days] = Field(default_factory=dict)
    accepted_days: Days | None = None

    @field_validator("rules_off")
    @classmethod
    def _off(cls, rules: list[str]) -> list[str]:
        for rule in rules:
            _known(rule)
            if rule in CRITICAL_RULES:
                raise ValueError(f"{rule} is a critical safety card and cannot be switched off")
        return rules

    @field_validator("indicators")
    @classmethod
    def _indicators(cls, indicators: dict[str, str]) -> dict[str, str]:
        for rule, indicator in indicators.items():
            _known(rule)
            if rule in CRITICAL_RULES and indicator != "critical":
                raise ValueError(f"{rule} is a critical safety card and stays critical")
        return indicators

    @field_validator("snooze_days")
    @classmethod
    def _reasons(cls, days: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(days) - set(DEFAULT_SNOOZE_DAYS))
        if unknown:
            known = ", ".join(sorted(DEFAULT_SNOOZE_DAYS))
            raise ValueError(f"unknown override reason {unknown[0]!r} (known: {known})")
        return days


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    default: _Entry = Field(default_factory=_Entry)
    sites: dict[str, _Entry] = Field(default_factory=dict)


def _known(rule: str) -> None:
    if _SAFETY_ID.match(rule):
        raise ValueError(f"{rule} is a safety rail: safety rails always run and cannot be changed")
    if rule not in RULE_SOURCES:
        raise ValueError(f"{rule!r} is not a rule id (e.g. R17-metformin-screening)")


@dataclass(frozen=True, slots=True)
class SiteRules:
    """What one site's calls use: its rules switched off, its indicators, its hold periods."""

    rules_off: frozenset[str] = frozenset()
    indicators: Mapping[str, str] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)

    def indicator(self, rule: str, sent: str) -> str:
        """The card's indicator at this site; a card sent as critical stays critical."""
        return sent if sent == "critical" else self.indicators.get(rule, sent)

    def switched_off(self, rule: str, sent: str) -> bool:
        return rule in self.rules_off and sent != "critical"


DEFAULT_SITE = SiteRules()


@dataclass(frozen=True, slots=True)
class SiteTable:
    default: SiteRules = DEFAULT_SITE
    sites: Mapping[str, SiteRules] = field(default_factory=dict)

    def site(self, tenant: str | None, issuer: str | None) -> SiteRules:
        """The tenant's own settings, else its issuer's, else the default."""
        for key in (tenant, issuer):
            if key is not None and key in self.sites:
                return self.sites[key]
        return self.default


def load_sites(path: Path) -> SiteTable:
    """The settings in ``path``; raises SiteError naming the file and the entry at fault."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SiteError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else tomllib.loads(raw.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise SiteError(f"{path}: not valid {kind} ({exc})") from None
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        message = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
        raise SiteError(f"{path}: {where}: {message.removeprefix('Value error, ')}") from None
    default = _rules(parsed.default, None)
    return SiteTable(
        default, MappingProxyType({k: _rules(v, parsed.default) for k, v in parsed.sites.items()})
    )


def _rules(entry: _Entry, default: _Entry | None) -> SiteRules:
    base = default or _Entry()
    accepted = entry.accepted_days if entry.accepted_days is not None else base.accepted_days
    policy = Policy(
        snooze_days=MappingProxyType(
            {**DEFAULT_SNOOZE_DAYS, **base.snooze_days, **entry.snooze_days}
        ),
        **({"accepted_days": accepted} if accepted is not None else {}),
    )
    return SiteRules(
        rules_off=frozenset({*base.rules_off, *entry.rules_off}),
        indicators=MappingProxyType({**base.indicators, **entry.indicators}),
        policy=policy,
    )


class SiteSettings:
    """The file's settings, read again when its modification time changes."""

    def __init__(self, path: Path | None, table: SiteTable | None = None) -> None:
        self.path = path
        self._table = table or (load_sites(path) if path else SiteTable())
        self._mtime = _mtime(path)
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def site(self, tenant: str | None, issuer: str | None) -> SiteRules:
        if self.path is not None and time.monotonic() - self._checked >= RECHECK_SECONDS:
            self._reload()
        return self._table.site(tenant, issuer)

    def _reload(self) -> None:
        assert self.path is not None
        with self._lock:
            self._checked = time.monotonic()
            mtime = _mtime(self.path)
            if mtime == self._mtime:
                return
            self._mtime = mtime
            try:
                self._table = load_sites(self.path)
            except SiteError as exc:
                log.error(
                    "site settings not reloaded; the last good ones stay",
                    extra={"fields": {"error": str(exc)}},
                )
                return
            log.info("site settings reloaded", extra={"fields": {"file": str(self.path)}})


def _mtime(path: Path | None) -> int | None:
    try:
        return os.stat(path).st_mtime_ns if path else None
    except OSError:
        return None
