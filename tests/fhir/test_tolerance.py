"""Tolerance of real EHR data, audited as a table across the resource types the reader uses:
a record withdrawn (entered in error, refuted, not done, cancelled) is left out; a field we
do not know changes nothing; a code from another system beside ours is still recognised; a
status, flag or value we cannot trust is said in a note, never used or dropped in silence.

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
    LOINC_B12_MASS,
    LOINC_HB,
    RX_CYANOCOBALAMIN,
    RX_CYANOCOBALAMIN_INJ_1MG_ML,
    RX_CYANOCOBALAMIN_ORAL_1MG,
    RXNORM,
    SCT_GASTRECTOMY,
    SCT_PERNICIOUS_ANAEMIA,
    SNOMED,
    UCUM,
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
LOINC_FOLATE = "2284-8"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
LOINC_POTASSIUM = "2823-3"
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


def _value(rtype_code: str, value_quantity: dict) -> dict:
    obs = observation("x", rtype_code)
    obs["valueQuantity"] = value_quantity
    return obs


# (resource, facts, notes): a value in a unit we know is converted; any other is said
# (R25 for the analytes that decide a card), never used and never dropped unsaid.
VALUES = {
    "B12 in pmol/L": (
        observation("x", "14685-2", 221, "pmol/L"),
        ["Lab B12 299.455 2024-05-01"],
        [],
    ),
    "folate in nmol/L": (
        observation("x", LOINC_FOLATE, 22.66, "nmol/L"),
        ["Lab FOLATE 10 2024-05-01"],
        [],
    ),
    "Hb in g/L": (observation("x", LOINC_HB, 98, "g/L"), ["Lab HB 9.8 2024-05-01"], []),
    "potassium in mEq/L": (
        observation("x", LOINC_POTASSIUM, 3.1, "mEq/L"),
        ["Lab POTASSIUM 3.1 2024-05-01"],
        [],
    ),
    **{
        f"{name} with no unit": (
            _value(code, {"value": 5}),
            [f"Unreadable {kind} NO_UNIT 2024-05-01"],
            [f"value ignored: no unit given for {name}"],
        )
        for name, code, kind in (
            ("vitamin B12", LOINC_B12_MASS, "B12"),
            ("folate", LOINC_FOLATE, "FOLATE"),
            ("Hb", LOINC_HB, "HB"),
            ("potassium", LOINC_POTASSIUM, "POTASSIUM"),
        )
    },
    **{
        f"{name} in {unit}": (
            observation("x", code, 5, unit),
            [f"Unreadable {kind} UNKNOWN_UNIT 2024-05-01"],
            [f"value ignored: unit '{unit}' is not a known unit for {name}"],
        )
        for name, code, kind, unit in (
            ("vitamin B12", LOINC_B12_MASS, "B12", "mg/dL"),
            ("folate", LOINC_FOLATE, "FOLATE", "pmol/L"),
            ("Hb", LOINC_HB, "HB", "%"),
            ("potassium", LOINC_POTASSIUM, "POTASSIUM", "mg/dL"),
        )
    },
    'valueString "<150" with the range\'s unit': (
        b12(None, valueString="<150", referenceRange=[{"low": quantity(200, "pg/mL")}]),
        ["Lab B12 <150 2024-05-01"],
        [],
    ),
    'valueString "> 2000 pg/mL"': (
        b12(None, valueString="> 2000 pg/mL"),
        ["Lab B12 >2000 2024-05-01"],
        [],
    ),
    'valueString "<150" with no unit anywhere': (
        b12(None, valueString="<150"),
        ["Unreadable B12 NO_UNIT 2024-05-01"],
        ["value ignored: no unit given for vitamin B12"],
    ),
    'valueString "1,250 pg/mL" is not read as 1': (
        b12(None, valueString="1,250 pg/mL"),
        ["Unreadable B12 UNKNOWN_UNIT 2024-05-01"],
        ["value ignored: unit ',250 pg/mL' is not a known unit for vitamin B12"],
    ),
    "a unit and a UCUM code that disagree": (
        _value(LOINC_B12_MASS, {"value": 245, "unit": "pg/mL", "system": UCUM, "code": "pmol/L"}),
        ["Unreadable B12 UNITS_DISAGREE 2024-05-01"],
        ["value ignored: unit 'pg/mL' and its code 'pmol/L' disagree for vitamin B12"],
    ),
    "a unit and a UCUM code that are the same unit": (
        _value(LOINC_B12_MASS, {"value": 245, "unit": "ng/L", "system": UCUM, "code": "pg/mL"}),
        ["Lab B12 245 2024-05-01"],
        [],
    ),
    "a unit in words beside its UCUM code": (
        _value(
            LOINC_B12_MASS,
            {"value": 245, "unit": "picograms per mL", "system": UCUM, "code": "pg/mL"},
        ),
        ["Lab B12 245 2024-05-01"],
        [],
    ),
    **{
        f"a negative {name}": (
            observation("x", code, -5, unit),
            [f"Unreadable {kind} NOT_A_NUMBER 2024-05-01"],
            [f"value ignored: a negative value for {name}"],
        )
        for name, code, kind, unit in (
            ("vitamin B12", LOINC_B12_MASS, "B12", "pg/mL"),
            ("Hb", LOINC_HB, "HB", "g/dL"),
            ("potassium", LOINC_POTASSIUM, "POTASSIUM", "mmol/L"),
        )
    },
    'a negative valueString "-150 pg/mL"': (
        b12(None, valueString="-150 pg/mL"),
        ["Unreadable B12 NOT_A_NUMBER 2024-05-01"],
        ["value ignored: a negative value for vitamin B12"],
    ),
    "a B12 of 0": (observation("x", LOINC_B12_MASS, 0, "pg/mL"), ["Lab B12 0 2024-05-01"], []),
    "a comparator not understood": (
        _value(LOINC_B12_MASS, {"value": 200, "comparator": "~", "unit": "pg/mL"}),
        ["Unreadable B12 NOT_A_NUMBER 2024-05-01"],
        ["value ignored: comparator '~' not understood for vitamin B12"],
    ),
    "a comparator written with spaces": (
        _value(LOINC_B12_MASS, {"value": 200, "comparator": " <= ", "unit": "pg/mL"}),
        ["Lab B12 <=200 2024-05-01"],
        [],
    ),
    'valueQuantity.value "245 pg/mL"': (
        _value(LOINC_B12_MASS, {"value": "245 pg/mL", "unit": "pg/mL"}),
        ["Lab B12 245 2024-05-01"],
        [],
    ),
    **{
        f"valueQuantity.value {raw!r} is not read as its first digits": (
            _value(code, {"value": raw, "unit": unit}),
            [f"Unreadable {kind} NOT_A_NUMBER 2024-05-01"],
            [f"value ignored: not a finite number for {name}"],
        )
        for raw, code, kind, name, unit in (
            ("1,250", LOINC_B12_MASS, "B12", "vitamin B12", "pg/mL"),
            ("150-200", LOINC_B12_MASS, "B12", "vitamin B12", "pg/mL"),
            ("7,5", LOINC_HB, "HB", "Hb", "g/dL"),
            ("3.1 (repeat 4.9)", LOINC_POTASSIUM, "POTASSIUM", "potassium", "mmol/L"),
        )
    },
    "valueInteger with the range's unit": (
        b12(None, valueInteger=150, referenceRange=[{"low": quantity(200, "pg/mL")}]),
        ["Lab B12 150 2024-05-01"],
        [],
    ),
    "valueInteger with no unit": (
        b12(None, valueInteger=150),
        ["Unreadable B12 NO_UNIT 2024-05-01"],
        ["value ignored: no unit given for vitamin B12"],
    ),
    "dataAbsentReason": (
        b12(None, dataAbsentReason={"coding": [{"code": "error"}], "text": "Haemolysed"}),
        ["Unreadable B12 NO_VALUE 2024-05-01"],
        ["skipped: no result value (Haemolysed)"],
    ),
    "Hb dataAbsentReason": (
        observation("x", LOINC_HB, dataAbsentReason={"coding": [{"code": "not-performed"}]}),
        ["Unreadable HB NO_VALUE 2024-05-01"],
        ["skipped: no result value (not-performed)"],
    ),
    "dataAbsentReason with a display": (
        b12(None, dataAbsentReason=concept(DATA_ABSENT, "error", "Error")),
        ["Unreadable B12 NO_VALUE 2024-05-01"],
        ["skipped: no result value (Error)"],
    ),
}


@pytest.mark.parametrize(("resource", "kept", "notes"), VALUES.values(), ids=VALUES)
def test_a_value_is_converted_or_said(resource, kept, notes):
    record = read(resource)
    assert (facts(record), [message for _, message in messages(record)]) == (kept, notes)


def _dated(resource: dict, drop: str, **dates) -> dict:
    del resource[drop]
    resource.update(dates)
    return resource


# (resource, facts, notes): the date each type falls back to, and a note when it is not
# the date the fact happened or there is none.
DATES = {
    "Observation effectivePeriod start": (
        _dated(b12(), "effectiveDateTime", effectivePeriod={"start": "2024-04-02"}),
        ["Lab B12 300 2024-04-02"],
        [],
    ),
    "Observation effectivePeriod end only": (
        _dated(b12(), "effectiveDateTime", effectivePeriod={"end": "2024-04-03"}),
        ["Lab B12 300 2024-04-03"],
        [],
    ),
    "Observation effectiveInstant": (
        _dated(b12(), "effectiveDateTime", effectiveInstant="2024-04-04T08:00:00Z"),
        ["Lab B12 300 2024-04-04"],
        [],
    ),
    "Observation issued": (
        _dated(b12(), "effectiveDateTime", issued="2024-04-05T08:00:00Z"),
        ["Lab B12 300 2024-04-05"],
        ["no collection date; used the report date"],
    ),
    "Observation unreadable date, issued": (
        b12(effectiveDateTime="last Tuesday", issued="2024-04-05T08:00:00Z"),
        ["Lab B12 300 2024-04-05"],
        ["no collection date; used the report date"],
    ),
    "Observation no date": (_dated(b12(), "effectiveDateTime"), [], ["skipped: no date"]),
    "MedicationAdministration effectivePeriod start": (
        _dated(
            med_administration("ma1", INJECTION),
            "effectiveDateTime",
            effectivePeriod={"start": "2024-04-06T10:00:00Z", "end": "2024-04-06T10:05:00Z"},
        ),
        ["Medication B12_INJECTION completed 2024-04-06"],
        [],
    ),
    "MedicationAdministration effectivePeriod end only": (
        _dated(
            med_administration("ma1", INJECTION),
            "effectiveDateTime",
            effectivePeriod={"end": "2024-04-07"},
        ),
        ["Medication B12_INJECTION completed 2024-04-07"],
        [],
    ),
    "MedicationAdministration no date": (
        _dated(med_administration("ma1", INJECTION), "effectiveDateTime"),
        ["Medication B12_INJECTION completed None"],
        ["no date given; not counted as a dose"],
    ),
    "MedicationAdministration unreadable date": (
        med_administration("ma1", INJECTION) | {"effectiveDateTime": "last week"},
        ["Medication B12_INJECTION completed None"],
        ["date not understood; not counted as a dose"],
    ),
    "MedicationStatement dateAsserted": (
        _dated(med_statement("ms1", ORAL), "effectivePeriod"),
        ["Medication B12_ORAL_HIGH active 2024-02-01"],
        [],
    ),
}


@pytest.mark.parametrize(("resource", "kept", "notes"), DATES.values(), ids=DATES)
def test_the_date_falls_back_and_is_said(resource, kept, notes):
    record = read(resource)
    assert (facts(record), [message for _, message in messages(record)]) == (kept, notes)


@pytest.mark.parametrize(("value", "mg"), [(1000, 1.0), ("1000", 1.0), ("1,000", None)])
def test_a_dose_is_read_only_when_its_number_is_whole(value, mg):
    """ "1,000" micrograms is not 1 microgram: a dose we cannot read is left unknown."""
    order = med_administration(
        "ma1", INJECTION, dose={"value": value, "unit": "ug", "system": UCUM, "code": "ug"}
    )
    (med,) = read(order).medications
    assert med.dose_mg == mg


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
