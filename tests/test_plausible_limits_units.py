"""The plausibility limits (clinical/plausible.py) reject only what no living patient can
have: a real severe value, in the units a UK or a US lab sends it in, is read and used.

The reference gives no plausibility limits (they are judgement, not guideline numbers);
it does give the severe values a rule must see: "Severity (both sexes): ... severe <8.0
g/dL" (b12-clinical.md §2.6), "Deficient ... <180 ng/L (<133 pmol/L)" (§2.2), "1 pg/mL =
1 ng/L = 0.738 pmol/L" (§2.1), "classical homocystinuria" and MMA in "umol/L (UK/EU) or
nmol/L (US)" (§2.4), "Hypokalaemia ... in severe megaloblastic anemia" (§5 S6), "MCV:
macrocytosis >100 fL" (§2.6). Each row goes through the FHIR reader (unit conversion) and
the assessment (the limits), as a real response does."""

from __future__ import annotations

from datetime import date

import pytest

from cds_b12.clinical.assess import assess
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.record import LabKind, Unreadable
from cds_b12.fhir.read import read_record

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
AS_OF = date(2025, 12, 10)
CODE = {
    LabKind.HB: "718-7",
    LabKind.B12: "2132-9",
    LabKind.POTASSIUM: "2823-3",
    LabKind.MCV: "787-2",
    LabKind.HCY: "13965-9",
    LabKind.MMA: "13964-2",
}


def observation(kind: LabKind, value: float, unit: str, comparator: str | None = None):
    quantity = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    if comparator:
        quantity["comparator"] = comparator
    return {
        "resourceType": "Observation",
        "id": "x",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": CODE[kind]}]},
        "effectiveDateTime": "2025-12-08",
        "valueQuantity": quantity,
    }


def assessed(profile, *args):
    bundle = {"resourceType": "Bundle", "entry": [{"resource": observation(*args)}]}
    return assess(read_record(bundle), profile, AS_OF)


PROFILES = pytest.mark.parametrize("profile", [UK, US], ids=["UK", "US"])

# (analyte, value, unit as sent, comparator, canonical value used)
REAL_SEVERE = [
    (LabKind.HB, 30, "g/L", None, 3.0),  # UK units: very severe anaemia
    (LabKind.HB, 3.0, "g/dL", None, 3.0),  # US units: the same Hb
    (LabKind.HB, 6, "g/L", None, 0.6),  # lowest reported survivals, below 1 g/dL
    (LabKind.HB, 1.9, "mmol/L", None, 1.9 * 1.611),
    (LabKind.HB, 240, "g/L", None, 24.0),  # polycythaemia
    (LabKind.B12, 50, "ng/L", "<", 50),  # below the assay's floor
    (LabKind.B12, 37, "pmol/L", "<", 37 * 1.355),
    (LabKind.B12, 30, "pg/mL", None, 30),
    (LabKind.B12, 80_000, "pg/mL", None, 80_000),  # days after a 1 mg injection
    (LabKind.B12, 60_000, "pmol/L", None, 60_000 * 1.355),
    (LabKind.B12, 2000, "pg/mL", ">", 2000),
    (LabKind.POTASSIUM, 1.8, "mmol/L", None, 1.8),
    (LabKind.POTASSIUM, 1.8, "meq/L", None, 1.8),
    (LabKind.POTASSIUM, 0.9, "mmol/L", None, 0.9),
    (LabKind.POTASSIUM, 12, "mmol/L", None, 12),
    (LabKind.MCV, 130, "fL", None, 130),
    (LabKind.MCV, 160, "fL", None, 160),  # cold agglutinins
    (LabKind.MCV, 50, "fL", None, 50),
    (LabKind.HCY, 200, "umol/L", None, 200),
    (LabKind.HCY, 450, "umol/L", None, 450),  # classical homocystinuria
    (LabKind.MMA, 150, "umol/L", None, 150),
    (LabKind.MMA, 150_000, "nmol/L", None, 150),  # methylmalonic acidaemia, US units
]


@PROFILES
@pytest.mark.parametrize(("kind", "value", "unit", "comparator", "used"), REAL_SEVERE)
def test_a_real_severe_value_is_read_and_used_in_either_units(
    profile, kind, value, unit, comparator, used
):
    a = assessed(profile, kind, value, unit, comparator)
    assert a.unreadable == ()
    assert [lab.value for lab in a.labs] == [pytest.approx(used)]


# The unit slips the limits exist for, just past each edge, in both units.
IMPOSSIBLE = [
    (LabKind.HB, 75, "g/dL"),  # 75 g/L sent as g/dL
    (LabKind.HB, 31, "g/dL"),
    (LabKind.HB, 310, "g/L"),
    (LabKind.HB, 4, "g/L"),  # 0.4 g/dL
    (LabKind.POTASSIUM, 0.4, "mmol/L"),
    (LabKind.POTASSIUM, 16, "meq/L"),
    (LabKind.MCV, 29, "fL"),
    (LabKind.MCV, 201, "fL"),
    (LabKind.B12, 1_000_001, "pg/mL"),
    (LabKind.B12, 740_000, "pmol/L"),  # 1,002,700 ng/L
    (LabKind.HCY, 1001, "umol/L"),
    (LabKind.MMA, 10_000_001, "nmol/L"),
]


@PROFILES
@pytest.mark.parametrize(("kind", "value", "unit"), IMPOSSIBLE)
def test_a_value_past_the_limits_is_unreadable_in_either_units(profile, kind, value, unit):
    a = assessed(profile, kind, value, unit)
    assert a.labs == ()
    assert [u.reason for u in a.unreadable] == [Unreadable.IMPLAUSIBLE]
