"""Clinical core: results no living patient can have, set aside as unreadable.

Imports only the standard library and ``cds_b12.clinical``. The reader converts a value
to its analyte's unit and keeps it as sent: "75 g/dL" is a well-formed Hb, only an
impossible one (the lab meant 75 g/L, severe anaemia). Whether a number can be a
patient's is a clinical judgement, so the limits are the profile's
(``plausible_limits``, whose default table is here; physiological limits, judgement, not
guideline numbers: no guideline gives them, and they are the same for UK and US) and
the assessment applies them before any band: a result outside them is unreadable
(``Unreadable.IMPLAUSIBLE``), said by R25 and in the data-quality note with the value
as reported, and reaches no rule, as a result the reader could not read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .record import Lab, LabKind, Unreadable, UnreadableResult

if TYPE_CHECKING:  # profiles takes its default from here
    from .profiles import Profile

# Physiological limits, not guideline numbers (judgement): (analyte, lowest, highest) in
# ``LabKind.unit``. Wide enough never to reject a real result, however extreme; outside
# them the number is no living patient's (a unit slip) and is unreadable (below).
PLAUSIBLE_LIMITS: tuple[tuple[LabKind, float, float], ...] = (
    (LabKind.B12, 0, 1_000_000),  # ng/L; assays report to about 2000 (R22: >1000 is raised)
    (LabKind.HOLOTC, 0, 100_000),  # measuring ranges end near 128-256 pmol/L
    (LabKind.MMA, 0, 10_000),  # inborn methylmalonic acidaemia reaches mmol/L
    (LabKind.HCY, 0, 1_000),  # classical homocystinuria: a few hundred umol/L
    (LabKind.HB, 0.5, 30),  # g/dL; catches g/L sent as g/dL (75 for 7.5)
    (LabKind.MCV, 30, 200),  # fL; real extremes about 50-160 (cold agglutinins)
    (LabKind.RETIC, 0, 100),  # a percentage of the red cells
    (LabKind.POTASSIUM, 0.5, 15),  # survivors reported near 1 and 10-14 mmol/L
    (LabKind.FOLATE, 0, 1_000),  # assays report to about 20-25 ng/mL
    (LabKind.FERRITIN, 0, 1_000_000),  # haemophagocytic syndromes pass 100,000 ng/mL
    (LabKind.WBC, 0, 2_000),  # leukaemic hyperleukocytosis: several hundred 10*9/L
    (LabKind.NEUTROPHILS, 0, 2_000),  # at most the white count
    (LabKind.PLATELETS, 0, 10_000),  # thrombocythaemia rarely passes 5,000 10*9/L
    (LabKind.EGFR, 0, 1_000),  # equations give a few hundred at the lowest creatinine
)

_IMPLAUSIBLE = Unreadable.IMPLAUSIBLE
_ANY = (-math.inf, math.inf)
# each limits table by analyte, keyed by the table's identity: hashing the table (an enum's
# hash is a Python call) would cost more than the check on a typical record
_TABLES: dict[int, tuple[tuple, dict[LabKind, tuple[float, float]]]] = {}


def _by_kind(
    limits: tuple[tuple[LabKind, float, float], ...],
) -> dict[LabKind, tuple[float, float]]:
    """The profile's limits by analyte, built once per table rather than per call."""
    hit = _TABLES.get(id(limits))
    if hit is None or hit[0] is not limits:  # the table is kept, so its id is not reused
        by_kind = {kind: (_as_float(low), _as_float(high)) for kind, low, high in limits}
        hit = _TABLES[id(limits)] = (limits, by_kind)
    return hit[1]


def _as_float(limit: float) -> float:
    """An int limit as the float of the same number, when there is one: a float compares
    with a float several times faster than with an int, and to the same answer."""
    return float(limit) if float(limit) == limit else limit


def plausible(lab: Lab, p: Profile) -> bool:
    """Whether the value (or a censored value's bound) lies within the analyte's limits."""
    low, high = _by_kind(p.plausible_limits).get(lab.kind, _ANY)
    return low <= lab.value <= high


def _all_within(
    of: Mapping[LabKind, tuple[Lab, ...]], limits: Mapping[LabKind, tuple[float, float]]
) -> bool:
    """Every value within its kind's limits, checked in a plain loop over each kind's
    results: cheaper than a list of the values for min and max (a long record has
    hundreds), with the limits as floats (``_as_float``)."""
    for kind, results in of.items():
        low, high = limits.get(kind, _ANY)
        for lab in results:
            if not low <= lab.value <= high:
                return False
    return True


def set_aside(
    labs: tuple[Lab, ...], of: Mapping[LabKind, tuple[Lab, ...]], p: Profile
) -> tuple[tuple[Lab, ...], Mapping[LabKind, tuple[Lab, ...]], tuple[UnreadableResult, ...]]:
    """``labs`` and ``of`` (the same by kind) without the implausible results, and those as
    unreadable ones (with the result as read, for the card), in the order given.

    A record with none outside, the usual case, is returned as it came (``_all_within``)."""
    if _all_within(of, _by_kind(p.plausible_limits)):
        return labs, of, ()
    outside = [lab for lab in labs if not plausible(lab, p)]
    kept = tuple(lab for lab in labs if lab not in outside)
    kept_of = {
        kind: left
        for kind, results in of.items()
        if (left := tuple(lab for lab in results if lab not in outside))
    }
    unread = (
        UnreadableResult(lab.kind, lab.resource_id, lab.on, _IMPLAUSIBLE, lab) for lab in outside
    )
    return kept, kept_of, tuple(unread)
