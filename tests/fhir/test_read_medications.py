"""read_record on what a medication is: references to Medication resources, Cyanokit,
multivitamins, risk drugs and folic acid, statuses kept or skipped with a note, and
nitrous oxide as a finding.

Only real B12 therapy may count as a dose (the cyanide antidote never does), and the
risk drugs feed the screening rules.
"""

import pytest

from cds_b12.clinical.record import Finding, PatientRecord, Product
from cds_b12.fhir import medications
from cds_b12.fhir.read import read_record

from .read_support import (
    RX_CYANOCOBALAMIN,
    RX_CYANOCOBALAMIN_INJ_1MG_ML,
    RX_CYANOCOBALAMIN_ORAL_1MG,
    RX_CYANOKIT,
    RX_FOLIC_ACID,
    RX_HYDROXOCOBALAMIN,
    RX_LISINOPRIL,
    RX_METFORMIN,
    RX_NITROUS_OXIDE,
    RXNORM,
    concept,
    med_administration,
    med_request,
    med_statement,
    messages,
    only,
    quantity,
    read,
    rx,
)


def test_contained_medication_reference():
    request = med_request("mr1", {"medicationReference": {"reference": "#med1"}})
    request["contained"] = [
        {
            "resourceType": "Medication",
            "id": "med1",
            "code": concept(RXNORM, RX_CYANOCOBALAMIN_INJ_1MG_ML),
        }
    ]
    med = only(read(request).medications)
    assert (med.product, med.ingredient) == (Product.B12_INJECTION, "cyanocobalamin")


def test_bundled_medication_reference_by_id_and_full_url():
    medication = {
        "resourceType": "Medication",
        "id": "m1",
        "code": {"text": "Hydroxocobalamin 1 mg/1 mL solution for injection ampoules"},
        "ingredient": [{"itemCodeableConcept": concept(RXNORM, RX_HYDROXOCOBALAMIN)}],
    }
    data = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": "urn:uuid:6f1c", "resource": medication},
            {
                "resource": med_request(
                    "mr1", {"medicationReference": {"reference": "Medication/m1"}}
                )
            },
            {
                "resource": med_request(
                    "mr2", {"medicationReference": {"reference": "urn:uuid:6f1c"}}
                )
            },
            {
                "resource": med_request(
                    "mr3",
                    {
                        "medicationReference": {
                            "reference": "https://ehr.example/fhir/Medication/m1"
                        }
                    },
                )
            },
        ],
    }
    meds = read_record(data).medications
    assert [(med.resource_id, med.product) for med in meds] == [
        ("MedicationRequest/mr1", Product.B12_INJECTION),
        ("MedicationRequest/mr2", Product.B12_INJECTION),
        ("MedicationRequest/mr3", Product.B12_INJECTION),
    ]


def test_unresolvable_medication_reference_noted():
    record = read(med_request("mr1", {"medicationReference": {"reference": "Medication/gone"}}))
    assert record.medications == ()
    assert messages(record) == [
        ("MedicationRequest/mr1", "skipped: medication 'Medication/gone' is not in the data")
    ]


def test_reference_display_used_when_medication_missing():
    request = med_request(
        "mr1",
        {"medicationReference": {"reference": "Medication/gone", "display": "Metformin 500 mg"}},
    )
    assert only(read(request).medications).product is Product.METFORMIN


@pytest.mark.parametrize(
    "medication",
    [
        rx(RX_CYANOKIT, "hydroxocobalamin 5000 MG Injection [Cyanokit]"),
        {"medicationCodeableConcept": {"text": "CYANOKIT 5 g powder for solution"}},
    ],
)
def test_cyanokit_is_never_b12_therapy(medication):
    med = only(read(med_administration("ma1", medication, route={"text": "IV"})).medications)
    assert med.product is Product.CYANOKIT
    assert not med.is_b12_therapy


def test_hydroxocobalamin_5_g_is_cyanokit():
    admin = med_administration(
        "ma1", rx(RX_HYDROXOCOBALAMIN, "hydroxocobalamin"), dose=quantity(5, "g")
    )
    med = only(read(admin).medications)
    assert (med.product, med.dose_mg, med.is_b12_therapy) == (Product.CYANOKIT, 5000, False)


@pytest.mark.parametrize(
    "medication",
    [
        {"medicationCodeableConcept": {"text": "Multivitamin with minerals"}},
        {"medicationCodeableConcept": {"text": "Vitamin B Complex with C"}},
        {"medicationCodeableConcept": concept(RXNORM, RX_CYANOCOBALAMIN, "Multiple Vitamins")},
    ],
)
def test_multivitamin_ignored(medication):
    assert read(med_statement("ms1", medication)) == PatientRecord()


def test_multi_ingredient_medication_is_not_b12_therapy():
    request = med_request("mr1", {"medicationReference": {"reference": "#combo"}})
    request["contained"] = [
        {
            "resourceType": "Medication",
            "id": "combo",
            "ingredient": [
                {"itemCodeableConcept": concept(RXNORM, RX_CYANOCOBALAMIN)},
                {"itemCodeableConcept": concept(RXNORM, RX_FOLIC_ACID)},
            ],
        }
    ]
    assert read(request) == PatientRecord()


@pytest.mark.parametrize(
    ("medication", "product"),
    [
        (rx(RX_METFORMIN, "metformin"), Product.METFORMIN),
        (
            {"medicationCodeableConcept": {"text": "Omeprazole 20mg capsules"}},
            Product.ACID_SUPPRESSANT,
        ),
        ({"medicationCodeableConcept": {"text": "famotidine"}}, Product.ACID_SUPPRESSANT),
        (rx(RX_FOLIC_ACID, "folic acid"), Product.FOLIC_ACID),
        ({"medicationCodeableConcept": {"text": "Folic acid 5 mg tablets"}}, Product.FOLIC_ACID),
    ],
)
def test_risk_drugs_and_folic_acid(medication, product):
    med = only(read(med_statement("ms1", medication)).medications)
    assert (med.product, med.ingredient, med.is_b12_therapy) == (product, None, False)


def test_unrecognised_medication_ignored_silently():
    assert read(med_request("mr1", rx(RX_LISINOPRIL, "lisinopril"), status="cancelled")) == (
        PatientRecord()
    )


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (
            med_request("x", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), status="entered-in-error"),
            "skipped: marked entered-in-error",
        ),
        (
            med_request("x", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), status="cancelled"),
            "skipped: order cancelled",
        ),
        (
            med_administration("x", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), status="not-done"),
            "skipped: dose not given",
        ),
        (
            med_statement("x", rx(RX_CYANOCOBALAMIN_ORAL_1MG), status="not-taken"),
            "skipped: marked not taken",
        ),
    ],
)
def test_medication_status_skipped_with_note(resource, message):
    record = read(resource)
    assert record.medications == ()
    assert [note.message for note in record.notes] == [message]


def test_draft_request_in_record_is_not_a_current_medication():
    assert read(med_request("mr1", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), status="draft")) == (
        PatientRecord()
    )


@pytest.mark.parametrize(
    "resource",
    [
        med_request("mr1", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), status="stopped"),
        med_administration("mr1", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), status="stopped"),
        med_administration("mr1", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), status="in-progress"),
        med_statement("mr1", rx(RX_CYANOCOBALAMIN_ORAL_1MG), status="completed"),
        med_statement("mr1", rx(RX_CYANOCOBALAMIN_ORAL_1MG), status="intended"),
    ],
)
def test_medication_status_kept(resource):
    assert only(read(resource).medications).status == resource["status"]


def test_nitrous_oxide_is_a_finding():
    record = read(
        med_statement("n1", rx(RX_NITROUS_OXIDE, "nitrous oxide")),
        med_statement(
            "n2", {"medicationCodeableConcept": {"text": "Nitrous oxide (recreational)"}}
        ),
    )
    assert record.medications == ()
    assert [(f.finding, f.resource_id, f.active) for f in record.findings] == [
        (Finding.NITROUS_OXIDE, "MedicationStatement/n1", True),
        (Finding.NITROUS_OXIDE, "MedicationStatement/n2", True),
    ]


def test_intravenous_hydroxocobalamin_is_cyanokit_not_therapy():
    admin = {
        "resourceType": "MedicationAdministration",
        "id": "iv1",
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "5514"}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": "2026-01-01",
        "dosage": {"route": {"coding": [{"system": "http://snomed.info/sct", "code": "47625008"}]}},
    }
    (med,) = read_record([admin]).medications
    assert med.product is Product.CYANOKIT and not med.is_b12_therapy


def test_products_kept_across_reads_are_bounded(monkeypatch):
    """A concept's product is kept for later reads only if its strings are short, and
    the store starts again when full: a request cannot grow it without end."""
    monkeypatch.setattr(medications, "_PRODUCTS", {})
    monkeypatch.setattr(medications, "_PRODUCTS_HELD", 2)
    index = medications.MedicationIndex([])

    def order(text: str) -> dict:
        return {"medicationCodeableConcept": concept(RXNORM, RX_METFORMIN, text=text)}

    assert medications._product(order("x" * 201), index)[1].product is Product.METFORMIN
    assert medications._PRODUCTS == {}
    for text in ("a", "b", "c"):
        medications._product(order(text), index)
    assert [key[0] for key in medications._PRODUCTS] == ["c"]
