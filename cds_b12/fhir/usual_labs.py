"""FHIR layer: the lab result in the shape EHRs send most, read in few steps, and a
result's interpretation code. Imports cds_b12.clinical.

Most Observations we read have one shape: a ``valueQuantity`` of a plain JSON number in
a UCUM code (its unit in words that same code), an ``effectiveDateTime``, and no
reference range or one without qualifiers whose limits are said in the same unit.
``labs`` reads every shape a lab may send, at some 25 Python calls a result;
``usual_lab`` reads that one shape in a few lookups, and gives None for any other, which
``labs`` then reads (and notes) in full. Both read the usual shape alike
(tests/fhir/test_usual_labs.py).
"""

from __future__ import annotations

from operator import itemgetter

from cds_b12.clinical.codes import UCUM
from cds_b12.clinical.record import Lab, LabKind

from .accessors import dicts, first_dict, string, text
from .build import make_lab, make_quantity
from .dates import parse_date
from .ranges import QUALIFIERS
from .units import FACTORS, normalise_unit

_UNIT = itemgetter("code", "system", "unit")  # a Quantity's unit: code, system, in words
_INF = float("inf")
_NO_RANGE: dict = {}  # no referenceRange: no limits


class _Unusual(Exception):
    """Not the usual shape: the general reading reads the result."""


def usual_lab(resource: dict, kind: LabKind, name: str) -> Lab | None:
    """The result as ``labs`` reads it, if it has the usual shape (its status already
    read); None for any other shape."""
    try:
        quantity = resource["valueQuantity"]
        said = _UNIT(quantity)
        unit = said[0]
        if (
            said != (unit, UCUM, unit)
            or unit != unit.strip()
            or "comparator" in quantity
            or "dataAbsentReason" in resource
        ):
            return None
        value = quantity["value"]  # a JSON number as accessors.number reads one, in line
        if value.__class__ is int:
            value = float(value)  # OverflowError: read in general
        elif value.__class__ is not float:
            return None  # a numeric string, which may carry a comparator, or junk
        on = parse_date(resource["effectiveDateTime"])
        factor = FACTORS[kind].get(normalise_unit(unit))  # units.conversion, in line
        given = resource.get("referenceRange")
        if given is None:
            only = _NO_RANGE
        else:  # one range, without a qualifier: it applies as it is
            if given.__class__ is not list or len(given) != 1:
                return None
            only = given[0]
            if only.__class__ is not dict:
                return None
            if not QUALIFIERS.isdisjoint(only):  # a set test, at C speed
                return None
        # not finite (nan fails both tests) or negative: the general reading says so
        if not 0 <= value < _INF or on is None or factor is None:
            return None
        try:  # the usual interpretation, one coding, without the general reading's calls
            (coding,) = resource["interpretation"][0]["coding"]
            said_as = text(coding["code"])
        except (KeyError, IndexError, TypeError, ValueError):  # a lone object, other codings
            said_as = interpretation(resource.get("interpretation"))
        num, den = factor  # each value as units.scaled takes it: multiplied first
        low = _limit(only.get("low"), said, num, den)
        high = _limit(only.get("high"), said, num, den)
    except (_Unusual, KeyError, TypeError, AttributeError, OverflowError, ValueError):
        return None
    return make_lab(
        kind,
        value * num / den,
        on,
        name,
        low,
        high,
        said_as,  # interpretation
        make_quantity(value, unit),
        None,  # comparator
    )


def _limit(limit: object, said: tuple, num: float, den: float) -> float | None:
    """A reference limit said in the result's unit, in ``kind.unit``, as ``labs`` reads
    one (None if its number is not finite); raises ``_Unusual`` for a limit said otherwise
    or whose value is not a JSON number (a numeric string may carry a comparator). The
    number is read in line, as in ``usual_lab``: a call less a limit."""
    if limit is None:
        return None
    if limit.__class__ is not dict or _UNIT(limit) != said:
        raise _Unusual
    value = limit.get("value")
    if value.__class__ is float:
        return value * num / den if -_INF < value < _INF else None
    if value.__class__ is not int:
        raise _Unusual
    try:
        return float(value) * num / den
    except OverflowError:
        return None


# HL7's interpretation codes (R4, and the v2 table STU3 used), which the bands read.
_INTERPRETATION_SYSTEMS = frozenset(
    {
        "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
        "http://hl7.org/fhir/v2/0078",
    }
)


def interpretation(given: object) -> str | None:
    """The code of the first interpretation (``"L"``, ``"H"``): its HL7 coding wherever
    it stands (an EHR's own may come first), else its first coding."""
    found = dicts(first_dict(given).get("coding"))
    hl7 = next((c for c in found if string(c, "system") in _INTERPRETATION_SYSTEMS), None)
    return text((hl7 or first_dict(found)).get("code"))
