"""FHIR builders: every suggested order validates as R4B and encodes the schedule exactly."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date

import pytest

from cds_b12.clinical.codes import ORDERABLE_LABS
from cds_b12.clinical.profiles import get_profile
from cds_b12.clinical.recommendation import LabNote, LabOrder, Urgency
from cds_b12.clinical.record import Route
from cds_b12.clinical.regimens import (
    CATALOGUE,
    CYANOCOBALAMIN_INJ,
    HYDROXOCOBALAMIN_INJ,
    Regimen,
    intensified,
    with_drug,
)
from cds_b12.render import RenderError, medication_request, service_request
from cds_b12.render.clean import Pruned, prune
from cds_b12.render.resources import stopped_request

from .render_support import AS_OF, PATIENT, medication_draft, validate_fhir

UCUM = "http://unitsofmeasure.org"


def _intensified(regimen_id: str, interval_days: float, profile: str) -> Regimen:
    p = get_profile(profile)
    regimen = intensified(
        CATALOGUE[regimen_id], interval_days, p.intensify_steps, p.min_interval_days
    )
    assert regimen is not None
    return regimen


REGIMENS: dict[str, Regimen] = {
    **CATALOGUE,
    "UK_INTENSIFIED": _intensified("UK_MAINT_STD", 90, "UK"),
    "US_INTENSIFIED": _intensified("US_MAINT", 30, "US"),
    "US_LOAD_LEBER": with_drug(CATALOGUE["US_LOAD_STD"], HYDROXOCOBALAMIN_INJ),
    "US_MAINT_SC": Regimen(
        "US_MAINT_SC",
        CYANOCOBALAMIN_INJ,
        1000,
        "ug",
        Route.SC,
        CATALOGUE["US_MAINT"].steps,
        ("US-1",),
        lifelong=True,
    ),
}


def _med(regimen: Regimen, new_id: Callable[[], str], **kwargs: object) -> dict:
    args: dict = {"patient_id": PATIENT, "as_of": AS_OF, "start_on": None, "new_id": new_id}
    args.update(kwargs)
    return medication_request(regimen, **args)


@pytest.mark.parametrize("regimen_id", REGIMENS)
def test_every_regimen_validates(regimen_id: str, new_id: Callable[[], str]) -> None:
    regimen = REGIMENS[regimen_id]
    resource = _med(regimen, new_id, start_on=date(2026, 1, 20))
    validate_fhir(resource)
    assert resource["status"] == "draft" and resource["intent"] == "order"
    assert resource["subject"] == {"reference": f"Patient/{PATIENT}"}
    assert resource["authoredOn"] == "2026-01-15"
    assert resource["dispenseRequest"]["validityPeriod"]["start"] == "2026-01-20"
    assert resource["medicationCodeableConcept"]["coding"][0]["code"] == regimen.drug.rxnorm
    dosages = resource["dosageInstruction"]
    assert [d["sequence"] for d in dosages] == list(range(1, len(regimen.steps) + 1))
    for dosage in dosages:
        quantity = dosage["doseAndRate"][0]["doseQuantity"]
        assert quantity["system"] == UCUM and quantity["code"] in ("ug", "mg")
        assert quantity["value"] == regimen.dose
        assert dosage["text"]
    # Pruned: a card passes it as it is, so it must hold no empty value of its own
    for kept in (resource, _med(regimen, new_id, patient_id=None)):
        assert isinstance(kept, Pruned) and prune(kept) == kept


@pytest.mark.parametrize("regimen_id", REGIMENS)
def test_every_regimen_validates_as_a_draft_update(
    regimen_id: str, new_id: Callable[[], str]
) -> None:
    resource = _med(REGIMENS[regimen_id], new_id, draft=medication_draft())
    validate_fhir(resource)
    assert resource["id"] == "draft-maint"


@pytest.mark.parametrize(
    ("regimen_id", "repeats"),
    [
        (
            "UK_LOAD_STD",
            [
                {
                    "frequency": 3,
                    "period": 1,
                    "periodUnit": "wk",
                    "count": 6,
                    "boundsDuration": {"value": 2, "unit": "wk", "system": UCUM, "code": "wk"},
                }
            ],
        ),
        ("UK_MAINT_STD", [{"frequency": 1, "period": 2, "periodMax": 3, "periodUnit": "mo"}]),
        ("US_MAINT", [{"frequency": 1, "period": 1, "periodUnit": "mo"}]),
        ("UK_LOAD_NEURO", [{"frequency": 1, "period": 2, "periodUnit": "d"}]),
        (
            "US_LOAD_STD",
            [
                {
                    "frequency": 1,
                    "period": 2,
                    "periodUnit": "d",
                    "count": 4,
                    "boundsDuration": {"value": 1, "unit": "wk", "system": UCUM, "code": "wk"},
                },
                {
                    "frequency": 1,
                    "period": 1,
                    "periodUnit": "wk",
                    "count": 4,
                    "boundsDuration": {"value": 4, "unit": "wk", "system": UCUM, "code": "wk"},
                },
            ],
        ),
    ],
)
def test_exact_timing(regimen_id: str, repeats: list[dict], new_id: Callable[[], str]) -> None:
    resource = _med(CATALOGUE[regimen_id], new_id)
    assert [d["timing"]["repeat"] for d in resource["dosageInstruction"]] == repeats


@pytest.mark.parametrize(
    ("route", "code"), [(Route.IM, "78421000"), (Route.ORAL, "26643006"), (Route.SC, "34206005")]
)
def test_route_codes(route: Route, code: str, new_id: Callable[[], str]) -> None:
    regimen = next(r for r in REGIMENS.values() if r.route is route)
    coding = _med(regimen, new_id)["dosageInstruction"][0]["route"]["coding"][0]
    assert coding["system"] == "http://snomed.info/sct" and coding["code"] == code
    assert coding["display"]


def test_dose_quantity_units(new_id: Callable[[], str]) -> None:
    mg = _med(CATALOGUE["UK_LOAD_STD"], new_id)["dosageInstruction"][0]["doseAndRate"][0]
    ug = _med(CATALOGUE["US_MAINT"], new_id)["dosageInstruction"][0]["doseAndRate"][0]
    assert mg["doseQuantity"] == {"value": 1, "unit": "mg", "system": UCUM, "code": "mg"}
    assert ug["doseQuantity"] == {"value": 1000, "unit": "micrograms", "system": UCUM, "code": "ug"}


def test_update_keeps_the_draft_and_replaces_medication_and_dosage(
    new_id: Callable[[], str],
) -> None:
    draft = medication_draft("d-7")
    draft["medicationReference"] = {"reference": "Medication/old"}
    draft["authoredOn"] = "2026-01-14"
    draft["dispenseRequest"] = {
        "numberOfRepeatsAllowed": 2,
        "validityPeriod": {"start": "2025-01-01", "end": "2025-02-01"},
    }
    original = copy.deepcopy(draft)
    updated = _med(CATALOGUE["UK_LOAD_NEURO"], new_id, draft=draft, start_on=date(2026, 1, 16))
    validate_fhir(updated)
    assert draft == original, "the caller's draft must not be mutated"
    assert updated["id"] == "d-7"
    assert updated["subject"] == original["subject"]
    assert updated["requester"] == original["requester"]
    assert updated["note"] == original["note"]
    assert updated["authoredOn"] == "2026-01-14"
    assert "medicationReference" not in updated
    assert updated["medicationCodeableConcept"]["coding"][0]["code"] == "317106"
    assert updated["dosageInstruction"][0]["timing"]["repeat"]["period"] == 2
    assert updated["dispenseRequest"]["numberOfRepeatsAllowed"] == 2
    assert updated["dispenseRequest"]["validityPeriod"] == {"start": "2026-01-16"}


def test_no_patient_means_no_subject(new_id: Callable[[], str]) -> None:
    assert "subject" not in _med(CATALOGUE["US_MAINT"], new_id, patient_id=None)


@pytest.mark.parametrize("test", ORDERABLE_LABS)
@pytest.mark.parametrize("urgency", list(Urgency))
def test_every_lab_validates(test: str, urgency: Urgency, new_id: Callable[[], str]) -> None:
    lab = LabOrder(test, date(2026, 1, 22), date(2026, 1, 25), note=LabNote.RESPONSE)
    resource = service_request(lab, patient_id=PATIENT, urgency=urgency, new_id=new_id)
    validate_fhir(resource)
    assert resource["priority"] == urgency.value
    assert resource["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": ORDERABLE_LABS[test][0],
        "display": ORDERABLE_LABS[test][1],
    }
    assert resource["occurrencePeriod"] == {"start": "2026-01-22", "end": "2026-01-25"}
    assert "occurrenceDateTime" not in resource
    assert resource["note"] == [{"text": "response"}]
    assert isinstance(resource, Pruned) and prune(resource) == resource


def test_an_ehr_order_with_empty_values_comes_back_pruned(new_id: Callable[[], str]) -> None:
    """A draft updated, or a current order stopped, is the EHR's: its empty values go where
    it is copied, as a card passes the resource as it is."""
    order = {**medication_draft(), "note": [], "category": [{"text": ""}], "reasonCode": None}
    updated = _med(CATALOGUE["US_MAINT"], new_id, draft=order)
    stopped = stopped_request(order, reason="Replaced")
    for resource in (updated, stopped):
        assert isinstance(resource, Pruned) and prune(resource) == resource
        assert not {"note", "category", "reasonCode"} & resource.keys()


def test_lab_without_window_uses_a_date(new_id: Callable[[], str]) -> None:
    lab = LabOrder("POTASSIUM", date(2026, 1, 17))
    resource = service_request(
        lab,
        patient_id=PATIENT,
        urgency=Urgency.STAT,
        new_id=new_id,
        text="Potassium",
        note_text="48 hours after the first dose",
    )
    validate_fhir(resource)
    assert resource["occurrenceDateTime"] == "2026-01-17"
    assert "occurrencePeriod" not in resource
    assert resource["code"]["text"] == "Potassium"
    assert resource["note"] == [{"text": "48 hours after the first dose"}]
    assert resource["id"] == "id-1" and resource["priority"] == "stat"


def test_lab_without_note_has_no_note(new_id: Callable[[], str]) -> None:
    resource = service_request(
        LabOrder("CBC", AS_OF), patient_id=PATIENT, urgency=Urgency.ROUTINE, new_id=new_id
    )
    assert "note" not in resource


def test_unknown_lab_raises(new_id: Callable[[], str]) -> None:
    with pytest.raises(RenderError, match="VITAMIN_Q"):
        service_request(
            LabOrder("VITAMIN_Q", AS_OF), patient_id=PATIENT, urgency=Urgency.ROUTINE, new_id=new_id
        )
