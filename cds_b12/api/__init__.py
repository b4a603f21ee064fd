"""API layer: the Flask app factory. The only layer that imports flask.

HTTP → request → patient data → assessment → recommendations → cards → HTTP:
the blueprints parse and answer; everything between is ``cds_b12.hooks``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import IO

from flask import Flask, Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from ..config import Settings
from . import metrics
from .auth import register_auth
from .discovery import bp as discovery_bp
from .errors import register_error_handlers
from .feedback import bp as feedback_bp
from .health import bp as health_bp
from .json_provider import OrjsonProvider
from .landing import bp as landing_bp
from .logs import configure_logging, register_request_log
from .openapi import bp as openapi_bp
from .origins import register_origin_rules
from .preview import bp as preview_bp
from .report import bp as report_bp
from .runtime import Runtime
from .services import bp as services_bp
from .timeline import bp as timeline_bp

MAX_BODY_BYTES = 5 * 1024 * 1024


class _Capped(LimitedStream):
    """A body of unknown length (chunked) up to ``limit``, and 413 past it. Werkzeug's own
    ``LimitedStream`` ends such a body at the limit without a word, so a longer one arrived
    cut short and was refused as broken JSON (400); one byte more tells the two apart."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__(stream, limit + 1, is_max=True)
        self.max_length = limit

    def readinto(self, b: bytearray) -> int | None:  # type: ignore[override]
        read = super().readinto(b)
        if self.tell() > self.max_length:
            raise RequestEntityTooLarge()
        return read


class _Request(Request):
    @cached_property
    def stream(self) -> IO[bytes]:
        """The body, for a server that ends it itself (gunicorn, the test client:
        ``wsgi.input_terminated``). One of known length is read straight from the server's
        stream: werkzeug wraps it in a ``LimitedStream`` up to ``MAX_CONTENT_LENGTH`` and reads
        it 64 KiB at a time through fresh buffers, 0.33 M instructions for a typical call's
        35 KB, 0.11 M read directly. A longer Content-Length is refused with 413 by werkzeug,
        and a chunked body over the limit by ``_Capped``."""
        environ, length, limit = self.environ, self.content_length, self.max_content_length
        if "wsgi.input_terminated" in environ and not self.shallow:
            if length is None and limit is not None:
                return _Capped(environ["wsgi.input"], limit)
            if length is not None and (limit is None or length <= limit):
                return environ["wsgi.input"]
        return super().stream


def create_app(
    settings: Settings | None = None,
    *,
    today: Callable[[], date] = date.today,
    background_audit: bool = False,
) -> Flask:
    """Build the app; ``today`` is injectable so tests can pin the evaluation date.

    ``background_audit``: audit rows go through a writer thread per worker (``serve``);
    otherwise each call writes its own before answering, which tests can rely on.
    """
    settings = settings or Settings()
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.request_class = _Request
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json = OrjsonProvider(app)
    app.extensions["cds_b12"] = Runtime.start(settings, today, background_audit=background_audit)
    for bp in (
        discovery_bp,
        services_bp,
        feedback_bp,
        health_bp,
        landing_bp,
        openapi_bp,
        preview_bp,
        report_bp,
        timeline_bp,
    ):
        app.register_blueprint(bp)
    register_request_log(app)  # first: its clock also times the token check
    register_auth(app)
    register_origin_rules(app, settings)
    register_error_handlers(app)
    metrics.init_app(app)
    if settings.proxy_count:
        # the client's address and scheme as the proxies saw them (the JWT audience never
        # comes from a header: it is CDS_B12_PUBLIC_URL)
        hops = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app
