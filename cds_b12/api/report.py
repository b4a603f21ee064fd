"""``GET /report``: the governance report as a page (``store/report_page.py``), for the
people who review the cards; never for an EHR's users.

Who may see it: with ``CDS_B12_REPORT_TOKEN`` set, only a bearer of that token (compared in
constant time; anything else is a bare 401); else, in local development (no trusted
issuers), callers on this machine only (loopback address; else a bare 401); else, with
authentication on and no token, nobody (404). ``?since=YYYY-MM-DD`` limits it as
``cds-b12 report --since`` does.
"""

from __future__ import annotations

import hmac
import ipaddress
from datetime import UTC, date, datetime
from datetime import time as dt_time

from flask import Blueprint, Response, abort, request

from ..hooks.request import BadRequest
from ..store.governance import governance
from ..store.report_page import report_page
from .runtime import runtime

bp = Blueprint("report", __name__)


@bp.get("/report")
def page() -> Response:
    rt = runtime()
    token = rt.settings.report_token
    if token is not None:
        expected = f"Bearer {token.get_secret_value()}".encode()
        if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected):
            abort(401)
    elif rt.verifier is not None:
        abort(404, "the report needs CDS_B12_REPORT_TOKEN when authentication is on")
    elif not _loopback(request.remote_addr):
        abort(401)
    since = _since(request.args.get("since"))
    rows = governance(rt.db, datetime.combine(since, dt_time.min, UTC) if since else None)
    html = report_page(rows, since=since, today=rt.today(), assets="linked")
    return Response(html, mimetype="text/html")


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _since(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest("since: a date, YYYY-MM-DD") from None
