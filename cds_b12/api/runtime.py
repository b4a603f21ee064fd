"""What every request needs, built once per process: settings, profile, cards, FHIR client,
the store (migrated to the current schema), and, when issuers are trusted, the JWT verifier."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from flask import current_app

from ..auth.issuers import parse_issuers
from ..auth.keys import KeyStore
from ..auth.replay import RedisReplayStore, ReplayStore
from ..auth.verify import Caller, Verifier
from ..clinical import Profile
from ..clinical.profiles import overridden
from ..config import Settings
from ..fatigue.sites import SiteSettings
from ..hooks.fetch import FhirClient, Limits, ServerPolicy
from ..net.urls import UrlPolicy
from ..render import CardLibrary, load_card_library
from ..store.audit_writer import AuditWriter
from ..store.db import Database
from ..store.pseudonym import load_key
from ..store.single_use import DatabaseReplayStore

log = logging.getLogger("cds_b12.config")


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    profile: Profile  # the default profile, for calls that name none
    profiles: Mapping[str, Profile]  # "us", "uk": with this deployment's overrides
    cards: CardLibrary
    client: FhirClient
    verifier: Verifier | None  # None: no trusted issuers, authentication off (loopback only)
    # what has been used once (JWT ids, SMART launch states), shared by every worker and replica
    replay: ReplayStore
    db: Database
    audit: AuditWriter
    pseudonym_key: bytes
    today: Callable[[], date]
    sites: SiteSettings  # per-site rule settings, read again when the file changes

    @classmethod
    def start(
        cls, settings: Settings, today: Callable[[], date], *, background_audit: bool = False
    ) -> Runtime:
        """Load and check the card wording now, so a bad card file stops start-up, not a call.
        Active profile overrides are logged here, where an operator reads the start-up."""
        db = Database(settings.store_url)
        db.upgrade()  # at head this is one query; SQLite is local, PostgreSQL takes a lock
        replay: ReplayStore = (
            RedisReplayStore(settings.redis_url)
            if settings.redis_url
            else DatabaseReplayStore(Database(settings.store_url, durable=False))
        )
        verifier = None
        if settings.authenticating:
            verifier = Verifier(parse_issuers(settings.trusted_issuers), KeyStore(), replay)
        secret = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else None
        overrides = overridden(settings.profiles)
        if overrides:
            logging.getLogger("cds_b12").info(
                "profile overrides active",
                extra={"fields": {"file": str(settings.profile_overrides), "overrides": overrides}},
            )
        started = cls(
            settings=settings,
            profile=settings.profiles[settings.profile],
            profiles=settings.profiles,
            cards=load_card_library(settings.cards_dir),
            client=FhirClient(Limits.of(settings)),
            verifier=verifier,
            replay=replay,
            db=db,
            audit=AuditWriter(db, background=background_audit),
            pseudonym_key=load_key(secret, settings.data_dir),
            today=today,
            sites=SiteSettings(settings.site_settings, settings.site_table),
        )
        if settings.site_settings is not None:
            table = settings.site_table
            logging.getLogger("cds_b12").info(
                "site settings active",
                extra={
                    "fields": {
                        "file": str(settings.site_settings),
                        "sites": sorted(table.sites) if table else [],
                    }
                },
            )
        started.warn_unreachable()
        return started

    def server_policy(self, caller: Caller | None) -> ServerPolicy:
        """Without authentication (local development) any server is allowed unless an
        allowlist is set; with it, https only (http to this machine only if allowed), and
        only the allowlist and the issuer's servers."""
        allowlist = self.settings.fhir_server_allowlist
        if self.verifier is None:
            return ServerPolicy(allowlist)
        issuer_servers = caller.issuer.fhir_servers if caller else ()
        return ServerPolicy(
            (*allowlist, *issuer_servers),
            open=False,
            https_only=True,
            http_loopback=self.settings.allow_loopback_http,
        )

    def launch_policy(self) -> ServerPolicy:
        """Which FHIR servers a SMART launch may name as ``iss``: with authentication on,
        the allowlist and every trusted issuer's servers, under the same scheme rule."""
        if self.verifier is None:
            return self.server_policy(None)
        servers = [s for issuer in self.verifier.issuers.values() for s in issuer.fhir_servers]
        return ServerPolicy(
            (*self.settings.fhir_server_allowlist, *servers),
            open=False,
            https_only=True,
            http_loopback=self.settings.allow_loopback_http,
        )

    def warn_unreachable(self) -> None:
        """Log each configured server that no request can ever match, so that an operator
        learns it at start rather than from a 412."""
        loopback = self.settings.allow_loopback_http
        fhir = UrlPolicy(https_only=self.verifier is not None, http_loopback=loopback)
        lists = [("CDS_B12_FHIR_SERVER_ALLOWLIST", self.settings.fhir_server_allowlist, fhir)]
        lists += [
            (f"fhir_servers of {issuer.iss}", issuer.fhir_servers, fhir)
            for issuer in (self.verifier.issuers.values() if self.verifier else ())
        ]
        oauth = UrlPolicy(https_only=True, http_loopback=loopback)
        lists.append(("CDS_B12_SMART_AUTH_SERVERS", self.settings.smart_auth_servers, oauth))
        for where, bases, policy in lists:
            for base, why in policy.unreachable(bases):
                if why == "must use https":
                    why += "; CDS_B12_ALLOW_LOOPBACK_HTTP=true allows http to this machine"
                log.warning(
                    "a configured server can never be contacted",
                    extra={"fields": {"setting": where, "url": base, "reason": why}},
                )


def runtime() -> Runtime:
    return current_app.extensions["cds_b12"]
