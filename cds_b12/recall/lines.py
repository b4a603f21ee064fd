"""Recall: which patient one line of a Bulk FHIR export belongs to.

May import ``cds_b12.fhir``. A Bulk ``$export`` writes one resource per line,
each naming its patient by ``subject`` or ``patient`` (the Patient by its own
``id``). :func:`route` parses the line with orjson and asks :func:`patient_of`.
That costs fewer instructions than the regular expressions that used to look for
the reference in the text (about half those of ``json.loads`` against more than
all of them), and it is exact for any JSON (escaped or repeated keys, nested
references), so a line is never given to a patient its resource does not name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from .. import jsonio
from ..fhir.accessors import string

_PATIENT = re.compile(r'(?:^|/)Patient/([^/\s"\\]+)(?:/_history/[^/]+)?$')


class Problem(StrEnum):
    """What can be wrong with one line or one patient; each is counted in the summary."""

    NOT_JSON = "not JSON"
    NOT_RESOURCE = "not a FHIR resource"
    NO_PATIENT = "no patient reference"
    NO_PATIENT_RESOURCE = "no Patient resource"
    UNREADABLE_PATIENT = "patient not evaluated"


@dataclass(slots=True)  # not frozen: a frozen dataclass costs more to build, once per line
class Routed:
    """Where a line goes: to a patient (``patient``), the shared Medications, or a problem."""

    patient: str | None = None
    own: bool = False  # the Patient resource itself
    medication: str | None = None  # "Medication/<id>"
    problem: Problem | None = None
    detail: str = ""


def patient_id(reference: object) -> str | None:
    """The id in a reference to a Patient (relative, absolute or versioned)."""
    if not isinstance(reference, str):
        return None
    if reference.startswith("Patient/"):  # the usual form, read without the regex
        rid = reference[8:]
        if rid.replace("-", "").isalnum():
            return rid
    match = _PATIENT.search(reference.strip())
    return match[1] if match else None


def patient_of(resource: dict) -> str | None:
    """The patient a resource belongs to: the Patient's own id, else ``subject``, else
    ``patient``."""
    if resource.get("resourceType") == "Patient":
        rid = string(resource, "id")
        return rid if rid and patient_id(f"Patient/{rid}") == rid else None
    for key in ("subject", "patient"):
        ref = resource.get(key)
        found = patient_id(ref.get("reference")) if isinstance(ref, dict) else None
        if found:
            return found
    return None


def route(line: bytes | str) -> Routed:
    """Where one non-blank line goes: to its patient, the shared Medications, or a problem."""
    try:
        resource = jsonio.loads(line)
    except ValueError as exc:
        return Routed(problem=Problem.NOT_JSON, detail=str(exc))
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return Routed(problem=Problem.NOT_RESOURCE, detail="no resourceType")
    found = patient_of(resource)
    if found:
        return Routed(patient=found, own=resource["resourceType"] == "Patient")
    rtype = resource["resourceType"]
    rid = string(resource, "id")
    if rtype == "Medication" and rid:
        return Routed(medication=f"Medication/{rid}")
    return Routed(problem=Problem.NO_PATIENT, detail=f"{rtype}/{rid}" if rid else rtype)
