"""FHIR layer: ``Dosage.timing`` → ``Timing``. Imports cds_b12.clinical.

``timing.repeat`` is kept as written (§3.5: 3 per 1 wk, 1 per 2 d, 2–3 mo); a
timing sent only as an HL7 GTS abbreviation is expanded to the same shape.
"""

from __future__ import annotations

from cds_b12.clinical.record import Timing

from .accessors import as_dict, dicts, dig, number, string
from .build import make_timing

# HL7 v3 GTSAbbreviation: code -> (frequency, period, periodUnit)
_GTS = {
    "QD": (1, 1.0, "d"),
    "BID": (2, 1.0, "d"),
    "TID": (3, 1.0, "d"),
    "QID": (4, 1.0, "d"),
    "QOD": (1, 2.0, "d"),
    "WK": (1, 1.0, "wk"),
    "MO": (1, 1.0, "mo"),
    "QM": (1, 1.0, "mo"),
}


def read_timing(timing: object) -> Timing | None:
    """The schedule of a FHIR Timing, or None when it states no period."""
    repeat = as_dict(timing.get("repeat")) if isinstance(timing, dict) else {}
    period = number(repeat.get("period"))
    if period is not None:
        return make_timing(
            frequency=_frequency(repeat.get("frequency")),
            period=period,
            period_max=number(repeat.get("periodMax")),
            period_unit=string(repeat, "periodUnit"),
            bounded=_bounded(repeat),
        )
    for coding in dicts(dig(timing, "code", "coding")):
        gts = _GTS.get((string(coding, "code") or "").upper())
        if gts is not None:
            return make_timing(frequency=gts[0], period=gts[1], period_unit=gts[2])
    return None


def _frequency(value: object) -> int:
    """``repeat.frequency``; FHIR's default of 1 when absent or not a positive whole number."""
    frequency = number(value)
    if frequency is None or frequency < 1 or not frequency.is_integer():
        return 1
    return int(frequency)


def _bounded(repeat: dict) -> bool:
    """Whether ``repeat`` says when the doses stop (a course, not an open-ended schedule)."""
    return (
        number(repeat.get("count")) is not None
        or bool(repeat.get("boundsDuration") or repeat.get("boundsRange"))
        or bool(as_dict(repeat.get("boundsPeriod")).get("end"))
    )
