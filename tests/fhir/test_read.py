"""read_record: FHIR JSON as an EHR sends it → PatientRecord.

Codes are written here as literals, never taken from cds_b12.clinical.codes, so a
wrong code set cannot pass its own test.
"""

from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle

import cds_b12.fhir.read as read_module
from cds_b12.clinical.record import (
    DataNote,
    Finding,
    LabKind,
    MedSource,
    PatientRecord,
    Product,
    Route,
)
from cds_b12.fhir.read import collect_resources, read_record

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
V3_ROUTE = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

LOINC_B12_MASS = "2132-9"
LOINC_B12_MOLES = "14685-2"
LOINC_MMA = "13964-2"
LOINC_HB = "718-7"
LOINC_GLUCOSE = "2345-7"
LOINC_PREGNANCY_STATUS = "82810-3"
LOINC_B12_FOLATE_PANEL = "96805-7"
SCT_PREGNANT = "77386006"
SCT_NOT_PREGNANT = "60001007"
SCT_PERNICIOUS_ANAEMIA = "84027009"
SCT_CROHNS = "34000006"
SCT_GASTRECTOMY = "53442002"
SCT_HYPERTENSION = "38341003"
SCT_IM = "78421000"
SCT_SC = "34206005"
SCT_ORAL = "26643006"
SCT_NASAL = "46713006"
ICD_PERNICIOUS_ANAEMIA = "D51.0"
RX_CYANOCOBALAMIN_INJ_1MG_ML = "309594"
RX_HYDROXOCOBALAMIN_INJ_1MG_ML = "317106"
RX_CYANOCOBALAMIN_ORAL_1MG = "309593"
RX_NASCOBAL = "861113"
RX_CYANOKIT = "700496"
RX_CYANOCOBALAMIN = "11248"
RX_HYDROXOCOBALAMIN = "5514"
RX_FOLIC_ACID = "4511"
RX_METFORMIN = "6809"
RX_NITROUS_OXIDE = "7486"
RX_LISINOPRIL = "29046"

SUBJECT = {"reference": "Patient/p1"}


def concept(system, code, display=None, text=None):
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    result = {"coding": [coding]}
    if text:
        result["text"] = text
    return result


def quantity(value, unit):
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def observation(oid, code, value=None, unit=None, *, system=LOINC, **extra):
    resource = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": concept(system, code),
        "subject": SUBJECT,
        "effectiveDateTime": "2024-05-01T09:30:00+01:00",
    }
    if value is not None:
        resource["valueQuantity"] = quantity(value, unit)
    resource.update(extra)
    return resource


def dosage(route=None, dose=None, timing=None):
    result = {}
    if route is not None:
        result["route"] = route
    if dose is not None:
        result["doseAndRate"] = [{"doseQuantity": dose}]
    if timing is not None:
        result["timing"] = timing
    return result


def rx(code, display=None):
    return {"medicationCodeableConcept": concept(RXNORM, code, display)}


def med_request(mid, medication, *, status="active", **dose):
    resource = {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": status,
        "intent": "order",
        "subject": SUBJECT,
        "authoredOn": "2024-04-01",
        **medication,
    }
    if dose:
        resource["dosageInstruction"] = [dosage(**dose)]
    return resource


def med_administration(mid, medication, *, status="completed", route=None, dose=None):
    resource = {
        "resourceType": "MedicationAdministration",
        "id": mid,
        "status": status,
        "subject": SUBJECT,
        "effectiveDateTime": "2024-04-02T10:00:00Z",
        **medication,
    }
    if route or dose:
        resource["dosage"] = {k: v for k, v in (("route", route), ("dose", dose)) if v}
    return resource


def med_statement(mid, medication, *, status="active", **dose):
    resource = {
        "resourceType": "MedicationStatement",
        "id": mid,
        "status": status,
        "subject": SUBJECT,
        "effectivePeriod": {"start": "2023-01-01", "end": "2024-01-01"},
        "dateAsserted": "2024-02-01",
        **medication,
    }
    if dose:
        resource["dosage"] = [dosage(**dose)]
    return resource


def condition(cid, code, *, system=SNOMED, clinical="active", verification=None, **extra):
    resource = {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": concept(CONDITION_CLINICAL, clinical),
        "code": code if isinstance(code, dict) else concept(system, code),
        "subject": SUBJECT,
        "onsetDateTime": "2019-06-01",
        **extra,
    }
    if verification:
        resource["verificationStatus"] = concept(CONDITION_VERIFICATION, verification)
    return resource


def bundle(*resources, kind="searchset"):
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"resource": resource} for resource in resources],
    }


def patient(pid="p1", gender="female", birth="1956-03-02"):
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth}


def read(*resources):
    return read_record(bundle(*resources))


def only(items):
    assert len(items) == 1, items
    return items[0]


def messages(record):
    return [(note.resource, note.message) for note in record.notes]


# Labs


def test_b12_in_pmol_l_is_converted_to_ng_l():
    lab = only(read(observation("b12", LOINC_B12_MOLES, 133, "pmol/L")).labs)
    assert lab.kind is LabKind.B12
    assert lab.value == pytest.approx(180.2, abs=0.05)
    assert lab.on == date(2024, 5, 1)
    assert lab.resource_id == "Observation/b12"


def test_b12_upper_band_edge():
    lab = only(read(observation("b12", LOINC_B12_MOLES, 258, "pmol/L")).labs)
    assert lab.value == pytest.approx(349.6, abs=0.05)


def test_b12_pg_ml_equals_ng_l():
    lab = only(read(observation("b12", LOINC_B12_MASS, 180, "pg/mL")).labs)
    assert lab.value == 180


def test_b12_uk_gp_snomed_code():
    lab = only(read(observation("b12", "271216009", 210, "ng/L", system=SNOMED)).labs)
    assert (lab.kind, lab.value) == (LabKind.B12, 210)


def test_mma_nmol_l_to_umol_l():
    lab = only(read(observation("mma", LOINC_MMA, 450, "nmol/L")).labs)
    assert (lab.kind, lab.value) == (LabKind.MMA, pytest.approx(0.45))


def test_hb_g_l_to_g_dl():
    lab = only(read(observation("hb", LOINC_HB, 98, "g/L")).labs)
    assert (lab.kind, lab.value) == (LabKind.HB, pytest.approx(9.8))


def test_reference_range_and_interpretation():
    obs = observation(
        "b12",
        LOINC_B12_MOLES,
        100,
        "pmol/L",
        referenceRange=[{"low": quantity(148, "pmol/L"), "high": {"value": 664}}],
        interpretation=[concept(INTERPRETATION, "L")],
    )
    lab = only(read(obs).labs)
    assert lab.ref_low == pytest.approx(200.5, abs=0.05)
    assert lab.ref_high == pytest.approx(899.7, abs=0.05)  # falls back to the value's unit
    assert lab.interpretation == "L"


def test_unconvertible_reference_range_ignored():
    obs = observation(
        "b12", LOINC_B12_MASS, 300, "pg/mL", referenceRange=[{"low": quantity(0.2, "mg/dL")}]
    )
    lab = only(read(obs).labs)
    assert (lab.value, lab.ref_low, lab.ref_high) == (300, None, None)


def test_comparator_keeps_the_number():
    obs = observation("b12", LOINC_B12_MASS)
    obs["valueQuantity"] = {"value": 150, "comparator": "<", "system": UCUM, "code": "pg/mL"}
    assert only(read(obs).labs).value == 150


def test_value_string_with_unit_from_reference_range():
    obs = observation(
        "b12",
        LOINC_B12_MASS,
        valueString="<150",
        referenceRange=[{"low": quantity(200, "pg/mL"), "high": quantity(900, "pg/mL")}],
    )
    assert only(read(obs).labs).value == 150


def test_value_string_with_its_own_unit():
    obs = observation("b12", LOINC_B12_MOLES, valueString="245 pmol/L")
    assert only(read(obs).labs).value == pytest.approx(332.0, abs=0.05)


def test_numeric_string_value_and_local_unit():
    obs = observation("b12", LOINC_B12_MASS)
    obs["valueQuantity"] = {"value": "245", "unit": "pg/ml"}
    assert only(read(obs).labs).value == 245


def test_unknown_unit_noted_and_ignored():
    record = read(observation("b12", LOINC_B12_MASS, 0.3, "mg/dL"))
    assert record.labs == ()
    assert messages(record) == [
        ("Observation/b12", "value ignored: unit 'mg/dL' is not a known unit for vitamin B12")
    ]


def test_missing_unit_noted_and_ignored():
    obs = observation("b12", LOINC_B12_MASS)
    obs["valueQuantity"] = {"value": 245}
    record = read(obs)
    assert record.labs == ()
    assert messages(record) == [("Observation/b12", "value ignored: no unit given for vitamin B12")]


def test_no_value_noted():
    record = read(observation("b12", LOINC_B12_MASS, dataAbsentReason={"text": "haemolysed"}))
    assert record.labs == ()
    assert messages(record) == [("Observation/b12", "skipped: no result value")]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("entered-in-error", "skipped: marked entered-in-error"),
        ("cancelled", "skipped: result cancelled"),
        ("preliminary", "skipped: preliminary result"),
        ("registered", "skipped: result not yet available"),
        ("unknown", "skipped: result status unknown"),
    ],
)
def test_unusable_status_skipped_with_note(status, message):
    record = read(observation("b12", LOINC_B12_MASS, 300, "pg/mL", status=status))
    assert record.labs == ()
    assert messages(record) == [("Observation/b12", message)]


@pytest.mark.parametrize("status", ["final", "amended", "corrected"])
def test_usable_status(status):
    record = read(observation("b12", LOINC_B12_MASS, 300, "pg/mL", status=status))
    assert len(record.labs) == 1
    assert record.notes == ()


def test_missing_status_noted_but_used():
    obs = observation("b12", LOINC_B12_MASS, 300, "pg/mL")
    del obs["status"]
    record = read(obs)
    assert len(record.labs) == 1
    assert messages(record) == [("Observation/b12", "status missing; used anyway")]


def test_issued_used_with_note_when_no_effective_date():
    obs = observation("b12", LOINC_B12_MASS, 300, "pg/mL", issued="2024-05-02T14:00:00Z")
    del obs["effectiveDateTime"]
    record = read(obs)
    assert only(record.labs).on == date(2024, 5, 2)
    assert messages(record) == [("Observation/b12", "no collection date; used the report date")]


def test_effective_period_start():
    obs = observation("b12", LOINC_B12_MASS, 300, "pg/mL", effectivePeriod={"start": "2024-04"})
    del obs["effectiveDateTime"]
    assert only(read(obs).labs).on == date(2024, 4, 1)


def test_no_date_at_all_skipped():
    obs = observation("b12", LOINC_B12_MASS, 300, "pg/mL")
    del obs["effectiveDateTime"]
    record = read(obs)
    assert record.labs == ()
    assert messages(record) == [("Observation/b12", "skipped: no date")]


def test_unused_observation_ignored_silently():
    record = read(observation("glu", LOINC_GLUCOSE, 5.4, "mmol/L", status="bogus"))
    assert record == PatientRecord()


def test_observation_without_id():
    obs = observation("x", LOINC_B12_MASS, 300, "pg/mL")
    del obs["id"]
    assert only(read(obs).labs).resource_id == "Observation"


def test_pregnancy_status_observation():
    pregnant = observation(
        "preg", LOINC_PREGNANCY_STATUS, valueCodeableConcept=concept(SNOMED, SCT_PREGNANT)
    )
    not_pregnant = observation(
        "notpreg", LOINC_PREGNANCY_STATUS, valueCodeableConcept=concept(SNOMED, SCT_NOT_PREGNANT)
    )
    finding = only(read(pregnant, not_pregnant).findings)
    assert (finding.finding, finding.active, finding.on) == (
        Finding.PREGNANCY,
        True,
        date(2024, 5, 1),
    )
    assert finding.resource_id == "Observation/preg"


def test_vegan_diet_observation():
    obs = observation("diet", "81663-7", valueCodeableConcept={"text": "Vegan diet"})
    assert only(read(obs).findings).finding is Finding.DIETARY_DEFICIENCY


# Resource handling


def test_bad_resource_noted_while_others_still_read(monkeypatch):
    real = read_module.read_observation

    def exploding(resource, note):
        if resource.get("id") == "boom":
            raise ValueError("boom")
        return real(resource, note)

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


# Patient


def test_patient():
    record = read(patient(), patient("p2"))
    assert record.patient.resource_id == "Patient/p1"
    assert record.patient.sex == "female"
    assert record.patient.birth_date == date(1956, 3, 2)
    assert messages(record) == [("Patient/p2", "ignored: more than one Patient; used Patient/p1")]


# Medications


def test_coded_injection_with_dose_route_and_timing():
    request = med_request(
        "mr1",
        rx(RX_HYDROXOCOBALAMIN_INJ_1MG_ML),
        route=concept(SNOMED, SCT_IM, "Intramuscular route"),
        dose=quantity(1, "mL"),
        timing={"repeat": {"frequency": 3, "period": 1, "periodUnit": "wk"}},
    )
    request["dispenseRequest"] = {"validityPeriod": {"start": "2024-04-01", "end": "2024-04-15"}}
    med = only(read(request).medications)
    assert med.source is MedSource.REQUEST
    assert med.product is Product.B12_INJECTION
    assert med.is_b12_therapy and med.is_injection
    assert med.ingredient == "hydroxocobalamin"
    assert med.resource_id == "MedicationRequest/mr1"
    assert (med.status, med.intent) == ("active", "order")
    assert (med.on, med.start, med.end) == (date(2024, 4, 1), date(2024, 4, 1), date(2024, 4, 15))
    assert med.dose_mg == 1.0  # 1 mL of 1 mg/mL
    assert med.route is Route.IM
    assert med.timing.interval_days == pytest.approx(7 / 3)


@pytest.mark.parametrize(
    ("repeat", "interval", "interval_max"),
    [
        ({"frequency": 3, "period": 1, "periodUnit": "wk"}, 7 / 3, 7 / 3),
        ({"frequency": 1, "period": 2, "periodUnit": "d"}, 2, 2),
        ({"period": 2, "periodMax": 3, "periodUnit": "mo"}, 60, 90),
        ({"frequency": 1, "period": 1, "periodUnit": "mo"}, 30, 30),
    ],
)
def test_timing_repeat(repeat, interval, interval_max):
    request = med_request("mr1", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), timing={"repeat": repeat})
    timing = only(read(request).medications).timing
    assert timing.interval_days == pytest.approx(interval)
    assert timing.interval_max_days == pytest.approx(interval_max)


def test_timing_repeat_as_written():
    request = med_request(
        "mr1",
        rx(RX_CYANOCOBALAMIN_INJ_1MG_ML),
        timing={"repeat": {"period": 2, "periodMax": 3, "periodUnit": "mo"}},
    )
    timing = only(read(request).medications).timing
    assert (timing.frequency, timing.period, timing.period_max, timing.period_unit) == (
        1,
        2,
        3,
        "mo",
    )


@pytest.mark.parametrize(("code", "interval"), [("QOD", 2), ("WK", 7), ("MO", 30), ("BID", 0.5)])
def test_timing_code(code, interval):
    request = med_request(
        "mr1", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), timing={"code": concept(GTS, code)}
    )
    assert only(read(request).medications).timing.interval_days == pytest.approx(interval)


def test_bounds_period_when_no_validity_period():
    request = med_request(
        "mr1",
        rx(RX_CYANOCOBALAMIN_INJ_1MG_ML),
        timing={
            "repeat": {
                "boundsPeriod": {"start": "2024-04-03", "end": "2024-06-03"},
                "period": 1,
                "periodUnit": "mo",
            }
        },
    )
    med = only(read(request).medications)
    assert (med.start, med.end) == (date(2024, 4, 3), date(2024, 6, 3))


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (concept(SNOMED, SCT_IM), Route.IM),
        (concept(SNOMED, SCT_SC), Route.SC),
        (concept(SNOMED, SCT_ORAL), Route.ORAL),
        (concept(SNOMED, SCT_NASAL), Route.NASAL),
        (concept(V3_ROUTE, "IM"), Route.IM),
        (concept(V3_ROUTE, "SQ"), Route.SC),
        (concept(V3_ROUTE, "PO"), Route.ORAL),
        (concept(V3_ROUTE, "NASINHL"), Route.NASAL),
        ({"text": "Intramuscular"}, Route.IM),
        ({"text": "deep IM injection"}, Route.IM),
        ({"text": "subcutaneous"}, Route.SC),
        ({"text": "by mouth"}, Route.ORAL),
        ({"text": "Sublingual"}, Route.ORAL),
        ({"text": "intranasal"}, Route.NASAL),
        ({"text": "intravenous"}, Route.IV),
        ({"text": "topical"}, Route.UNKNOWN),
    ],
)
def test_route_mapping(route, expected):
    request = med_request("mr1", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), route=route)
    assert only(read(request).medications).route is expected


@pytest.mark.parametrize(
    ("route", "dose", "product"),
    [
        (concept(SNOMED, SCT_IM), quantity(1000, "ug"), Product.B12_INJECTION),
        ({"text": "SC"}, quantity(1, "mg"), Product.B12_INJECTION),
        (concept(SNOMED, SCT_NASAL), quantity(500, "mcg"), Product.B12_NASAL),
        (concept(SNOMED, SCT_ORAL), quantity(1000, "ug"), Product.B12_ORAL_HIGH),
        (concept(SNOMED, SCT_ORAL), quantity(500, "ug"), Product.B12_ORAL_HIGH),
        ({"text": "by mouth"}, quantity(100, "µg"), Product.B12_ORAL_LOW),
    ],
)
def test_b12_ingredient_product_from_route_and_dose(route, dose, product):
    request = med_request("mr1", rx(RX_CYANOCOBALAMIN, "vitamin B12"), route=route, dose=dose)
    med = only(read(request).medications)
    assert (med.product, med.ingredient) == (product, "cyanocobalamin")


def test_known_clinical_drug_fixes_product_regardless_of_route():
    request = med_request(
        "mr1",
        rx(RX_CYANOCOBALAMIN_ORAL_1MG),
        route=concept(SNOMED, SCT_IM),
        dose={"value": 1, "unit": "tablet"},
    )
    med = only(read(request).medications)
    assert (med.product, med.route, med.dose_mg) == (Product.B12_ORAL_HIGH, Route.IM, 1.0)


def test_nasal_spray_clinical_drug():
    request = med_request("mr1", rx(RX_NASCOBAL), dose={"value": 1, "unit": "spray"})
    med = only(read(request).medications)
    assert (med.product, med.dose_mg) == (Product.B12_NASAL, 0.5)


def test_hydroxocobalamin_without_route_assumed_injection():
    request = med_request("mr1", rx(RX_HYDROXOCOBALAMIN), dose=quantity(1, "mg"))
    record = read(request)
    assert only(record.medications).product is Product.B12_INJECTION
    assert messages(record) == [("MedicationRequest/mr1", "route not stated; assumed injection")]


def test_cyanocobalamin_administration_without_route_assumed_injection():
    admin = med_administration(
        "ma1", {"medicationCodeableConcept": {"text": "Cyanocobalamin"}}, dose=quantity(1000, "ug")
    )
    record = read(admin)
    med = only(record.medications)
    assert (med.source, med.product, med.on, med.timing) == (
        MedSource.ADMINISTRATION,
        Product.B12_INJECTION,
        date(2024, 4, 2),
        None,
    )
    assert messages(record) == [
        ("MedicationAdministration/ma1", "route not stated; assumed injection")
    ]


def test_cyanocobalamin_statement_without_route_assumed_oral():
    statement = med_statement("ms1", {"medicationCodeableConcept": {"text": "Vitamin B-12"}})
    record = read(statement)
    med = only(record.medications)
    assert (med.source, med.product, med.ingredient) == (
        MedSource.STATEMENT,
        Product.B12_ORAL_HIGH,
        None,
    )
    assert (med.on, med.start, med.end) == (date(2023, 1, 1), date(2023, 1, 1), date(2024, 1, 1))
    assert messages(record) == [("MedicationStatement/ms1", "route not stated; assumed oral")]


def test_official_example_shapes_doseandrate_object_and_stu3_dose():
    request = med_request("mr1", rx(RX_CYANOCOBALAMIN))
    request["dosageInstruction"] = [
        {"route": {"text": "oral"}, "doseAndRate": {"doseQuantity": quantity(250, "ug")}}
    ]
    other = med_request("mr2", rx(RX_CYANOCOBALAMIN))
    other["dosageInstruction"] = [{"route": {"text": "oral"}, "doseQuantity": quantity(2, "mg")}]
    doses = [med.dose_mg for med in read(request, other).medications]
    assert doses == [0.25, 2.0]


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


# Conditions, procedures, allergies


def test_condition_codes_system_aware():
    record = read(
        condition("c1", SCT_PERNICIOUS_ANAEMIA),
        condition("c2", ICD_PERNICIOUS_ANAEMIA, system=ICD10CM),
        condition("c3", "D510", system=ICD10CM),
        condition("c4", SCT_PERNICIOUS_ANAEMIA, system=ICD10CM),
        condition("c5", SCT_HYPERTENSION),
    )
    assert [(f.finding, f.resource_id) for f in record.findings] == [
        (Finding.PERNICIOUS_ANAEMIA, "Condition/c1"),
        (Finding.PERNICIOUS_ANAEMIA, "Condition/c2"),
        (Finding.PERNICIOUS_ANAEMIA, "Condition/c3"),
    ]
    assert record.findings[0].on == date(2019, 6, 1)


def test_condition_with_codes_for_two_concepts():
    cond = condition("c1", SCT_PERNICIOUS_ANAEMIA)
    cond["code"]["coding"].append({"system": SNOMED, "code": SCT_CROHNS})
    assert {f.finding for f in read(cond).findings} == {
        Finding.PERNICIOUS_ANAEMIA,
        Finding.CROHNS,
    }


@pytest.mark.parametrize(
    ("clinical", "active"),
    [
        ("active", True),
        ("recurrence", True),
        ("relapse", True),
        ("inactive", False),
        ("remission", False),
        ("resolved", False),
    ],
)
def test_condition_clinical_status(clinical, active):
    assert only(read(condition("c1", SCT_CROHNS, clinical=clinical)).findings).active is active


def test_condition_missing_clinical_status():
    cond = condition("c1", SCT_CROHNS)
    del cond["clinicalStatus"]
    abated = condition("c2", SCT_CROHNS, abatementDateTime="2021-02-03")
    del abated["clinicalStatus"]
    first, second = read(cond, abated).findings
    assert first.active is True
    assert (second.active, second.resolved_on) == (False, date(2021, 2, 3))


def test_condition_verification_status():
    record = read(
        condition("c1", SCT_PERNICIOUS_ANAEMIA, verification="refuted"),
        condition("c2", SCT_PERNICIOUS_ANAEMIA, verification="entered-in-error"),
        condition("c3", SCT_PERNICIOUS_ANAEMIA, verification="confirmed"),
    )
    assert [f.resource_id for f in record.findings] == ["Condition/c3"]
    assert messages(record) == [("Condition/c2", "skipped: marked entered-in-error")]


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Leber hereditary optic neuropathy", Finding.LEBER),
        ("Subacute combined degeneration of spinal cord", Finding.NEURO_SEVERE),
        ("Pernicious anaemia", Finding.PERNICIOUS_ANAEMIA),
        ("Autoimmune gastritis", Finding.ATROPHIC_GASTRITIS),
        ("History of laparoscopic sleeve gastrectomy", Finding.SLEEVE_GASTRECTOMY),
        ("Total gastrectomy", Finding.GASTRECTOMY),
        ("Roux-en-Y gastric bypass", Finding.BARIATRIC_BYPASS),
        ("Ileocaecal resection", Finding.ILEAL_RESECTION),
        ("Short bowel syndrome", Finding.SHORT_BOWEL),
        ("Crohn’s disease", Finding.CROHNS),
        ("Coeliac disease", Finding.COELIAC),
        ("Vegan", Finding.DIETARY_DEFICIENCY),
        ("Paraesthesia of both feet", Finding.NEURO),
        ("Vitamin B12 deficiency", Finding.B12_DEFICIENCY),
        ("Pregnancy", Finding.PREGNANCY),
    ],
)
def test_condition_text_fallback_yields_one_finding(text, finding):
    cond = condition("c1", {"text": text})
    assert [f.finding for f in read(cond).findings] == [finding]


def test_condition_display_used_when_code_unknown():
    cond = condition("c1", concept(SNOMED, "1234567", "Ileectomy"))
    assert only(read(cond).findings).finding is Finding.ILEAL_RESECTION


def procedure(pid, code, status="completed", display=None):
    return {
        "resourceType": "Procedure",
        "id": pid,
        "status": status,
        "code": concept(SNOMED, code, display),
        "subject": SUBJECT,
        "performedDateTime": "2015-09-10",
    }


def test_procedures():
    record = read(
        procedure("pr1", SCT_GASTRECTOMY),
        procedure("pr2", SCT_GASTRECTOMY, status="not-done"),
        procedure("pr3", SCT_GASTRECTOMY, status="entered-in-error"),
        procedure("pr4", SCT_GASTRECTOMY, status="preparation"),
    )
    finding = only(record.findings)
    assert (finding.finding, finding.resource_id, finding.active, finding.on) == (
        Finding.GASTRECTOMY,
        "Procedure/pr1",
        True,
        date(2015, 9, 10),
    )
    assert messages(record) == [("Procedure/pr3", "skipped: marked entered-in-error")]


def allergy(aid, code, *, clinical="active", verification="confirmed"):
    return {
        "resourceType": "AllergyIntolerance",
        "id": aid,
        "clinicalStatus": concept(ALLERGY_CLINICAL, clinical),
        "verificationStatus": concept(ALLERGY_VERIFICATION, verification),
        "code": code,
        "patient": SUBJECT,
        "recordedDate": "2010-01-01",
    }


def test_cobalt_and_b12_allergies():
    record = read(
        allergy("a1", {"text": "Cobalt"}),
        allergy("a2", concept(RXNORM, RX_CYANOCOBALAMIN)),
        allergy("a3", {"text": "Hydroxocobalamin"}, clinical="resolved"),
        allergy("a4", {"text": "Cobalt"}, verification="refuted"),
        allergy("a5", {"text": "Penicillin"}),
    )
    assert [(f.finding, f.resource_id, f.active) for f in record.findings] == [
        (Finding.COBALT_B12_ALLERGY, "AllergyIntolerance/a1", True),
        (Finding.COBALT_B12_ALLERGY, "AllergyIntolerance/a2", True),
        (Finding.COBALT_B12_ALLERGY, "AllergyIntolerance/a3", False),
    ]
    assert record.notes == ()


# Draft orders


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


# The fixtures are real FHIR


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
