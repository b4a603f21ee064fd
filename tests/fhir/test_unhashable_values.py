"""A list or an object where FHIR wants a code (``"status": []``) is read as any code we
do not know: each place a sent value is looked up among the values we know gives the
notes an unknown string there gives, never "skipped: unreadable resource".
"""

import copy

import pytest

from .read_support import (
    LOINC_B12_MASS,
    LOINC_GLUCOSE,
    RX_CYANOCOBALAMIN,
    RX_CYANOCOBALAMIN_INJ_1MG_ML,
    RXNORM,
    SCT_PERNICIOUS_ANAEMIA,
    allergy,
    concept,
    condition,
    med_request,
    observation,
    read,
    rx,
)

LOCAL = "http://lab.example.org/codes"

# (resource, path of the field): each field a reader looks up among the values it knows
SITES = {
    "Observation of a code we do not read: status": (
        observation("glu", LOINC_GLUCOSE, 5.4, "mmol/L"),
        ("status",),
    ),
    "Observation coded only locally: status": (
        observation("loc", concept(LOCAL, "L1", text="Vitamin B12"), 250, "pg/mL"),
        ("status",),
    ),
    "Observation: code": (
        observation("b12", LOINC_B12_MASS, 250, "pg/mL"),
        ("code", "coding", 0, "code"),
    ),
    "Condition: clinicalStatus": (
        condition("pa", SCT_PERNICIOUS_ANAEMIA),
        ("clinicalStatus", "coding", 0, "code"),
    ),
    "Condition: verificationStatus": (
        condition("pa", SCT_PERNICIOUS_ANAEMIA, verification="confirmed"),
        ("verificationStatus", "coding", 0, "code"),
    ),
    "AllergyIntolerance: clinicalStatus": (
        allergy("al", concept(RXNORM, RX_CYANOCOBALAMIN)),
        ("clinicalStatus", "coding", 0, "code"),
    ),
    "MedicationRequest: medication code": (
        med_request("mr", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML)),
        ("medicationCodeableConcept", "coding", 0, "code"),
    ),
}


def _with(resource: dict, path: tuple, value: object) -> dict:
    changed = copy.deepcopy(resource)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


@pytest.mark.parametrize("value", [[], {}], ids=["list", "object"])
@pytest.mark.parametrize(("resource", "path"), SITES.values(), ids=SITES)
def test_an_unhashable_value_reads_as_an_unknown_one(resource, path, value):
    unknown = read(_with(resource, path, "bogus")).notes
    assert read(_with(resource, path, value)).notes == unknown
