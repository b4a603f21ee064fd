"""Builders for the read_record tests: FHIR JSON as an EHR sends it, one builder per
resource type, and the code systems and codes they use.

Codes are written here as literals, never taken from cds_b12.clinical.codes, so a
wrong code set cannot pass its own test. A plain module (not conftest) so the
``test_read_*`` modules import what they use.
"""

from cds_b12.fhir.read import read_record

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
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

LOINC_B12_MASS = "2132-9"
LOINC_B12_MOLES = "14685-2"
LOINC_MMA = "13964-2"
LOINC_HB = "718-7"
LOINC_FOLATE = "2284-8"
LOINC_POTASSIUM = "2823-3"
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
        "code": code if isinstance(code, dict) else concept(system, code),
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


def procedure(pid, code, status="completed", display=None):
    return {
        "resourceType": "Procedure",
        "id": pid,
        "status": status,
        "code": concept(SNOMED, code, display),
        "subject": SUBJECT,
        "performedDateTime": "2015-09-10",
    }


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
