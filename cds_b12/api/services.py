"""``POST /cds-services/{id}``: one hook call, answered with ``{"cards": [...]}``.

Each answered call is audited (cards issued, per rule, for a pseudonymous
patient) by the process's audit writer, off the request path. If the store is
down the clinician still gets the cards: advice matters more than its record,
and the failure is logged as an error. Before that, the cards that earlier feedback
holds back are taken out (``api/fatigue.py``).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from ..hooks.gather import PreconditionFailed
from ..hooks.invoke import invoke
from ..hooks.request import HookCall, parse_call
from ..hooks.services import SERVICE_BY_ID, Service
from ..store.pseudonym import patient_key
from ..store.records import CallRecord
from .auth import current_caller
from .fatigue import Shown, encounter_of, held_extension, hold_back
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
    caller = current_caller()
    key = patient_key(rt.pseudonym_key, call.patient_id)
    shown = hold_back(rt, call, caller, result, key)
    body: dict = {"cards": [card for _, card in shown.cards]}
    if shown.held:
        body["extension"] = held_extension(shown.held)
    annotate(
        rules=[rec.rule for rec in result.evaluation.recommendations],
        cards=len(body["cards"]),
        fetched=result.fetched,
    )
    if shown.held:
        annotate(held=[h.rule for h in shown.held])
    _audit(rt, call, shown, key, profile.name)
    if (m := metrics()) is not None:
        m.hook_result(result, shown.held)
    link = timeline_link(rt, call.patient_id, call.fhir_server)
    if link is not None:
        for card in body["cards"]:
            card["links"] = [link]
    return jsonify(body)


def _audit(rt: Runtime, call: HookCall, shown: Shown, key: str, profile: str) -> None:
    caller = current_caller()
    record = CallRecord(
        service_id=call.service.id,
        hook=call.service.hook,
        hook_instance=call.hook_instance,
        issuer=caller.issuer.iss if caller else None,
        tenant=caller.tenant if caller else None,
        patient_key=key,
        profile=profile,
        cards=shown.cards,
        encounter=encounter_of(call),
        fingerprints=shown.fingerprints,
        held=shown.held,
    )
    rt.audit.submit(record)


def _hook_instance(body: object) -> str | None:
    """The hookInstance, for the log, even when the request is otherwise invalid."""
    value = body.get("hookInstance") if isinstance(body, dict) else None
    return value[:100] if isinstance(value, str) else None
