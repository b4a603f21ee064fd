"""The blood count (white cells, neutrophils, platelets) is read with its unit (R7, S9).

Codes and units are literals, as an EHR sends them.
"""

from __future__ import annotations

import pytest

from cds_b12.clinical.record import LabKind
from cds_b12.fhir.read import read_record

from .read_support import observation, quantity


def count(code: str, value: float, unit: str, *, ucum: bool = True, low=None) -> dict:
    """A count as labs send it: UCUM-coded, or only a printed unit (``ucum=False``)."""
    extra = {"valueQuantity": quantity(value, unit) if ucum else {"value": value, "unit": unit}}
    if low is not None:
        extra["referenceRange"] = [{"low": {"value": low, "unit": unit}}]
    return observation(f"obs-{code}", code, **extra)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("6690-2", LabKind.WBC),
        ("26464-8", LabKind.WBC),
        ("751-8", LabKind.NEUTROPHILS),
        ("26499-4", LabKind.NEUTROPHILS),
        ("777-3", LabKind.PLATELETS),
        ("26515-7", LabKind.PLATELETS),
    ],
)
def test_each_count_is_read_by_its_loinc_code(code, kind):
    (lab,) = read_record([count(code, 2.3, "10*3/uL", low=4.0)]).labs
    assert (lab.kind, lab.value, lab.ref_low) == (kind, 2.3, 4.0)


@pytest.mark.parametrize(
    ("unit", "ucum", "value", "expected"),
    [
        ("10*9/L", True, 62, 62),
        ("10^9/L", False, 62, 62),
        ("10³/µL", False, 62, 62),
        ("K/uL", False, 62, 62),
        ("x10E3/uL", False, 62, 62),
        ("Thousand/uL", False, 62, 62),
        ("/uL", True, 62000, 62),
        ("cells/uL", False, 900, 0.9),
    ],
)
def test_count_units_convert_to_10_9_per_litre(unit, ucum, value, expected):
    (lab,) = read_record([count("777-3", value, unit, ucum=ucum)]).labs
    assert lab.value == pytest.approx(expected)


def test_a_count_in_an_unknown_unit_is_noted_not_guessed():
    record = read_record([count("777-3", 62, "g/L")])
    assert record.labs == ()
    assert [n.message for n in record.notes] == [
        "value ignored: unit 'g/L' is not a known unit for platelet count"
    ]
