"""FHIR layer: unit normalisation and conversion to canonical units. Imports cds_b12.clinical.

Each analyte has an explicit table of the units labs really send (b12-clinical.md
§2.1, §3.1, §3.5). A unit that is not in the table is never guessed: a wrong
factor would turn a deficient B12 into a normal one.
"""

from __future__ import annotations

from functools import lru_cache

from cds_b12.clinical.codes import UCUM
from cds_b12.clinical.record import LabKind

# Spellings EHRs use for the same unit, after lower-casing (§3.5: UCUM writes "ug", not "mcg").
_SPELLINGS = {
    "mcg": "ug",
    "mcmol": "umol",
    "µ": "u",
    "μ": "u",
    "³": "3",
    "^3": "3",
    "²": "2",
    " ": "",
}
_ALIASES = {"gm/dl": "g/dl", "gm/l": "g/l", "percent": "%"}

# Blood counts in 10*9/L: UCUM 10*3/uL is the same number; "10^3/uL" folds to "103/ul";
# cells per uL (or mm3) are a thousand times larger. "K/uL" is the common US report spelling.
_CELL_COUNTS = {
    "10*9/l": (1, 1),
    "10^9/l": (1, 1),
    "x10*9/l": (1, 1),
    "x10^9/l": (1, 1),
    "10*3/ul": (1, 1),
    "103/ul": (1, 1),
    "x103/ul": (1, 1),
    "10+3/ul": (1, 1),
    "10e3/ul": (1, 1),
    "x10e3/ul": (1, 1),
    "10e9/l": (1, 1),
    "x10e9/l": (1, 1),
    "10*3/mm3": (1, 1),
    "103/mm3": (1, 1),
    "k/ul": (1, 1),
    "k/mm3": (1, 1),
    "thou/ul": (1, 1),
    "thousand/ul": (1, 1),
    "/nl": (1, 1),
    "/ul": (1, 1000),
    "/mm3": (1, 1000),
    "cells/ul": (1, 1000),
}

# Canonical value = value * numerator / denominator, keyed by normalised unit.
FACTORS: dict[LabKind, dict[str, tuple[float, float]]] = {
    # §2.1: 1 pg/mL = 1 ng/L; pmol/L × 1.355 = pg/mL (MW 1355.4)
    LabKind.B12: {"pg/ml": (1, 1), "ng/l": (1, 1), "pmol/l": (1.355, 1), "ng/ml": (1000, 1)},
    LabKind.HOLOTC: {"pmol/l": (1, 1)},
    # §2.1: 1 umol/L = 1000 nmol/L = 1 nmol/mL
    LabKind.MMA: {"umol/l": (1, 1), "nmol/l": (1, 1000), "nmol/ml": (1, 1), "mmol/l": (1000, 1)},
    LabKind.HCY: {"umol/l": (1, 1), "nmol/ml": (1, 1)},
    # haemoglobin tetramer basis: 1 mmol/L = 1.611 g/dL
    LabKind.HB: {"g/dl": (1, 1), "g/l": (1, 10), "mmol/l": (1.611, 1)},
    LabKind.MCV: {"fl": (1, 1), "um3": (1, 1)},
    LabKind.RETIC: {"%": (1, 1)},
    # monovalent ion: 1 mEq/L = 1 mmol/L, for potassium only
    LabKind.POTASSIUM: {"mmol/l": (1, 1), "meq/l": (1, 1)},
    # folic acid MW 441.4: 1 ng/mL = 2.266 nmol/L
    LabKind.FOLATE: {"ng/ml": (1, 1), "ug/l": (1, 1), "nmol/l": (1, 2.266)},
    LabKind.FERRITIN: {"ng/ml": (1, 1), "ug/l": (1, 1)},
    # per 1.73 m2 body surface, however it is written; a bare mL/min is not normalised
    LabKind.EGFR: {
        "ml/min/{1.73_m2}": (1, 1),
        "ml/min/1.73m2": (1, 1),
        "ml/min/1.73m^2": (1, 1),
        "ml/min/{1.73m2}": (1, 1),
    },
    LabKind.WBC: _CELL_COUNTS,
    LabKind.NEUTROPHILS: _CELL_COUNTS,
    LabKind.PLATELETS: _CELL_COUNTS,
}

_MASS_MG = {"ug": (1, 1000), "mg": (1, 1), "g": (1000, 1)}


@lru_cache(maxsize=256)
def normalise_unit(unit: str) -> str:
    """Fold case and the common spellings of one unit into one key (``"µg/L"`` → ``"ug/l"``)."""
    key = unit.strip().lower()
    for spelling, replacement in _SPELLINGS.items():
        key = key.replace(spelling, replacement)
    return _ALIASES.get(key, key)


def quantity_unit(quantity: object) -> str | None:
    """The unit of a Quantity as sent: the UCUM ``code`` when coded in UCUM, else ``unit``."""
    if not isinstance(quantity, dict):
        return None
    code = quantity.get("code")
    code = (code.strip() or None) if isinstance(code, str) else None
    if code:
        system = quantity.get("system")
        if system == UCUM or (isinstance(system, str) and system.strip().rstrip("/") == UCUM):
            return code
    unit = quantity.get("unit")
    return ((unit.strip() or None) if isinstance(unit, str) else None) or code


def to_canonical(kind: LabKind, value: float, unit: str | None) -> float | None:
    """``value`` in ``kind.unit``, or None when the unit is missing or not known for ``kind``."""
    factor = None if unit is None else conversion(kind, unit)
    return None if factor is None else scaled(value, factor)


def conversion(kind: LabKind, unit: str) -> tuple[float, float] | None:
    """``(numerator, denominator)`` taking ``unit`` to ``kind.unit``; None if not known.

    A result and its reference range usually share a unit: the reader looks it up once.
    """
    return FACTORS[kind].get(normalise_unit(unit))


def scaled(value: float, factor: tuple[float, float]) -> float:
    """``value`` taken by a ``conversion`` factor: multiplied first, the same float everywhere."""
    return value * factor[0] / factor[1]


def mass_mg(value: float, unit: str | None) -> float | None:
    """A dose in mg from ug/mcg/µg, mg or g; None for any other unit."""
    factor = _MASS_MG.get(normalise_unit(unit)) if unit else None
    return None if factor is None else value * factor[0] / factor[1]
