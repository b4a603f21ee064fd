"""The per-entry scans of a Bundle (another patient's entries, an error outcome) read by
lookup chains give what type-checked readings give, on odd entries too."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cds_b12.hooks.gather import _has_error
from cds_b12.hooks.ownership import own_data

from ..fhir.test_never_raises import json_values

PID = "p-1"
_PATIENT = re.compile(r"(?:^|/)Patient/([^/?#]+)(?:/_history/[^/]*)?$")


def general_theirs(entries: list) -> list[int]:
    """The entries naming another Patient, read with type checks at every step."""
    theirs = []
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or "resourceType" not in resource:
            continue
        field = "patient" if resource["resourceType"] == "AllergyIntolerance" else "subject"
        holder = resource.get(field)
        ref = holder.get("reference") if isinstance(holder, dict) else None
        if isinstance(ref, str) and ref != f"Patient/{PID}":
            match = _PATIENT.search(ref.strip())
            if match is not None and match[1] != PID:
                theirs.append(i)
    return theirs


def general_has_error(entries: list) -> bool:
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
            issues = resource.get("issue")
            if isinstance(issues, list) and any(
                isinstance(i, dict) and i.get("severity") in ("error", "fatal") for i in issues
            ):
                return True
    return False


refs = st.sampled_from(
    [f"Patient/{PID}", "Patient/p-2", " Patient/p-2 ", "Patient/p-2/_history/1", "Group/g", ""]
)
entry_resources = st.fixed_dictionaries(
    {},
    optional={
        "resourceType": st.sampled_from(["Observation", "AllergyIntolerance", "OperationOutcome"])
        | json_values(2),
        "subject": st.fixed_dictionaries({}, optional={"reference": refs | json_values(2)})
        | json_values(2),
        "patient": st.fixed_dictionaries({"reference": refs}) | json_values(2),
        "issue": st.lists(
            st.fixed_dictionaries({"severity": st.sampled_from(["error", "warning", "fatal"])})
            | json_values(2),
            max_size=2,
        )
        | json_values(2),
    },
)
entries = st.lists(
    st.fixed_dictionaries({}, optional={"resource": entry_resources | json_values(2)})
    | json_values(2),
    max_size=5,
)


@settings(max_examples=500)
@given(entries)
def test_another_patients_entries_are_those_a_checked_reading_finds(given_entries):
    bundle = {"resourceType": "Bundle", "entry": given_entries}
    kept, notes = own_data(bundle, PID)
    theirs = general_theirs(given_entries)
    assert len(notes) == len(theirs)
    if theirs:
        assert kept["entry"] == [e for i, e in enumerate(given_entries) if i not in theirs]
    else:
        assert kept is bundle


@settings(max_examples=500)
@given(entries)
def test_an_error_outcome_is_found_as_a_checked_reading_finds_it(given_entries):
    bundle = {"resourceType": "Bundle", "entry": given_entries}
    assert _has_error(bundle) == general_has_error(given_entries)
