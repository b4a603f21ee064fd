"""Unit normalisation and conversion to canonical units (b12-clinical.md §2.1, §3.5)."""

import pytest

from cds_b12.clinical.record import LabKind
from cds_b12.fhir.units import mass_mg, normalise_unit, quantity_unit, to_canonical

UCUM = "http://unitsofmeasure.org"


@pytest.mark.parametrize(
    ("pmol_l", "ng_l"),
    [(133, 180.2), (258, 349.6)],  # NICE band edges: 180 ng/L ~ 133 pmol/L, 350 ng/L ~ 258
)
def test_b12_pmol_band_edges(pmol_l, ng_l):
    assert to_canonical(LabKind.B12, pmol_l, "pmol/L") == pytest.approx(ng_l, abs=0.05)


@pytest.mark.parametrize("unit", ["pg/mL", "ng/L", "PG/ML", " pg/ml "])
def test_b12_mass_units_are_identical(unit):
    assert to_canonical(LabKind.B12, 180, unit) == 180


def test_b12_ng_ml():
    assert to_canonical(LabKind.B12, 0.3, "ng/mL") == pytest.approx(300)


@pytest.mark.parametrize(
    ("value", "unit", "umol_l"),
    [(400, "nmol/L", 0.4), (0.4, "umol/L", 0.4), (0.4, "µmol/L", 0.4), (0.4, "nmol/mL", 0.4)],
)
def test_mma(value, unit, umol_l):
    assert to_canonical(LabKind.MMA, value, unit) == pytest.approx(umol_l)


@pytest.mark.parametrize(
    ("value", "unit", "g_dl"), [(120, "g/L", 12.0), (12, "g/dL", 12.0), (7.45, "mmol/L", 12.0)]
)
def test_haemoglobin(value, unit, g_dl):
    assert to_canonical(LabKind.HB, value, unit) == pytest.approx(g_dl, abs=0.01)


def test_potassium_meq_only_for_potassium():
    assert to_canonical(LabKind.POTASSIUM, 3.2, "mEq/L") == 3.2
    assert to_canonical(LabKind.B12, 3.2, "mEq/L") is None


@pytest.mark.parametrize(
    ("kind", "value", "unit", "expected"),
    [
        (LabKind.HOLOTC, 35, "pmol/L", 35),
        (LabKind.HCY, 15, "umol/L", 15),
        (LabKind.HCY, 15, "nmol/mL", 15),
        (LabKind.MCV, 104, "fl", 104),
        (LabKind.MCV, 104, "μm3", 104),
        (LabKind.RETIC, 1.5, "%", 1.5),
        (LabKind.FOLATE, 4.0, "ug/L", 4.0),
        (LabKind.FOLATE, 9.064, "nmol/L", 4.0),
        (LabKind.FERRITIN, 30, "mcg/L", 30),
    ],
)
def test_other_analytes(kind, value, unit, expected):
    assert to_canonical(kind, value, unit) == pytest.approx(expected)


@pytest.mark.parametrize("unit", [None, "mg/dL", "", "pmol", "IU/L"])
def test_unknown_or_missing_unit_is_never_guessed(unit):
    assert to_canonical(LabKind.B12, 245, unit) is None


@pytest.mark.parametrize(
    ("raw", "key"),
    [("µg/L", "ug/l"), ("μg/L", "ug/l"), ("mcg", "ug"), ("fL", "fl"), ("gm/dL", "g/dl")],
)
def test_normalise_unit(raw, key):
    assert normalise_unit(raw) == key


def test_quantity_unit_prefers_ucum_code():
    assert quantity_unit({"value": 1, "unit": "picogram/mL", "system": UCUM, "code": "pg/mL"}) == (
        "pg/mL"
    )
    assert quantity_unit(
        {"value": 1, "unit": "pg/mL", "system": "http://local", "code": "PGML"}
    ) == ("pg/mL")
    assert quantity_unit({"value": 1, "code": "pg/mL"}) == "pg/mL"
    assert quantity_unit({"value": 1}) is None


@pytest.mark.parametrize(
    ("value", "unit", "mg"),
    [(1000, "ug", 1.0), (1000, "mcg", 1.0), (1000, "µg", 1.0), (1, "mg", 1.0), (5, "g", 5000.0)],
)
def test_mass_mg(value, unit, mg):
    assert mass_mg(value, unit) == pytest.approx(mg)


@pytest.mark.parametrize("unit", [None, "mL", "tablet"])
def test_mass_mg_other_units(unit):
    assert mass_mg(1, unit) is None
