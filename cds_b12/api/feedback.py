"""``POST /cds-services/{id}/feedback``: what the clinician did with our cards.

The body is checked in full before anything is written, then every entry is
stored in one transaction; the 200 comes only after it is committed. Feedback on
a card we never issued, or issued to another EHR (issuer or tenant), is stored and
flagged as about an unknown card, not refused: the answer is the same 200, so a
caller learns nothing about other EHRs' cards, and the entry does not count for
the card.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from ..hooks.feedback import parse_feedback
from ..store.records import record_feedback
from .auth import current_caller
from .logs import annotate
from .metrics import metrics
from .runtime import runtime
from .services import find_service

bp = Blueprint("feedback", __name__)
log = logging.getLogger("cds_b12.feedback")


@bp.post("/cds-services/<service_id>/feedback", strict_slashes=False)
def feedback(service_id: str) -> Response:
    service = find_service(service_id)
    entries = parse_feedback(request.get_json(silent=True))
    caller = current_caller()
    rt = runtime()
    try:
        stored = record_feedback(
            rt.db,
            service.id,
            entries,
            issuer=caller.issuer.iss if caller else None,
            tenant=caller.tenant if caller else None,
        )
    except SQLAlchemyError as exc:
        log.error("feedback not stored", extra={"fields": {"error": type(exc).__name__}})
        abort(503, "the feedback could not be stored; please send it again")
    annotate(service=service.id, feedback=len(entries), stored=stored)
    if (m := metrics()) is not None:
        m.feedback_stored(entries, stored)
    return jsonify({})
