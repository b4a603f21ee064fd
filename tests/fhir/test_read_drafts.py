"""read_record on order-sign's draft orders: medication and lab drafts, junk among them,
and a draft's Medication reference resolved from the prefetch.

Order-sign cards update or remove these drafts, so each keeps its resource id and what
it orders, and never counts as a current medication.
"""

from cds_b12.clinical.record import LabKind, Product
from cds_b12.fhir.read import read_record

from .read_support import (
    LOINC,
    LOINC_B12_FOLATE_PANEL,
    LOINC_B12_MASS,
    LOINC_GLUCOSE,
    RX_CYANOCOBALAMIN_INJ_1MG_ML,
    RX_LISINOPRIL,
    RXNORM,
    SCT_IM,
    SNOMED,
    SUBJECT,
    bundle,
    concept,
    med_request,
    messages,
    only,
    patient,
    quantity,
    rx,
)


def test_draft_orders():
    draft_med = med_request(
        "draft-1",
        rx(RX_CYANOCOBALAMIN_INJ_1MG_ML, "vitamin B12 1 MG/ML Injectable Solution"),
        status="draft",
        route=concept(SNOMED, SCT_IM),
        dose=quantity(1000, "ug"),
        timing={"repeat": {"frequency": 1, "period": 1, "periodUnit": "mo"}},
    )
    b12_test = {
        "resourceType": "ServiceRequest",
        "id": "sr1",
        "status": "draft",
        "intent": "order",
        "code": concept(LOINC, LOINC_B12_MASS),
        "subject": SUBJECT,
    }
    panel = {**b12_test, "id": "sr2", "code": concept(LOINC, LOINC_B12_FOLATE_PANEL)}
    other = {**b12_test, "id": "sr3", "code": concept(LOINC, LOINC_GLUCOSE)}
    record = read_record(
        bundle(patient()), draft_orders=bundle(draft_med, b12_test, panel, other, kind="collection")
    )
    first, second, third, fourth = record.drafts
    assert (first.resource_type, first.resource_id, first.lab) == (
        "MedicationRequest",
        "MedicationRequest/draft-1",
        None,
    )
    assert first.resource is draft_med
    assert first.medication.status == "draft"
    assert first.medication.product is Product.B12_INJECTION
    assert first.medication.dose_mg == 1.0
    assert first.medication.timing.interval_days == 30
    assert (second.resource_id, second.lab, second.medication) == (
        "ServiceRequest/sr1",
        LabKind.B12,
        None,
    )
    assert third.lab is LabKind.B12
    assert fourth.lab is None
    assert record.medications == ()
    assert record.notes == ()


def test_draft_orders_as_list_with_junk():
    unknown = med_request("d2", rx(RX_LISINOPRIL))
    nutrition = {"resourceType": "NutritionOrder", "id": "n1", "status": "draft"}
    record = read_record(None, draft_orders=[unknown, "junk", nutrition, {"id": "x"}])
    assert [(d.resource_id, d.medication, d.lab) for d in record.drafts] == [
        ("MedicationRequest/d2", None, None),
        ("NutritionOrder/n1", None, None),
    ]
    assert messages(record) == [
        ("draftOrders", "skipped: draft order is not a FHIR resource"),
        ("Resource/x", "skipped: draft order has no resourceType"),
    ]


def test_draft_medication_reference_to_prefetch_medication():
    medication = {
        "resourceType": "Medication",
        "id": "m1",
        "code": concept(RXNORM, RX_CYANOCOBALAMIN_INJ_1MG_ML),
    }
    draft = med_request("d1", {"medicationReference": {"reference": "Medication/m1"}})
    record = read_record(bundle(medication), draft_orders=bundle(draft))
    assert only(record.drafts).medication.product is Product.B12_INJECTION
