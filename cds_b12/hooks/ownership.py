"""Only this patient's resources reach the cards.

Every query names the patient (``?patient=X``), but a server that does not support that search
parameter may ignore it and answer with everyone's resources, and a prefetch may be filled
wrongly. Cards computed on another patient's record must never be shown, so an entry whose
``subject`` (``patient`` for an AllergyIntolerance) names another Patient is left out, with a
data note that does not name the other patient. A reference that names no Patient id (a
contained resource, a ``urn:uuid``, an identifier only) is kept: it cannot be told apart.
"""

from __future__ import annotations

import re

from ..clinical.record import DataNote
from ..fhir.accessors import label

LEFT_OUT = "left out: it is another patient's record entry"
# a relative or absolute reference to a Patient, with an optional version
_PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([^/?#]+)(?:/_history/[^/]*)?$")


def own_data(value: object, patient_id: str) -> tuple[object, list[DataNote]]:
    """``value`` (a Bundle, or the pages of a fetched search) without other patients' entries,
    and a note for each entry left out. Unchanged, the very same object comes back."""
    own = f"Patient/{patient_id}"
    if isinstance(value, list):
        pages, notes = [], []
        for page in value:
            kept, left_out = _own_bundle(page, own, patient_id)
            pages.append(kept)
            notes += left_out
        return (pages if notes else value), notes
    return _own_bundle(value, own, patient_id)


def _own_bundle(bundle: object, own: str, patient_id: str) -> tuple[object, list[DataNote]]:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return bundle, []
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return bundle, []
    theirs = []
    for i, entry in enumerate(entries):
        # a lookup chain rather than type checks or a call: every search entry passes here;
        # every other shape (no resource, no reference) is not another patient's
        try:
            resource = entry["resource"]
            rtype = resource["resourceType"]
            ref = resource["patient" if rtype == "AllergyIntolerance" else "subject"]["reference"]
        except (KeyError, TypeError, IndexError):
            continue
        if ref != own and _names_another(ref, patient_id):  # the usual case: one compare
            theirs.append(i)
    if not theirs:
        return bundle, []
    left_out = set(theirs)
    kept = [entry for i, entry in enumerate(entries) if i not in left_out]
    notes = [DataNote(label(entries[i]["resource"]), LEFT_OUT) for i in theirs]
    return {**bundle, "entry": kept}, notes


def _names_another(ref: object, patient_id: str) -> bool:
    """Whether a reference names a Patient other than ``patient_id``; one that names no
    Patient id is not another patient's."""
    if not isinstance(ref, str):
        return False
    match = _PATIENT_REFERENCE.search(ref.strip())
    return match is not None and match[1] != patient_id
