"""FHIR layer: an order or a dose given in the shape EHRs send most, read in few steps.
Imports cds_b12.clinical.

Most MedicationRequests and MedicationAdministrations we use have one shape: one dosage
with a UCUM dose quantity of a plain JSON number, a route whose first coding is a code
we know sent clean, an ``authoredOn`` or an ``effectiveDateTime``, and for an order a
plain ``timing.repeat`` (frequency, period and its unit) and no validity period.
``medications`` reads every shape, at some 40 lookups and 20 Python calls a resource;
``usual_medication`` reads that one shape in a few lookups, and gives None for any other,
or for one that needs a note, which ``medications`` then reads (and notes) in full. Both
read the usual shape alike (tests/fhir/test_usual_meds.py).
"""

from __future__ import annotations

from cds_b12.clinical.codes import UCUM
from cds_b12.clinical.record import ADMINISTRATION, REQUEST, Medication, MedSource, Timing

from .build import make_medication, make_quantity, make_timing
from .dates import parse_date
from .products import Match, dose_in_mg, stated_form
from .routes import usual_route

_INF = float("inf")
_EXACT = 2**53  # every whole number up to it is a float: accessors.number reads it as it is
# a repeat with any other element (periodMax, count, bounds...) is read by read_timing
_PLAIN_REPEAT = frozenset({"frequency", "period", "periodUnit"})


class _Unusual(Exception):
    """Not the usual shape: the general reading reads the resource."""


def usual_medication(
    resource: dict, source: MedSource, match: Match, name: str, status: str
) -> Medication | None:
    """The medication as ``medications.read_medication`` reads it (its product, status
    and not-given flags read already), if the resource has the usual shape; None for
    any other shape, a statement, or one the general reading would note."""
    try:
        if source is ADMINISTRATION:
            on = parse_date(resource["effectiveDateTime"])
            if on is None:  # the general reading tries effectivePeriod, then notes
                return None
            dosage = resource["dosage"]
            if dosage.__class__ is not dict:
                return None
            quantity = dosage["dose"]
            intent = timing = None
        elif source is REQUEST:
            if "dispenseRequest" in resource:  # a validity period may date the order
                return None
            on = parse_date(resource.get("authoredOn"))  # no note when there is none
            intent = resource["intent"]
            if intent.__class__ is not str or not intent or intent.strip() != intent:
                return None
            dosage = resource["dosageInstruction"][0]
            quantity = dosage["doseAndRate"][0]["doseQuantity"]
            timing = _timing(dosage["timing"]["repeat"])
        else:
            return None
        if quantity.__class__ is not dict or quantity["system"] != UCUM:
            return None
        unit = quantity["code"]  # quantity_unit: the UCUM code, when sent clean
        if unit.__class__ is not str or not unit or unit.strip() != unit:
            return None
        dose = _finite(quantity["value"])
        route = usual_route(dosage["route"])
        if route is None:
            return None
        dose_mg = dose_in_mg(dose, unit, match)
        # an ingredient's form the general reading would assume (and note) is read there
        product = match.product or stated_form(match.ingredient, route, dose_mg)
        if product is None:
            return None
    except (_Unusual, KeyError, IndexError, TypeError, AttributeError, OverflowError):
        return None
    return make_medication(
        source,
        product,
        name,
        status,
        match.ingredient,
        intent,
        on,
        None,  # start: no validity period, and no bounds in a plain repeat
        None,  # end
        dose_mg,
        route,
        timing,
        make_quantity(dose, unit),  # dose_written
    )


def _timing(repeat: dict) -> Timing:
    """A plain ``timing.repeat`` as ``timings.read_timing`` reads it: not bounded, no
    ``periodMax``; raises ``_Unusual`` for any other."""
    if not repeat.keys() <= _PLAIN_REPEAT:
        raise _Unusual
    frequency = repeat["frequency"]
    unit = repeat["periodUnit"]
    if (
        frequency.__class__ is not int
        or not 1 <= frequency <= _EXACT
        or unit.__class__ is not str
        or not unit
        or unit.strip() != unit
    ):
        raise _Unusual
    return make_timing(frequency, _finite(repeat["period"]), None, unit, False)


def _finite(value: object) -> float:
    """A JSON number as ``accessors.number`` reads one; raises ``_Unusual`` for anything
    else (a numeric string, a bool) or one ``number`` reads as None (not finite)."""
    if value.__class__ is int:
        return float(value)  # OverflowError: read in general
    if value.__class__ is float and -_INF < value < _INF:
        return value
    raise _Unusual
