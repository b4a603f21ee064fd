"""``GET /healthz``: readiness for load balancers and ``serve``'s own start-up check."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..clinical.profiles import overridden
from ..hooks.services import SERVICES
from .runtime import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    rt = runtime()
    return jsonify(
        {
            "status": "ok",
            "profile": rt.profile.name,
            "services": [s.id for s in SERVICES],
            "cardRules": len(rt.cards.rules()),
            # The judgement values this deployment changed, per profile ({} when none).
            "profileOverrides": overridden(rt.profiles),
        }
    )
