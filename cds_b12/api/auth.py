"""Every call but the CORS preflight, ``/``, ``/healthz`` and ``/openapi.json`` carries a
JWT from a trusted EHR.

A refusal is a bare 401: the reason goes to the server log (never the token),
so a caller probing us learns nothing about why.
"""

from __future__ import annotations

import logging

from flask import Flask, abort, g, request

from ..auth.replay import ReplayStoreDown
from ..auth.verify import Caller, Unauthorized
from .logs import annotate
from .metrics import metrics
from .runtime import runtime

log = logging.getLogger("cds_b12.auth")
# Browser navigations carry no JWT: the SMART launch authenticates through the EHR instead.
OPEN_ENDPOINTS = {
    "health.healthz",
    "landing.index",
    "metrics.scrape",  # its own bearer token: CDS_B12_METRICS_TOKEN (api/metrics.py)
    "openapi.openapi",
    "report.page",  # its own bearer token: CDS_B12_REPORT_TOKEN (api/report.py)
    "static",
    "timeline.launch",
    "timeline.callback",
}


def register_auth(app: Flask) -> None:
    @app.before_request
    def authenticate() -> None:
        verifier = runtime().verifier
        if verifier is None or request.method == "OPTIONS" or request.endpoint in OPEN_ENDPOINTS:
            return
        audience = runtime().settings.public_url + request.path.rstrip("/")
        try:
            g.caller = verifier.verify(request.headers.get("Authorization"), audience)
        except Unauthorized as exc:
            log.warning(
                "authentication refused",
                extra={"fields": {"reason": str(exc), "path": request.path}},
            )
            annotate(auth="refused")
            if (m := metrics()) is not None:
                m.refused(str(exc))
            abort(401)
        except ReplayStoreDown as exc:
            log.error("replay store unavailable", extra={"fields": {"error": str(exc)}})
            if (m := metrics()) is not None:
                m.refused("replay store down")
            abort(503, "authentication is temporarily unavailable")
        annotate(iss=g.caller.issuer.iss, tenant=g.caller.tenant, jti=g.caller.jti)


def current_caller() -> Caller | None:
    return g.get("caller")
