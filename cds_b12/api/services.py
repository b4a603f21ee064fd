"""``POST /cds-services/{id}``: one hook call, answered with ``{"cards": [...]}``.

Each answered call is audited (cards issued, per rule, for a pseudonymous
patient) by the process's audit writer, off the request path. If the store is
down the clinician still gets the cards: advice matters more than its record,
and the failure is logged as an error.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from ..hooks.gather import PreconditionFailed
from ..hooks.invoke import invoke
from ..hooks.request import HookCall, parse_call
from ..hooks.response import HookResult
from ..hooks.services import SERVICE_BY_ID, Service
from ..store.pseudonym import patient_key
from ..store.records import CallRecord
from .auth import current_caller
from .logs import annotate
from .metrics import metrics
from .runtime import Runtime, runtime
from .timeline import timeline_link

bp = Blueprint("services", __name__)


def find_service(service_id: str) -> Service:
    service = SERVICE_BY_ID.get(service_id)
    if service is None:
        abort(404, f"no CDS service '{service_id[:100]}'; GET /cds-services lists them")
    return service


@bp.post("/cds-services/<service_id>", strict_slashes=False)
def call_service(service_id: str) -> Response:
    service = find_service(service_id)
    body = request.get_json(silent=True)
    annotate(service=service.id, hook=service.hook, hookInstance=_hook_instance(body))
    call = parse_call(body, service)
    rt = runtime()
    profile = rt.profiles[call.profile] if call.profile else rt.profile
    try:
        result = invoke(
            call,
            profile=profile,
            library=rt.cards,
            client=rt.client,
            as_of=rt.today(),
            policy=rt.server_policy(current_caller()),
        )
    except PreconditionFailed as exc:  # 412 (api/errors.py); its fetches still count
        if (m := metrics()) is not None:
            m.fetched(exc.outcomes)
        raise
    annotate(
        rules=[rec.rule for rec in result.evaluation.recommendations],
        cards=len(result.body["cards"]),
        fetched=result.fetched,
    )
    _audit(rt, call, result, profile.name)
    if (m := metrics()) is not None:
        m.hook_result(result)
    link = timeline_link(rt, call.patient_id, call.fhir_server)
    if link is not None:
        for card in result.body["cards"]:
            card["links"] = [link]
    return jsonify(result.body)


def _audit(rt: Runtime, call: HookCall, result: HookResult, profile: str) -> None:
    caller = current_caller()
    rules = [rec.rule for rec in result.evaluation.recommendations]
    record = CallRecord(
        service_id=call.service.id,
        hook=call.service.hook,
        hook_instance=call.hook_instance,
        issuer=caller.issuer.iss if caller else None,
        tenant=caller.tenant if caller else None,
        patient_key=patient_key(rt.pseudonym_key, call.patient_id),
        profile=profile,
        cards=list(zip(rules, result.body["cards"], strict=True)),
    )
    rt.audit.submit(record)


def _hook_instance(body: object) -> str | None:
    """The hookInstance, for the log, even when the request is otherwise invalid."""
    value = body.get("hookInstance") if isinstance(body, dict) else None
    return value[:100] if isinstance(value, str) else None
