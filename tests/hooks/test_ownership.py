"""Other patients' entries never reach the cards: left out, with a note naming only the entry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cds_b12.clinical.record import DataNote
from cds_b12.fhir.read import read_record
from cds_b12.hooks.ownership import LEFT_OUT, own_data

from ..fhir.read_support import LOINC_HB, bundle, observation, quantity

PID = "p-1"


def obs(oid: str, ref: object) -> dict:
    """A lab naming its patient by ``ref``, whatever shape ``ref`` has."""
    return observation(oid, LOINC_HB, subject={"reference": ref})


@pytest.mark.parametrize(
    "ref",
    [
        "Patient/p-2",
        "https://ehr.example/fhir/Patient/p-2",
        "Patient/p-2/_history/3",
        " Patient/p-2 ",
    ],
)
def test_an_entry_naming_another_patient_is_left_out_with_a_note(ref):
    value, notes = own_data(bundle(obs("mine", f"Patient/{PID}"), obs("theirs", ref)), PID)
    assert [e["resource"]["id"] for e in value["entry"]] == ["mine"]
    assert notes == [DataNote("Observation/theirs", LEFT_OUT)]
    assert "p-2" not in LEFT_OUT  # the other patient is never named on this patient's card


@pytest.mark.parametrize(
    "ref",
    [
        f"Patient/{PID}",
        f"https://ehr.example/fhir/Patient/{PID}",
        f"Patient/{PID}/_history/1",
        "urn:uuid:8a1c6a52-0f7b-4cf6-9d0b-0d5c0f1a2b3c",  # cannot be told apart: kept
        "#contained-patient",
        None,
        42,
    ],
)
def test_an_entry_of_this_patient_or_of_no_named_patient_is_kept(ref):
    given = bundle(obs("o", ref))
    value, notes = own_data(given, PID)
    assert value is given and notes == []


def test_an_allergy_names_its_patient_in_patient_not_subject():
    allergy = {
        "resourceType": "AllergyIntolerance",
        "id": "a",
        "patient": {"reference": "Patient/x"},
    }
    value, notes = own_data(bundle(allergy), PID)
    assert value["entry"] == [] and notes == [DataNote("AllergyIntolerance/a", LEFT_OUT)]


def test_fetched_pages_are_filtered_page_by_page_and_the_input_is_not_changed():
    first = bundle(obs("a", "Patient/x"), obs("b", f"Patient/{PID}"))
    second = bundle(obs("c", f"Patient/{PID}"))
    pages, notes = own_data([first, second], PID)
    assert [[e["resource"]["id"] for e in p["entry"]] for p in pages] == [["b"], ["c"]]
    assert pages[1] is second and len(first["entry"]) == 2
    assert notes == [DataNote("Observation/a", LEFT_OUT)]


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=20),
            st.dictionaries(
                st.sampled_from(["resource", "search"]), st.none() | st.text(max_size=5)
            ),
            st.builds(obs, st.text(max_size=5), st.one_of(st.none(), st.text(max_size=30))),
        ).map(lambda e: {"resource": e} if not isinstance(e, dict) else e),
        max_size=6,
    )
)
def test_any_bundle_shape_is_read_without_raising(entries):
    value, notes = own_data({"resourceType": "Bundle", "entry": entries}, PID)
    assert len(value["entry"]) + len(notes) == len(entries)


def test_another_patient_s_panel_is_left_out_with_every_component():
    part = {"code": {"coding": [{"system": "http://loinc.org", "code": LOINC_HB}]}}
    theirs = observation(
        "fbc",
        "58410-2",
        subject={"reference": "Patient/someone-else"},
        component=[{**part, "valueQuantity": quantity(6.1, "g/dL")}],
    )
    kept, notes = own_data(bundle(theirs), "p1")
    assert notes == [DataNote("Observation/fbc", LEFT_OUT)]
    assert read_record(kept).labs == ()
