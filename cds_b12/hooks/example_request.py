"""A hook request as an EHR would send it for a patient bundle: for curl, demos and tests.

Every prefetch key is filled from the bundle by resource type, so the service
needs no FHIR server to answer it. Empty searches are searchsets without
``entry``: CDS Hooks JSON has no empty arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

from .prefetch import QUERIES
from .services import SERVICES


def example_request(resources: Sequence[dict], *, hook: str, drafts: Sequence[dict] = ()) -> dict:
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    patient_id = patients[0].get("id") if patients else None
    if not isinstance(patient_id, str) or not patient_id:
        raise ValueError("the bundle has no Patient with an id")
    prefetch: dict[str, object] = {}
    for query in QUERIES:
        if query.resource_type == "Patient":
            prefetch[query.key] = patients[0]
        else:
            prefetch[query.key] = _bundle(
                "searchset", [r for r in resources if r.get("resourceType") == query.resource_type]
            )
    return {**server_request(patient_id, hook=hook, drafts=drafts), "prefetch": prefetch}


def server_request(
    patient_id: str, *, hook: str, drafts: Sequence[dict] = (), fhir_server: str | None = None
) -> dict:
    """The request without prefetch: the service fetches from ``fhir_server``."""
    context: dict[str, object] = {"userId": "Practitioner/example", "patientId": patient_id}
    if hook != "patient-view":
        context["draftOrders"] = _bundle("collection", drafts)
        selections = [f"{d['resourceType']}/{d['id']}" for d in drafts if d.get("id")]
        if hook == "order-select" and selections:
            context["selections"] = selections
    service = next(s for s in SERVICES if s.hook == hook)
    request: dict[str, object] = {
        "hook": service.hook,
        "hookInstance": str(uuid4()),
        "context": context,
    }
    if fhir_server is not None:
        request["fhirServer"] = fhir_server
    return request


def _bundle(kind: str, resources: Sequence[dict]) -> dict:
    bundle: dict[str, object] = {"resourceType": "Bundle", "type": kind}
    if kind == "searchset":
        bundle["total"] = len(resources)
    if resources:
        bundle["entry"] = [{"resource": r} for r in resources]
    return bundle
