"""``POST /cds-services/{id}``: one hook call, answered with ``{"cards": [...]}``."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from ..hooks.invoke import invoke
from ..hooks.request import parse_call
from ..hooks.services import SERVICE_BY_ID, Service
from .auth import current_caller
from .logs import annotate
from .runtime import runtime

bp = Blueprint("services", __name__)


def find_service(service_id: str) -> Service:
    service = SERVICE_BY_ID.get(service_id)
    if service is None:
        abort(404, f"no CDS service '{service_id[:100]}'; GET /cds-services lists them")
    return service


@bp.post("/cds-services/<service_id>", strict_slashes=False)
def call_service(service_id: str) -> Response:
    service = find_service(service_id)
    body = request.get_json(force=True, silent=True)
    annotate(service=service.id, hook=service.hook, hookInstance=_hook_instance(body))
    call = parse_call(body, service)
    rt = runtime()
    result = invoke(call, profile=rt.profile, library=rt.cards, client=rt.client,
                    as_of=rt.today(), policy=rt.server_policy(current_caller()))
    annotate(rules=[rec.rule for rec in result.evaluation.recommendations],
             cards=len(result.body["cards"]), fetched=result.fetched)
    return jsonify(result.body)


def _hook_instance(body: object) -> str | None:
    """The hookInstance, for the log, even when the request is otherwise invalid."""
    value = body.get("hookInstance") if isinstance(body, dict) else None
    return value[:100] if isinstance(value, str) else None
