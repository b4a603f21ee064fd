"""``/timeline``: one patient's B12 results, injections, phases and plan as a picture.

Two ways in:

- local development: ``/timeline?patient=ID`` for a bundled patient, with
  ``&fhirServer=URL`` for a patient on a FHIR server (same allowlist as the hooks);
- a SMART-capable EHR: the card's ``smart`` link opens ``/timeline/launch`` with
  ``launch`` and ``iss``; the service asks the EHR to authorize, exchanges the
  code for a token, fetches the patient with it, and draws the page. The token
  never reaches the browser.

Either way the page carries the patient's reminder calendar (``reminders.py``),
built from the same patient-view answer as the picture; in local development
``/timeline/calendar.ics?patient=ID`` serves it as a file too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..auth import smart
from ..clinical.timeline import timeline
from ..hooks.fetch import FhirServer
from ..hooks.fixtures import find_fixture
from ..hooks.gather import PreconditionFailed, gather
from ..hooks.request import BadRequest, patient_call
from ..hooks.response import HookResult, respond
from ..hooks.services import SERVICES
from ..net.urls import UrlRefused
from ..reminders import calendar
from ..render.timeline import timeline_json
from .origins import loopback_base
from .runtime import Runtime, runtime

bp = Blueprint("timeline", __name__)
STATE_COOKIE = "cds_b12_smart"
STATE_SECONDS = 600
MAX_SAID = 200  # characters of the EHR's error code said back (RFC 6749 codes are short)
SCOPES = (
    "launch patient/Patient.read patient/Observation.read "
    "patient/MedicationRequest.read patient/MedicationAdministration.read "
    "patient/MedicationStatement.read patient/Condition.read patient/Procedure.read "
    "patient/AllergyIntolerance.read"
)


@bp.get("/timeline")
def page() -> Response:
    if runtime().verifier is not None:
        abort(404)  # without a SMART launch there is no one to vouch for the viewer
    return _page(None)


@bp.get("/timeline/data")
def data() -> Response:
    rt = runtime()
    patient_id, resources = _local_patient(rt)
    return jsonify(_timeline(rt, patient_id, resources))


@bp.get("/timeline/calendar.ics")
def calendar_file() -> Response:
    """The patient's planned injections and lab windows as iCalendar (RFC 5545)."""
    rt = runtime()
    patient_id, resources = _local_patient(rt)
    body = _calendar(rt, patient_id, _answer(rt, resources))
    name = re.sub(r"[^A-Za-z0-9._-]", "_", patient_id)[:100]
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="b12-plan-{name}.ics"'},
    )


def _local_patient(rt: Runtime) -> tuple[str, list[object]]:
    """``?patient=ID`` (bundled) or with ``&fhirServer=URL``; only without caller
    authentication, where the timeline itself is served this way."""
    if rt.verifier is not None:
        abort(404)
    patient_id = request.args.get("patient", "")
    if not patient_id:
        raise BadRequest("patient: a patient id is required")
    server = request.args.get("fhirServer")
    if server:
        return patient_id, _fetch(rt, patient_id, FhirServer(server))
    fixture = find_fixture(patient_id)
    if fixture is None:
        raise BadRequest(f"patient: no bundled patient '{patient_id[:100]}'")
    return patient_id, fixture.data(rt.today())[0]


@bp.get("/timeline/launch")
def launch() -> Response:
    """SMART EHR launch: discover the EHR's endpoints and send the browser to authorize."""
    rt = runtime()
    iss, launch_id = request.args.get("iss", ""), request.args.get("launch", "")
    client_id = rt.settings.smart_client_id
    if not client_id:
        abort(404)
    if not iss or not launch_id:
        raise BadRequest("a SMART launch needs iss and launch")
    try:
        ehr = rt.launch_policy().check(FhirServer(iss))
    except UrlRefused as exc:
        raise BadRequest(f"iss: {str(exc).removeprefix('fhirServer ')}") from None
    try:
        endpoints = smart.discover(
            rt.client.http, ehr, _endpoint_policy(rt), seconds=rt.settings.fhir_deadline
        )
    except smart.SmartError as exc:
        abort(412, str(exc))
    state = smart.new_state()
    _verifier, challenge = smart.pkce(rt.pseudonym_key, state)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": _callback_url(rt),
            "launch": launch_id,
            "scope": SCOPES,
            "state": state,
            "aud": iss,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    joiner = "&" if endpoints.authorize.query else "?"
    response = redirect(endpoints.authorize.url + joiner + query)
    cookie = _signer(rt).dumps({"state": state, "iss": ehr.url, "token": endpoints.token.url})
    response.set_cookie(
        STATE_COOKIE,
        cookie,
        max_age=STATE_SECONDS,
        httponly=True,
        samesite="Lax",
        # behind a TLS proxy the request itself looks like http: the public URL says
        secure=request.is_secure or (rt.settings.public_url or "").startswith("https://"),
    )
    return response


@bp.get("/timeline/callback")
def callback() -> Response:
    """The EHR sends the browser back with a code: exchange it and draw the patient."""
    rt = runtime()
    if not rt.settings.smart_client_id:
        abort(404)
    try:
        saved = _signer(rt).loads(request.cookies.get(STATE_COOKIE, ""), max_age=STATE_SECONDS)
    except BadSignature:
        raise BadRequest("the SMART launch expired or was not started here; launch again") from None
    state = str(saved.get("state"))
    if not hmac.compare_digest(state, request.args.get("state", "")):
        raise BadRequest("state does not match this launch")
    code = request.args.get("code")
    if not code:
        raise BadRequest(
            f"the EHR did not authorize: {_said(request.args.get('error', 'no code'))}"
        )
    try:
        smart.use_state(rt.replay, state, time.time() + STATE_SECONDS)
        ehr = rt.launch_policy().check(FhirServer(saved["iss"]))
        token_endpoint = _endpoint_policy(rt).check(saved["token"], ehr)
        token, patient_id = smart.exchange(
            rt.client.http,
            token_endpoint,
            code=code,
            redirect_uri=_callback_url(rt),
            client_id=rt.settings.smart_client_id,
            verifier=smart.pkce(rt.pseudonym_key, state)[0],
            seconds=rt.settings.fhir_deadline,
        )
    except UrlRefused as exc:
        abort(412, str(exc))
    except smart.StateReused as exc:
        raise BadRequest(str(exc)) from None
    except smart.SmartError as exc:
        abort(412, str(exc))
    resources = _fetch(rt, patient_id, FhirServer(saved["iss"], token))
    response = _page(_timeline(rt, patient_id, resources))
    response.delete_cookie(STATE_COOKIE)
    return response


def _said(value: str) -> str:
    """The browser's ``error`` parameter as the answer and the log may say it: anyone can
    put anything there, so printable characters only, and at most ``MAX_SAID`` of them."""
    return "".join(c for c in value if c.isprintable())[:MAX_SAID]


def _endpoint_policy(rt: Runtime) -> smart.EndpointPolicy:
    return smart.EndpointPolicy(rt.settings.smart_auth_servers, rt.settings.allow_loopback_http)


def _page(embedded: dict | None) -> Response:
    """The page; with ``embedded`` data (a SMART launch) it needs no further call."""
    html = _read(Path(current_app.static_folder or "") / "timeline.html")
    return Response(
        html.replace("/*TIMELINE_DATA*/null", script_json(embedded)), mimetype="text/html"
    )


def script_json(value: object) -> str:
    """JSON to put inside ``<script type="application/json">``: no ``<``, ``>`` or ``&``
    survives as itself, so no ``</script``, ``<!--`` or ``<script`` in the data (a patient's
    name, an id) can end the block or change how the page is parsed."""
    text = json.dumps(value)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text


@cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _answer(rt: Runtime, resources: list[object]) -> HookResult:
    """The patient-view answer: its assessment draws the timeline, its plan the calendar."""
    return respond(resources, profile=rt.profile, as_of=rt.today(), library=rt.cards)


def _calendar(rt: Runtime, patient_id: str, answer: HookResult) -> bytes:
    return calendar(
        answer, rt.profile, rt.today(), patient_id=patient_id, library=rt.cards
    ).to_ical()


def _timeline(rt: Runtime, patient_id: str, resources: list[object]) -> dict:
    today = rt.today()
    answer = _answer(rt, resources)
    evaluation = answer.evaluation
    body = timeline_json(
        timeline(evaluation.assessment.record, evaluation, rt.profile, today),
        patient_id=patient_id,
        profile=rt.profile.name,
        library=rt.cards,
    )
    body["calendar"] = _calendar(rt, patient_id, answer).decode()
    return body


def _fetch(rt: Runtime, patient_id: str, server: FhirServer) -> list[object]:
    call = patient_call(SERVICES[0], patient_id, server)
    try:
        return gather(call, rt.client, rt.today(), policy=rt.launch_policy()).data
    except PreconditionFailed as exc:
        abort(412, str(exc))


def _callback_url(rt: Runtime) -> str:
    return _base_url(rt) + "/timeline/callback"


def _base_url(rt: Runtime) -> str:
    return rt.settings.public_url or loopback_base()


def _signer(rt: Runtime) -> URLSafeTimedSerializer:
    secret = hmac.new(rt.pseudonym_key, b"smart-launch-state", hashlib.sha256).hexdigest()
    return URLSafeTimedSerializer(secret, salt="cds-b12-smart")


def timeline_link(rt: Runtime, patient_id: str, server: FhirServer | None) -> dict | None:
    """The card link to this patient's timeline, or None when it could not be opened."""
    label = rt.cards.table("labels", rt.profile.name)["timeline_label"]
    if rt.settings.smart_client_id:
        return {"label": label, "url": _base_url(rt) + "/timeline/launch", "type": "smart"}
    if rt.verifier is not None:
        return None
    query = {"patient": patient_id}
    if server is not None:
        query["fhirServer"] = server.base
    elif find_fixture(patient_id) is None:
        return None  # the data came only in the prefetch: nowhere to read it from again
    return {
        "label": label,
        "url": _base_url(rt) + "/timeline?" + urlencode(query),
        "type": "absolute",
    }
