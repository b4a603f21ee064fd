"""Recall: which patient one line of a Bulk FHIR export belongs to.

May import ``cds_b12.fhir``. A Bulk ``$export`` writes one resource per line,
each naming its patient by ``subject`` or ``patient`` (the Patient by its own
``id``). Finding that reference must not cost a full JSON parse of every line
twice, so :func:`route` first looks for it with a regular expression and parses
the line only when the text leaves any doubt. The shortcut is taken only when
the line has exactly one ``"subject"``/``"patient"`` key and no contained
resources; that key is then either the top-level one, or (when the resource has
none) a nested one, which :func:`patient_of` on the parsed resource catches
later, so a line can never be given to the wrong patient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from .. import jsonio
from ..fhir.accessors import string

# A key is preceded by "{" or ",": inside a JSON string every quote is escaped,
# so this never matches text in a value.
_KEY = re.compile(r'[{,]\s*"(?:subject|patient)"\s*:')
_REFERENCE = re.compile(r'\s*\{\s*"reference"\s*:\s*"([^"\\]*)"')
_PATIENT = re.compile(r'(?:^|/)Patient/([^/\s"\\]+)(?:/_history/[^/]+)?$')


class Problem(StrEnum):
    """What can be wrong with one line or one patient; each is counted in the summary."""

    NOT_JSON = "not JSON"
    NOT_RESOURCE = "not a FHIR resource"
    NO_PATIENT = "no patient reference"
    NO_PATIENT_RESOURCE = "no Patient resource"
    UNREADABLE_PATIENT = "patient not evaluated"


@dataclass(frozen=True, slots=True)
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


def route(line: str) -> Routed:
    """Where one non-blank line goes, parsing it only when the shortcut does not apply."""
    if '"contained"' not in line:
        keys = _KEY.finditer(line)
        first = next(keys, None)
        if first is not None and next(keys, None) is None:
            ref = _REFERENCE.match(line, first.end())
            found = patient_id(ref[1]) if ref else None
            if found:
                return Routed(patient=found)
    return route_parsed(line)


def route_parsed(line: str) -> Routed:
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
