"""``POST /cds-services/{id}/feedback``: what the clinician did with our cards.

The body is checked in full. Storing it belongs to the feedback store; until
then each entry is logged (card uuid and outcome only) and acknowledged.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from ..hooks.feedback import parse_feedback
from .logs import annotate
from .services import find_service

bp = Blueprint("feedback", __name__)
log = logging.getLogger("cds_b12.feedback")


@bp.post("/cds-services/<service_id>/feedback", strict_slashes=False)
def feedback(service_id: str) -> Response:
    service = find_service(service_id)
    entries = parse_feedback(request.get_json(force=True, silent=True))
    annotate(service=service.id, feedback=len(entries))
    for entry in entries:
        log.info("feedback", extra={"fields": {"service": service.id, "card": entry.card,
                                               "outcome": entry.outcome}})
    return jsonify({})
