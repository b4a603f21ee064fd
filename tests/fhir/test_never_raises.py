"""read_record never raises, whatever JSON it is given, and always returns a PatientRecord."""

import copy
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_b12.clinical.record import DataNote, PatientRecord
from cds_b12.fhir.read import collect_resources, read_record

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"

LOINC_B12_MASS = "2132-9"
LOINC_B12_MOLES = "14685-2"
LOINC_PREGNANCY_STATUS = "82810-3"
SCT_PREGNANT = "77386006"
SCT_PERNICIOUS_ANAEMIA = "84027009"
SCT_IM = "78421000"
RX_CYANOCOBALAMIN_INJ_1MG_ML = "309594"
RX_HYDROXOCOBALAMIN = "5514"
RX_CYANOKIT = "700496"

FHIR_KEYS = [
    "resourceType", "id", "entry", "resource", "fullUrl", "status", "code", "coding", "system",
    "display", "text", "valueQuantity", "value", "unit", "comparator", "valueString",
    "valueCodeableConcept", "referenceRange", "low", "high", "interpretation", "appliesTo", "age",
    "type",
    "effectiveDateTime", "effectivePeriod", "start", "end", "issued", "medicationCodeableConcept",
    "medicationReference", "reference", "contained", "ingredient", "itemCodeableConcept",
    "dosageInstruction", "dosage", "doseAndRate", "doseQuantity", "dose", "route", "timing",
    "repeat", "frequency", "period", "periodMax", "periodUnit", "boundsPeriod", "clinicalStatus",
    "verificationStatus", "gender", "birthDate", "authoredOn", "dispenseRequest",
    "validityPeriod", "abatementDateTime", "reaction", "substance", "intent", "onsetAge",
    "onsetRange", "onsetString", "abatementAge", "performedPeriod", "performedAge", "recordedDate",
]  # fmt: skip
FHIR_STRINGS = [
    "Bundle", "Observation", "MedicationRequest", "MedicationAdministration",
    "MedicationStatement", "Medication", "Condition", "Procedure", "AllergyIntolerance",
    "Patient", "ServiceRequest", "OperationOutcome", "FooBar", LOINC, SNOMED, RXNORM, ICD10CM,
    UCUM, LOINC_B12_MASS, LOINC_B12_MOLES, LOINC_PREGNANCY_STATUS, SCT_PREGNANT,
    SCT_PERNICIOUS_ANAEMIA, SCT_IM, RX_CYANOCOBALAMIN_INJ_1MG_ML, RX_HYDROXOCOBALAMIN,
    RX_CYANOKIT, "D51.0", "pg/mL", "pmol/L", "mg", "ug", "g", "mL", "tablet", "wk", "mo", "d", "a",
    "final", "entered-in-error", "active", "draft", "completed", "not-done", "refuted",
    "2024-01-01", "2024", "2024-01-01T08:00:00", "not a date", "#m1", "Medication/m1", "m1",
    "<150", "1e999", "nan", "-0", "vegan", "cyanokit", "multivitamin", "hydroxocobalamin",
    "normal", "therapeutic", "male", "female", "248152002",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(FHIR_STRINGS)
)


def json_values(max_leaves: int) -> st.SearchStrategy:
    """Any JSON, with keys that are mostly FHIR element names so readers go deep."""
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(FHIR_KEYS) | st.text(max_size=6), children, max_size=6
            )
        ),
        max_leaves=max_leaves,
    )


resource_like = st.builds(
    lambda rtype, fields: {"resourceType": rtype, **fields},
    st.sampled_from(FHIR_STRINGS),
    st.dictionaries(st.sampled_from(FHIR_KEYS[1:]), json_values(8), max_size=6),
)

# the example count comes from the run's hypothesis profile (tests/conftest.py)
PROPERTY = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def valid_bundle() -> dict:
    subject = {"reference": "Patient/p1"}
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1950-01-01"}},
            {
                "fullUrl": "urn:uuid:m1",
                "resource": {
                    "resourceType": "Medication",
                    "id": "m1",
                    "code": {"coding": [{"system": RXNORM, "code": RX_HYDROXOCOBALAMIN}]},
                    "ingredient": [{"itemCodeableConcept": {"text": "hydroxocobalamin"}}],
                },
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "o1",
                    "status": "final",
                    "code": {"coding": [{"system": LOINC, "code": LOINC_B12_MOLES}]},
                    "subject": subject,
                    "effectiveDateTime": "2024-05-01T09:00:00Z",
                    "valueQuantity": {"value": 133, "system": UCUM, "code": "pmol/L"},
                    "referenceRange": [{"low": {"value": 148, "unit": "pmol/L"}}],
                    "interpretation": [{"coding": [{"code": "L"}]}],
                }
            },
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "id": "mr1",
                    "status": "active",
                    "intent": "order",
                    "subject": subject,
                    "medicationReference": {"reference": "Medication/m1"},
                    "authoredOn": "2024-04-01",
                    "dosageInstruction": [
                        {
                            "route": {"coding": [{"system": SNOMED, "code": SCT_IM}]},
                            "timing": {"repeat": {"period": 2, "periodMax": 3, "periodUnit": "mo"}},
                            "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "mg"}}],
                        }
                    ],
                    "dispenseRequest": {"validityPeriod": {"start": "2024-04-01"}},
                }
            },
            {
                "resource": {
                    "resourceType": "MedicationAdministration",
                    "id": "ma1",
                    "status": "completed",
                    "subject": subject,
                    "contained": [
                        {
                            "resourceType": "Medication",
                            "id": "c1",
                            "code": {"text": "Cyanocobalamin"},
                        }
                    ],
                    "medicationReference": {"reference": "#c1"},
                    "effectiveDateTime": "2024-04-02",
                    "dosage": {"route": {"text": "IM"}, "dose": {"value": 1000, "unit": "ug"}},
                }
            },
            {
                "resource": {
                    "resourceType": "Condition",
                    "id": "c1",
                    "clinicalStatus": {"coding": [{"code": "active"}]},
                    "verificationStatus": {"coding": [{"code": "confirmed"}]},
                    "code": {"coding": [{"system": SNOMED, "code": SCT_PERNICIOUS_ANAEMIA}]},
                    "subject": subject,
                    "onsetPeriod": {"start": "2019"},
                }
            },
            {
                "resource": {
                    "resourceType": "AllergyIntolerance",
                    "id": "a1",
                    "code": {"text": "cobalt"},
                    "patient": subject,
                }
            },
        ],
    }


def paths(node: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path into a JSON document, so a mutation can replace any field."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


BUNDLE_PATHS = paths(valid_bundle())


def assert_sound(record: object) -> None:
    assert isinstance(record, PatientRecord)
    assert all(
        isinstance(note, DataNote) and isinstance(note.message, str) for note in record.notes
    )
    assert all(math.isfinite(lab.value) for lab in record.labs)


def test_valid_bundle_reads_cleanly():
    record = read_record(valid_bundle())
    assert record.notes == ()
    assert (len(record.labs), len(record.medications), len(record.findings)) == (1, 2, 2)


@PROPERTY
@given(json_values(40), json_values(10))
def test_any_json(data, drafts):
    assert_sound(read_record(data, draft_orders=drafts))
    assert all(isinstance(resource, dict) for resource in collect_resources(data))


@PROPERTY
@given(st.lists(resource_like, max_size=3), st.lists(resource_like, max_size=1))
def test_resource_shaped_json(resources, drafts):
    bundle = {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}
    assert_sound(read_record({"prefetch": bundle, "x": None}, draft_orders=drafts))


@PROPERTY
@given(st.lists(st.tuples(st.sampled_from(BUNDLE_PATHS), json_values(6)), min_size=1, max_size=4))
def test_mutated_valid_bundle(mutations):
    bundle = valid_bundle()
    for path, value in mutations:
        target = bundle
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    assert_sound(read_record(bundle, draft_orders=copy.deepcopy(bundle)))


@pytest.mark.parametrize(
    "data",
    [
        {"resourceType": "Bundle", "entry": "x"},
        {"resourceType": "Bundle", "entry": [{"resource": [1, {"resourceType": None}]}]},
        {"resourceType": "Observation", "code": {"coding": [{"system": LOINC, "code": 2132}]}},
        {
            "resourceType": "Observation",
            "status": ["final"],
            "code": {"coding": {"system": LOINC, "code": LOINC_B12_MASS}},
            "valueQuantity": {"value": 10**400, "unit": "pg/mL"},
            "effectiveDateTime": "2024-01-01",
        },
        {
            "resourceType": "MedicationRequest",
            "medicationReference": {"reference": 5},
            "dosageInstruction": "daily",
        },
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "medicationCodeableConcept": {"text": "cyanocobalamin"},
            "dosageInstruction": [
                {"timing": {"repeat": {"frequency": 1e308, "period": 10**400, "periodUnit": 3}}}
            ],
        },
        {"resourceType": "Condition", "code": {"text": "crohn"}, "clinicalStatus": 7, 1: 2},
        {"resourceType": "Patient", "gender": 1, "birthDate": ["1950"]},
    ],
)
def test_known_awkward_inputs(data):
    assert_sound(read_record(data, draft_orders=data))
