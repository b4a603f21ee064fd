"""``/preview``: the cards as an EHR shows them, for developers and clinicians trying the service.

Local development only (no trusted issuers): it serves the bundled fixture
patients, or a patient on a FHIR server under the same allowlist as the hooks.
The page itself posts the exact CDS Hooks request to the real service endpoint
and real feedback to the feedback endpoint; these routes only help build them.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request, send_from_directory
from sqlalchemy import select

from ..hooks.drafts import draft_order
from ..hooks.example_request import example_request, server_request
from ..hooks.fixtures import find_fixture, fixture_patients
from ..hooks.request import PROFILE_EXTENSION, BadRequest
from ..hooks.response import HOOKS, ORDER_HOOKS
from ..hooks.services import SERVICES
from ..store.db import as_utc
from ..store.schema import Feedback
from .runtime import runtime

bp = Blueprint("preview", __name__)


@bp.before_request
def local_only() -> None:
    if runtime().verifier is not None:
        abort(404)


@bp.get("/preview")
def page() -> Response:
    return send_from_directory(current_app.static_folder or "", "preview.html")


@bp.get("/preview/patients")
def patients() -> Response:
    return jsonify(
        [
            {
                "id": p.patient_id,
                "folder": p.folder,
                "description": p.description,
                "hook": p.hook,
                "profiles": list(p.profiles),
                "rules": sorted(p.expect),
                "messy": p.messy,
            }
            for p in fixture_patients()
        ]
    )


@bp.post("/preview/request")
def build_request() -> Response:
    """The hook request for a fixture patient (with prefetch) or a FHIR server's (without)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    hook, profile = body.get("hook"), body.get("profile", runtime().profile.name.lower())
    if hook not in HOOKS:
        raise BadRequest(f"hook must be one of {', '.join(HOOKS)}")
    if profile not in ("us", "uk"):
        raise BadRequest("profile must be 'us' or 'uk'")
    patient_id = body.get("patient")
    if not isinstance(patient_id, str) or not patient_id:
        raise BadRequest("patient: a patient id is required")
    today = runtime().today()
    choices = body.get("drafts") or []
    if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
        raise BadRequest("drafts must be a list of objects")
    drafts = [draft_order(c, patient_id, today) for c in choices] if hook in ORDER_HOOKS else []
    server = body.get("fhirServer")
    if server:
        call = server_request(patient_id, hook=hook, drafts=drafts, fhir_server=str(server))
    else:
        fixture = find_fixture(patient_id)
        if fixture is None:
            raise BadRequest(f"patient: no bundled patient '{patient_id[:100]}'")
        resources, own_drafts = fixture.data(today)
        if hook in ORDER_HOOKS:
            drafts = [*own_drafts, *drafts]
        call = example_request(resources, hook=hook, drafts=drafts)
    call["extension"] = {PROFILE_EXTENSION: profile}
    service = next(s for s in SERVICES if s.hook == hook)
    return jsonify({"service": service.id, "request": call})


@bp.get("/preview/feedback/<path:card>")
def recorded(card: str) -> Response:
    """What the store holds for one card: the page shows that its feedback was recorded."""
    with runtime().db.session() as session:
        rows = session.execute(
            select(Feedback.outcome, Feedback.override_code, Feedback.received_at)
            .where(Feedback.card_uuid == card)
            .order_by(Feedback.id)
        ).all()
    return jsonify(
        {
            "card": card,
            "feedback": [
                {
                    "outcome": outcome,
                    "reason": code,
                    "receivedAt": as_utc(at).isoformat(),
                }
                for outcome, code, at in rows
            ],
        }
    )
