"""read_record on whatever arrives: Bundles, prefetch mappings, lists and junk, one bad
resource among good ones, more than one Patient; and a typical prefetch end to end.

EHRs send prefetch in many shapes, and one bad resource must not cost the rest. The
typical prefetch is validated as R4B here, so the builders in read_support stay real FHIR.
"""

from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle

import cds_b12.fhir.read as read_module
from cds_b12.clinical.record import DataNote, Finding, LabKind, PatientRecord, Product
from cds_b12.fhir.read import collect_resources, read_record

from .read_support import (
    LOINC_B12_MASS,
    LOINC_B12_MOLES,
    LOINC_HB,
    LOINC_MMA,
    RX_CYANOCOBALAMIN_INJ_1MG_ML,
    RX_HYDROXOCOBALAMIN_INJ_1MG_ML,
    RX_METFORMIN,
    SCT_GASTRECTOMY,
    SCT_IM,
    SCT_PERNICIOUS_ANAEMIA,
    SNOMED,
    allergy,
    bundle,
    concept,
    condition,
    med_administration,
    med_request,
    med_statement,
    messages,
    observation,
    patient,
    procedure,
    quantity,
    read,
    rx,
)


def test_bad_resource_noted_while_others_still_read(monkeypatch):
    real = read_module.read_observation

    def exploding(resource, note, name, who):
        if resource.get("id") == "boom":
            raise ValueError("boom")
        return real(resource, note, name, who)

    monkeypatch.setattr(read_module, "read_observation", exploding)
    record = read(
        observation("boom", LOINC_B12_MASS, 300, "pg/mL"),
        observation("ok", LOINC_B12_MASS, 310, "pg/mL"),
        observation("hb", LOINC_HB, "twelve", "g/dL"),
    )
    assert [lab.resource_id for lab in record.labs] == ["Observation/ok"]
    assert messages(record) == [
        ("Observation/boom", "skipped: unreadable resource"),
        ("Observation/hb", "value ignored: not a finite number for Hb"),
    ]


def test_unknown_resource_types():
    record = read_record(
        [
            {"resourceType": "FooBar", "id": "f1"},
            {"id": "x1"},
            {"resourceType": 7},
            {"resourceType": "Encounter", "id": "e1"},
            {"resourceType": "Practitioner", "id": "pr1"},
            {"resourceType": "OperationOutcome", "issue": []},
            observation("ok", LOINC_B12_MASS, 310, "pg/mL"),
        ]
    )
    assert len(record.labs) == 1
    assert messages(record) == [
        ("FooBar/f1", "skipped: unknown resource type 'FooBar'"),
        ("Resource/x1", "skipped: resource has no resourceType"),
        ("Resource", "skipped: resource has no resourceType"),
    ]


def test_prefetch_mapping_with_null_and_operation_outcome():
    prefetch = {
        "patient": patient(),
        "labs": bundle(observation("b12", LOINC_B12_MASS, 300, "pg/mL")),
        "meds": None,
        "conditions": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "not-found"}],
        },
    }
    record = read_record(prefetch)
    assert record.patient.resource_id == "Patient/p1"
    assert len(record.labs) == 1
    assert record.notes == ()


def test_same_resource_in_two_prefetch_keys_read_once():
    obs = observation("b12", LOINC_B12_MASS, 300, "pg/mL")
    record = read_record({"b12": bundle(obs), "recent": bundle(dict(obs))})
    assert len(record.labs) == 1


def test_collect_resources_flattens_in_order():
    inner = bundle(observation("o2", LOINC_HB), kind="collection")
    data = [
        bundle(patient(), inner, kind="transaction"),
        None,
        "junk",
        [observation("o3", LOINC_HB)],
        {"resourceType": "Bundle", "entry": [{"fullUrl": "x"}, "junk", {"resource": None}]},
    ]
    ids = [resource["id"] for resource in collect_resources(data)]
    assert ids == ["p1", "o2", "o3"]


@pytest.mark.parametrize("data", [None, 42, "Patient", [], {}, [None, 1, "a"], True])
def test_garbage_gives_empty_record(data):
    assert read_record(data) == PatientRecord()


def test_patient():
    record = read(patient(), patient("p2"))
    assert record.patient.resource_id == "Patient/p1"
    assert record.patient.sex == "female"
    assert record.patient.birth_date == date(1956, 3, 2)
    assert messages(record) == [("Patient/p2", "ignored: more than one Patient; used Patient/p1")]


def typical_prefetch():
    return {
        "patient": patient(),
        "labs": bundle(
            observation("b12", LOINC_B12_MOLES, 133, "pmol/L"),
            observation("mma", LOINC_MMA, 450, "nmol/L"),
            observation("hb", LOINC_HB, 98, "g/L"),
        ),
        "meds": bundle(
            med_request(
                "mr1",
                rx(RX_HYDROXOCOBALAMIN_INJ_1MG_ML),
                route=concept(SNOMED, SCT_IM),
                dose=quantity(1, "mg"),
                timing={"repeat": {"frequency": 1, "period": 2, "periodUnit": "d"}},
            ),
            med_administration(
                "ma1", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), route=concept(SNOMED, SCT_IM)
            ),
            med_statement("ms1", rx(RX_METFORMIN, "metformin")),
        ),
        "problems": bundle(
            condition("c1", SCT_PERNICIOUS_ANAEMIA),
            procedure("pr1", SCT_GASTRECTOMY),
            allergy("a1", {"text": "Cobalt"}),
        ),
    }


def test_fixtures_validate_as_r4b():
    for value in typical_prefetch().values():
        data = value if value["resourceType"] == "Bundle" else bundle(value)
        Bundle.model_validate(data)


def test_typical_prefetch():
    record = read_record(typical_prefetch())
    assert record.notes == ()
    assert [lab.kind for lab in record.labs] == [LabKind.B12, LabKind.MMA, LabKind.HB]
    assert [med.product for med in record.medications] == [
        Product.B12_INJECTION,
        Product.B12_INJECTION,
        Product.METFORMIN,
    ]
    assert [f.finding for f in record.findings] == [
        Finding.PERNICIOUS_ANAEMIA,
        Finding.GASTRECTOMY,
        Finding.COBALT_B12_ALLERGY,
    ]
    assert all(isinstance(note, DataNote) for note in record.notes)
