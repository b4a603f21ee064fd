"""``GET /cds-services``: the discovery document."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..hooks.services import discovery_document
from .runtime import runtime

bp = Blueprint("discovery", __name__)


@bp.get("/cds-services", strict_slashes=False)
def discovery() -> Response:
    return jsonify(discovery_document(runtime().today()))
