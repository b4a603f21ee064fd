"""Tolerance of real EHR data, audited as a table across the resource types the reader uses:
a record withdrawn (entered in error, refuted, not done, cancelled) is left out; a field we
do not know changes nothing; a code from another system beside ours is still recognised; a
status, flag or value we cannot trust is said in a note, never used or dropped in silence.
Values and dates are the table's other half, in ``test_tolerance_values``.

Each row is one resource (or a few) and what the reader makes of it: the facts, worded
short by ``facts``, and the notes. The other test modules hold the detail of each reader.
"""

import copy

import pytest

from cds_b12.clinical.record import PatientRecord

from .read_support import (
    ALLERGY_CLINICAL,
    ALLERGY_VERIFICATION,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    ICD10CM,
    INTERPRETATION,
    LOINC,
    LOINC_B12_MASS,
    LOINC_GLUCOSE,
    LOINC_HB,
    RX_CYANOCOBALAMIN,
    RX_CYANOCOBALAMIN_INJ_1MG_ML,
    RX_CYANOCOBALAMIN_ORAL_1MG,
    RXNORM,
    SCT_GASTRECTOMY,
    SCT_PERNICIOUS_ANAEMIA,
    SNOMED,
    allergy,
    concept,
    condition,
    med_administration,
    med_request,
    med_statement,
    messages,
    observation,
    procedure,
    quantity,
    read,
    rx,
)

LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282"  # an EHR's own code system
INJECTION = rx(RX_CYANOCOBALAMIN_INJ_1MG_ML)
ORAL = rx(RX_CYANOCOBALAMIN_ORAL_1MG)


def facts(record: PatientRecord) -> list[str]:
    """Each fact read, in a few words: its class, what it is, its state and its date."""
    return [
        *(
            f"Lab {lab.kind.name} {lab.comparator or ''}{lab.value:g} {lab.on}"
            for lab in record.labs
        ),
        *(f"Unreadable {u.kind.name} {u.reason.name} {u.on}" for u in record.unreadable),
        *(f"Medication {m.product.name} {m.status} {m.on}" for m in record.medications),
        *(
            f"Finding {f.finding.name} {'active' if f.active else 'inactive'} {f.on}"
            for f in record.findings
        ),
    ]


def b12(value=300, unit="pg/mL", **extra):
    return observation("b12", LOINC_B12_MASS, value, unit, **extra)


def pernicious_anaemia(**extra):
    return condition("c1", SCT_PERNICIOUS_ANAEMIA, **extra)


def gastrectomy(status="completed"):
    return procedure("pr1", SCT_GASTRECTOMY, status=status)


def b12_allergy(**extra):
    return allergy("a1", concept(RXNORM, RX_CYANOCOBALAMIN), **extra)


# One resource of each type the reader uses, read cleanly: the base of the rows below.
BASES = {
    "Observation": (b12(), ["Lab B12 300 2024-05-01"]),
    "MedicationRequest": (
        med_request("mr1", INJECTION),
        ["Medication B12_INJECTION active 2024-04-01"],
    ),
    "MedicationAdministration": (
        med_administration("ma1", INJECTION),
        ["Medication B12_INJECTION completed 2024-04-02"],
    ),
    "MedicationStatement": (
        med_statement("ms1", ORAL),
        ["Medication B12_ORAL_HIGH active 2023-01-01"],
    ),
    "Condition": (pernicious_anaemia(), ["Finding PERNICIOUS_ANAEMIA active 2019-06-01"]),
    "Procedure": (gastrectomy(), ["Finding GASTRECTOMY active 2015-09-10"]),
    "AllergyIntolerance": (b12_allergy(), ["Finding COBALT_B12_ALLERGY active 2010-01-01"]),
}
TYPES = list(BASES)


def base(rtype: str) -> dict:
    return copy.deepcopy(BASES[rtype][0])


def test_every_base_reads_cleanly():
    for rtype, (resource, expected) in BASES.items():
        record = read(resource)
        assert (facts(record), record.notes) == (expected, ()), rtype


# Fields no reader knows: vendor extensions, metadata, primitive extensions, R5 and
# vendor-only elements, a narrative. None may change what is read.
UNKNOWN_FIELDS = {
    "meta": {"versionId": "7", "lastUpdated": "2024-05-02T10:00:00Z", "source": "#epic"},
    "text": {"status": "generated", "div": "<div xmlns='http://www.w3.org/1999/xhtml'>x</div>"},
    "extension": [{"url": "http://example.org/fhir/StructureDefinition/x", "valueString": "y"}],
    "_status": {"extension": [{"url": "http://example.org/data-source", "valueCode": "ehr"}]},
    "identifier": [{"system": "urn:oid:1.2.3", "value": "abc-123"}],
    "epicInternalId": {"nested": [1, 2, {"deeper": None}]},
    "note": [{"text": "patient says entered in error elsewhere"}],
}


@pytest.mark.parametrize("rtype", TYPES)
def test_unknown_fields_change_nothing(rtype):
    resource = base(rtype)
    resource.update(copy.deepcopy(UNKNOWN_FIELDS))
    record = read(resource)
    assert (facts(record), record.notes) == (BASES[rtype][1], ())


def _with_local_code_first(rtype: str) -> dict:
    """The base coded first in the EHR's own system, then in ours (and ICD-10 for a Condition)."""
    resource = base(rtype)
    key = {
        "MedicationRequest": "medicationCodeableConcept",
        "MedicationAdministration": "medicationCodeableConcept",
        "MedicationStatement": "medicationCodeableConcept",
    }.get(rtype, "code")
    coding = resource[key]["coding"]
    coding.insert(0, {"system": LOCAL, "code": "X-17", "display": "local name"})
    if rtype == "Condition":
        coding.append({"system": ICD10CM, "code": "D51.0"})
    if rtype == "Observation":
        coding.append({"system": SNOMED, "code": "271216009"})
    return resource


@pytest.mark.parametrize("rtype", TYPES)
def test_a_local_code_beside_ours_is_no_obstacle(rtype):
    record = read(_with_local_code_first(rtype))
    assert (facts(record), record.notes) == (BASES[rtype][1], ())


def _statuses(system: str, code: str) -> dict:
    """A status CodeableConcept coded in the EHR's own system first, then in HL7's."""
    local = {"system": LOCAL, "code": code.upper()[:3]}
    return {"coding": [local, {"system": system, "code": code}]}


# (resource, facts, notes): a withdrawn record is left out, said when it was a mistake.
WITHDRAWN = {
    "Observation entered-in-error": (
        b12(status="entered-in-error"),
        [],
        ["skipped: marked entered-in-error"],
    ),
    "Observation cancelled": (b12(status="cancelled"), [], ["skipped: result cancelled"]),
    "Observation panel entered-in-error, its components too": (
        observation(
            "fbc",
            "58410-2",
            status="entered-in-error",
            component=[{"code": concept(LOINC, LOINC_HB), "valueQuantity": quantity(9, "g/dL")}],
        ),
        [],
        ["skipped: marked entered-in-error"],
    ),
    "MedicationRequest entered-in-error": (
        med_request("mr1", INJECTION, status="entered-in-error"),
        [],
        ["skipped: marked entered-in-error"],
    ),
    "MedicationRequest cancelled": (
        med_request("mr1", INJECTION, status="cancelled"),
        [],
        ["skipped: order cancelled"],
    ),
    "MedicationRequest doNotPerform": (
        {**med_request("mr1", INJECTION), "doNotPerform": True},
        [],
        ["skipped: an order not to give it"],
    ),
    "Condition entered-in-error in words only": (
        pernicious_anaemia(verificationStatus={"text": "Entered in error"}),
        [],
        ["skipped: marked entered-in-error"],
    ),
    "MedicationAdministration entered-in-error": (
        med_administration("ma1", INJECTION, status="entered-in-error"),
        [],
        ["skipped: marked entered-in-error"],
    ),
    "MedicationAdministration not-done": (
        med_administration("ma1", INJECTION, status="not-done"),
        [],
        ["skipped: dose not given"],
    ),
    "MedicationAdministration STU3 notGiven": (
        {**med_administration("ma1", INJECTION), "notGiven": True},
        [],
        ["skipped: dose not given"],
    ),
    "MedicationAdministration DSTU2 wasNotGiven": (
        {**med_administration("ma1", INJECTION), "wasNotGiven": True},
        [],
        ["skipped: dose not given"],
    ),
    "MedicationStatement entered-in-error": (
        med_statement("ms1", ORAL, status="entered-in-error"),
        [],
        ["skipped: marked entered-in-error"],
    ),
    "MedicationStatement not-taken": (
        med_statement("ms1", ORAL, status="not-taken"),
        [],
        ["skipped: marked not taken"],
    ),
    "MedicationStatement STU3 taken n": (
        {**med_statement("ms1", ORAL), "taken": "n"},
        [],
        ["skipped: marked not taken"],
    ),
    "MedicationStatement DSTU2 wasNotTaken": (
        {**med_statement("ms1", ORAL), "wasNotTaken": True},
        [],
        ["skipped: marked not taken"],
    ),
    "Condition entered-in-error": (
        pernicious_anaemia(verification="entered-in-error"),
        [],
        ["skipped: marked entered-in-error"],
    ),
    "Condition entered-in-error beside a local code": (
        pernicious_anaemia(
            verificationStatus=_statuses(CONDITION_VERIFICATION, "entered-in-error")
        ),
        [],
        ["skipped: marked entered-in-error"],
    ),
    "Condition refuted": (pernicious_anaemia(verification="refuted"), [], []),
    "Condition refuted beside a local code": (
        pernicious_anaemia(verificationStatus=_statuses(CONDITION_VERIFICATION, "refuted")),
        [],
        [],
    ),
    "Procedure entered-in-error": (
        gastrectomy("entered-in-error"),
        [],
        ["skipped: marked entered-in-error"],
    ),
    "Procedure not-done": (gastrectomy("not-done"), [], []),
    "AllergyIntolerance entered-in-error": (
        b12_allergy(verification="entered-in-error"),
        [],
        ["skipped: marked entered-in-error"],
    ),
    "AllergyIntolerance refuted": (b12_allergy(verification="refuted"), [], []),
}


@pytest.mark.parametrize(("resource", "kept", "notes"), WITHDRAWN.values(), ids=WITHDRAWN)
def test_a_withdrawn_record_is_left_out(resource, kept, notes):
    record = read(resource)
    assert (facts(record), [message for _, message in messages(record)]) == (kept, notes)


def test_a_clinical_status_beside_a_local_code_is_read():
    """Several codings: the HL7 one decides, wherever it stands."""
    resolved = pernicious_anaemia(clinicalStatus=_statuses(CONDITION_CLINICAL, "resolved"))
    active = pernicious_anaemia(clinicalStatus=_statuses(CONDITION_CLINICAL, "active"))
    active["id"] = "c2"
    refuted = b12_allergy(verification="confirmed")
    refuted["verificationStatus"] = _statuses(ALLERGY_VERIFICATION, "refuted")
    inactive = b12_allergy()
    inactive["id"] = "a2"
    inactive["clinicalStatus"] = _statuses(ALLERGY_CLINICAL, "inactive")
    record = read(resolved, active, refuted, inactive)
    assert facts(record) == [
        "Finding PERNICIOUS_ANAEMIA inactive 2019-06-01",
        "Finding PERNICIOUS_ANAEMIA active 2019-06-01",
        "Finding COBALT_B12_ALLERGY inactive 2010-01-01",
    ]


def test_a_clinical_status_in_words_only_is_read():
    resolved = pernicious_anaemia(clinicalStatus={"text": "Resolved"})
    record = read(resolved)
    assert facts(record) == ["Finding PERNICIOUS_ANAEMIA inactive 2019-06-01"]


@pytest.mark.parametrize(("abated", "active"), [(True, "inactive"), (False, "active")])
def test_an_abatement_flag_without_a_clinical_status(abated, active):
    """con-4: an abated Condition is not active; ``abatementBoolean: false`` is not abated."""
    cond = pernicious_anaemia(abatementBoolean=abated)
    del cond["clinicalStatus"]
    assert facts(read(cond)) == [f"Finding PERNICIOUS_ANAEMIA {active} 2019-06-01"]


def test_an_interpretation_beside_a_local_code_is_read():
    hb = observation(
        "hb",
        LOINC_HB,
        6.1,
        "g/dL",
        interpretation=[concept(LOCAL, "CRIT LOW")],
    )
    hb["interpretation"][0]["coding"].append({"system": INTERPRETATION, "code": "LL"})
    (lab,) = read(hb).labs
    assert lab.interpretation == "LL"


# The OIDs some EHRs (and CDA conversions) write for the code systems we read.
OIDS = {
    "LOINC": "urn:oid:2.16.840.1.113883.6.1",
    "SNOMED": "urn:oid:2.16.840.1.113883.6.96",
    "RxNorm": "urn:oid:2.16.840.1.113883.6.88",
    "ICD-10-CM": "urn:oid:2.16.840.1.113883.6.90",
}
BY_OID = {
    "LOINC": (b12(), BASES["Observation"][1]),
    "SNOMED": (pernicious_anaemia(), BASES["Condition"][1]),
    "RxNorm": (med_administration("ma1", INJECTION), BASES["MedicationAdministration"][1]),
    "ICD-10-CM": (
        condition("c1", "D51.0", system=ICD10CM),
        ["Finding PERNICIOUS_ANAEMIA active 2019-06-01"],
    ),
}


@pytest.mark.parametrize("system", list(BY_OID))
def test_a_code_system_written_as_its_oid_is_recognised(system):
    resource, expected = copy.deepcopy(BY_OID[system])
    concept_of = resource.get("code") or resource["medicationCodeableConcept"]
    concept_of["coding"][0]["system"] = OIDS[system]
    record = read(resource)
    assert (facts(record), record.notes) == (expected, ())


# An allergy coded only in SNOMED CT: a cobalamin substance code we hold is read without
# words (clinical/codes.py names where each was checked); any other SNOMED code is read by
# its display or text. The code below stands for any SNOMED code we do not hold.
SCT_UNHELD = "999999999"
SNOMED_ALLERGIES = {
    "cobalamin code alone": (concept(SNOMED, "304111003"), True),
    "cyanocobalamin code alone": (concept(SNOMED, "419382002"), True),
    "hydroxocobalamin code alone": (concept(SNOMED, "409258004"), True),
    "aquacobalamin code alone": (concept(SNOMED, "1217427007"), True),
    "cyanocobalamin code by OID": (concept(OIDS["SNOMED"], "419382002"), True),
    "cyanocobalamin display": (concept(SNOMED, SCT_UNHELD, "Cyanocobalamin"), True),
    "hydroxocobalamin display": (concept(SNOMED, SCT_UNHELD, "Hydroxocobalamin"), True),
    "cobalt display": (concept(SNOMED, SCT_UNHELD, "Cobalt (substance)"), True),
    "cobalamin in text": (concept(SNOMED, SCT_UNHELD, text="Allergy to cobalamin"), True),
    "vitamin B-12 display": (concept(SNOMED, SCT_UNHELD, "Vitamin B-12"), True),
    "negated in text": (concept(SNOMED, SCT_UNHELD, text="No known allergy to cobalt"), False),
    "a code without words": (concept(SNOMED, SCT_UNHELD), False),
    "another substance": (concept(SNOMED, SCT_UNHELD, "Penicillin"), False),
}


@pytest.mark.parametrize(("code", "found"), SNOMED_ALLERGIES.values(), ids=SNOMED_ALLERGIES)
def test_a_snomed_only_allergy_is_read_by_its_code_or_words(code, found):
    record = read(allergy("a1", code))
    expected = ["Finding COBALT_B12_ALLERGY active 2010-01-01"] if found else []
    assert (facts(record), messages(record)) == (expected, [])


def test_a_snomed_cobalamin_code_in_a_reaction_substance_is_an_allergy():
    resource = allergy("a1", {"text": "Drug allergy"})
    resource["reaction"] = [{"substance": concept(SNOMED, "419382002")}]
    record = read(resource)
    assert (facts(record), messages(record)) == (
        ["Finding COBALT_B12_ALLERGY active 2010-01-01"],
        [],
    )


def _local_lab(label: str, *, in_text: bool = True) -> dict:
    code = concept(LOCAL, "L1", None if in_text else label, label if in_text else None)
    return observation("loc", code, 250, "pg/mL")


# A lab coded only locally: one whose label names our analyte is said, never read; one
# naming another test of the same words is left alone, as is one with a LOINC code.
LOCAL_LABS = {
    "Vitamin B12": (_local_lab("Vitamin B12"), True),
    "Serum cobalamin (display)": (_local_lab("Serum cobalamin", in_text=False), True),
    "Vit B-12": (_local_lab("Vit B-12"), True),
    "Methylmalonic acid": (_local_lab("Methylmalonic acid"), True),
    "Homocysteine, total": (_local_lab("Homocysteine, total"), True),
    "Haemoglobin": (_local_lab("Haemoglobin"), True),
    "HGB": (_local_lab("HGB"), True),
    "MCV": (_local_lab("MCV"), True),
    "Serum folate": (_local_lab("Serum folate"), True),
    "Potassium": (_local_lab("Potassium"), True),
    "B12 binding capacity": (_local_lab("B12 binding capacity"), False),
    "Intrinsic factor antibodies": (_local_lab("Intrinsic factor antibody (B12)"), False),
    "HbA1c": (_local_lab("HbA1c"), False),
    "Haemoglobin A1c": (_local_lab("Haemoglobin A1c"), False),
    "MCH": (_local_lab("MCH"), False),
    "Mean cell haemoglobin": (_local_lab("Mean cell haemoglobin"), False),
    "Red cell folate": (_local_lab("Red cell folate"), False),
    "Urine potassium": (_local_lab("Urine potassium"), False),
    "Methylmalonic acid, urine": (_local_lab("Methylmalonic acid, urine"), False),
    "Sodium": (_local_lab("Sodium"), False),
    "Glucose": (_local_lab("Glucose"), False),
}


@pytest.mark.parametrize(("resource", "said"), LOCAL_LABS.values(), ids=LOCAL_LABS)
def test_a_locally_coded_lab_naming_ours_is_said_not_read(resource, said):
    record = read(resource)
    label = resource["code"].get("text") or resource["code"]["coding"][0]["display"]
    note = f"a result labelled '{label}' is coded only locally and was not read; map it to LOINC"
    assert (facts(record), [m for _, m in messages(record)]) == ([], [note] if said else [])


def test_a_lab_with_a_loinc_code_we_do_not_use_is_not_said():
    """Glucose by LOINC, whatever its words: another test, coded as it should be."""
    resource = observation("g", concept(LOINC, LOINC_GLUCOSE, text="Glucose (not B12)"))
    assert (facts(read(resource)), messages(read(resource))) == ([], [])


def test_a_withdrawn_locally_coded_lab_is_not_said():
    assert messages(read({**_local_lab("Vitamin B12"), "status": "entered-in-error"})) == []
