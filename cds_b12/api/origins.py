"""What other web origins may do here, and the headers that keep pages to themselves.

Without trusted issuers nothing authenticates a caller, so the browser is the boundary:

- only a loopback ``Host`` is answered (or ``CDS_B12_PUBLIC_URL``'s host), so a page
  whose own name resolves to 127.0.0.1 (DNS rebinding) gets a 400, not the service;
- a POST must be JSON (415 otherwise): a cross-origin form or ``text/plain`` fetch is
  sent without a CORS preflight, a JSON one is not;
- CORS answers only on the CDS Hooks endpoints, and by default only to loopback
  origins; with issuers it allows any origin (every call carries a bearer token,
  never a cookie), unless ``CDS_B12_CORS_ORIGINS`` narrows it.

Every answer says ``nosniff`` and sends no referrer; every HTML page has a
Content-Security-Policy (scripts, styles and calls from this origin only; framed only by
``CDS_B12_FRAME_ANCESTORS``); everything but the static files is ``no-store``, since
cards, timelines and feedback are about a patient.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, abort, request
from flask_cors import CORS

from ..config import Settings

log = logging.getLogger("cds_b12.api")
CDS_PATHS = r"^/cds-services(/.*)?$"
LOOPBACK_ORIGIN = re.compile(r"^https?://(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors {frame_ancestors}"
)


def register_origin_rules(app: Flask, settings: Settings) -> None:
    """CORS, the Host and content-type checks, and the response headers. Registered after
    authentication, so that a caller without a token learns nothing but 401."""
    origins = cors_origins(settings)
    if "*" in origins and not settings.authenticating:
        log.warning(
            "CDS_B12_CORS_ORIGINS allows every origin while authentication is off: "
            "any web page this browser opens can call the service"
        )
    CORS(
        app,
        resources={CDS_PATHS: {}},
        origins=origins,
        allow_headers=["Authorization", "Content-Type"],
        methods=["GET", "POST", "OPTIONS"],
        max_age=600,
    )
    _skip_cors_unasked(app)
    hosts = {urlsplit(settings.public_url).hostname} if settings.public_url else set()
    csp = CSP.format(frame_ancestors=settings.frame_ancestors)

    @app.before_request
    def same_machine_and_json() -> None:
        if not settings.authenticating and not _host_allowed(request.host, hosts):
            abort(
                400,
                f"Host {request.host[:100]!r} is not allowed: without trusted issuers the "
                "service answers only to localhost, 127.0.0.1 and [::1]",
            )
        if request.method == "POST" and request.url_rule is not None and not request.is_json:
            abort(415, "send the body as JSON, with Content-Type: application/json")

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = csp
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response


def _skip_cors_unasked(app: Flask) -> None:
    """Leave flask_cors's after-request hook out of a call without an ``Origin`` header (an
    EHR's server, not a browser) when it would add nothing to one: 89 K of a hook call's
    9.51 M instructions. Asked once here: what it sends unasked depends on the origins alone."""
    hooks = app.after_request_funcs[None]
    (i,) = [i for i, hook in enumerate(hooks) if hook.__name__ == "cors_after_request"]
    cors = hooks[i]
    with app.test_request_context("/cds-services", method="POST"):
        unasked = len(cors(Response()).headers) > len(Response().headers)
    if unasked:
        return

    def cors_when_asked(response: Response) -> Response:
        return cors(response) if "HTTP_ORIGIN" in request.environ else response

    hooks[i] = cors_when_asked


def cors_origins(settings: Settings) -> list[str | re.Pattern[str]]:
    if settings.cors_origins is not None:
        return list(settings.cors_origins)
    return ["*"] if settings.authenticating else [LOOPBACK_ORIGIN]


def loopback_base() -> str:
    """This request's base URL, for links back to the service when no
    ``CDS_B12_PUBLIC_URL`` is set: only ever for a loopback Host, never a caller's name."""
    if not is_loopback(_hostname(request.host)):
        abort(400, "set CDS_B12_PUBLIC_URL: links are built only for loopback hosts without it")
    return request.host_url.rstrip("/")


@lru_cache(maxsize=256)  # every request asks; parsing "127.0.0.1" costs 27 K instructions
def is_loopback(name: str) -> bool:
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_allowed(host: str, extra: set[str | None]) -> bool:
    name = _hostname(host)
    return is_loopback(name) or name.lower() in extra


def _hostname(host: str) -> str:
    """``host[:port]`` as Werkzeug validated it ("" if it was malformed) → the name."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.partition(":")[0]
