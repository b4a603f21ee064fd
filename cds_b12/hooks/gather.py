"""Gather the patient's data: use the prefetch, fetch what it lacks, decide whether to go on.

Per prefetch key (spec §Prefetch template, cds-hooks-2.0 notes §4.3):

- present: used as sent;
- ``null``: the client looked and found nothing;
- an OperationOutcome, or a Bundle carrying an error OperationOutcome: the client
  failed, so the key is fetched as if absent;
- absent: fetched from ``fhirServer`` with the client's bearer token.

Missing required data (the Patient, the labs) is a 412; missing optional data
becomes a data-quality note on every card, so the clinician knows what the
advice could not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..clinical.record import DataNote, NoteKind
from ..net.urls import UrlRefused
from .fetch import ANY_SERVER, FetchBusy, FetchError, FetchTimeout, FhirClient, ServerPolicy
from .ownership import own_data
from .prefetch import QUERIES, expand, templates
from .request import BadRequest, HookCall


class PreconditionFailed(Exception):
    """Required data could not be had (412); the message says what and why, ``outcomes``
    how each fetch went (as ``Gathered.outcomes``)."""

    def __init__(self, message: str, outcomes: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.outcomes = outcomes or {}


@dataclass(slots=True)
class Gathered:
    data: list[object] = field(default_factory=list)  # resources, Bundles and pages
    notes: list[DataNote] = field(default_factory=list)  # what could not be had
    fetched: list[str] = field(default_factory=list)  # keys fetched from the server
    # per key it wanted from the server: ok, timeout, error, or refused by the policy
    outcomes: dict[str, str] = field(default_factory=dict)


def gather(
    call: HookCall, client: FhirClient, as_of: date, *, policy: ServerPolicy = ANY_SERVER
) -> Gathered:
    """A server the ``policy`` refuses is never contacted: what the prefetch lacks is missing."""
    got = Gathered()
    server = call.fhir_server
    base, refused = None, None
    if server is not None:
        try:
            base = policy.check(server)  # parsed once: what is checked is what is contacted
        except UrlRefused as exc:
            refused = str(exc)
    failures: dict[str, str] = {}
    left_out: list[DataNote] = []  # other patients' entries (``ownership``)
    wanted = templates(as_of)
    to_fetch: dict[str, str] = {}
    for query in QUERIES:
        key, problem = query.key, None
        if key in call.prefetch:
            value = call.prefetch[key]
            if value is None:  # the client looked and found nothing
                if key == "patient":
                    failures[key] = f"the client found no Patient/{call.patient_id}"
                continue
            problem = _prefetch_problem(value, call.patient_id)
            if problem is None:
                value, others = own_data(value, call.patient_id)
                got.data.append(value)
                left_out += others
                continue
        relative = expand(wanted[key], call.context)
        if relative is None:
            failures[key] = "the prefetch template cannot be filled from this context"
        elif server is None:
            failures[key] = problem or "not in the prefetch, and the request names no fhirServer"
        elif refused:
            failures[key] = f"not in the prefetch, and {refused}"
            got.outcomes[key] = "refused"
        else:
            to_fetch[key] = relative

    if to_fetch and server is not None:
        for key, result in client.fetch_all(server, to_fetch, base=base).items():
            got.outcomes[key] = (
                "timeout"
                if isinstance(result, FetchTimeout)
                else "busy"
                if isinstance(result, FetchBusy)
                else "error"
                if isinstance(result, FetchError)
                else "ok"
            )
            if isinstance(result, FetchError):
                failures[key] = (
                    f"Patient/{call.patient_id} was not found on the FHIR server"
                    if key == "patient" and result.not_found
                    else result.reason
                )
            elif key == "patient" and _another_patient(result, call.patient_id):
                failures[key] = f"the read of Patient/{call.patient_id} gave another Patient"
                got.outcomes[key] = "error"
            else:
                result, others = own_data(result, call.patient_id)
                got.data.append(result)
                got.fetched.append(key)
                left_out += others

    required = [q for q in QUERIES if q.required and q.key in failures]
    if required:
        raise PreconditionFailed(
            "Cannot evaluate without "
            + "; ".join(f"{q.what} ({failures[q.key]})" for q in required),
            got.outcomes,
        )
    got.notes = [
        DataNote(
            q.what,
            f"not available ({failures[q.key]}); advice made without it",
            NoteKind.DECISION,  # the advice rests on data it did not have: said first
        )
        for q in QUERIES
        if q.key in failures
    ]
    got.notes += sorted(left_out, key=lambda n: n.resource)
    return got


def _another_patient(value: object, patient_id: str) -> bool:
    return isinstance(value, dict) and value.get("id") not in (None, patient_id)


def _prefetch_problem(value: object, patient_id: str) -> str | None:
    """Why a prefetched value cannot be used, or None when it can."""
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        return "the prefetch value is not a FHIR resource"
    rtype = value["resourceType"]
    if rtype == "OperationOutcome" or (rtype == "Bundle" and _has_error(value)):
        return "the client reported an error for this prefetch"
    # cards computed on another patient's record must never be shown
    if rtype == "Patient" and _another_patient(value, patient_id):
        raise BadRequest(
            f"prefetch.patient is Patient/{value.get('id')}, but context.patientId is {patient_id}"
        )
    return None


def _has_error(bundle: dict) -> bool:
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return False
    for entry in entries:
        try:  # a lookup chain rather than type checks: every search entry passes here
            resource = entry["resource"]
            if resource["resourceType"] != "OperationOutcome":
                continue
        except (KeyError, TypeError, IndexError):  # no resource: not an outcome
            continue
        if isinstance(resource, dict):
            issues = resource.get("issue")
            if isinstance(issues, list) and any(
                isinstance(i, dict) and i.get("severity") in ("error", "fatal") for i in issues
            ):
                return True
    return False
