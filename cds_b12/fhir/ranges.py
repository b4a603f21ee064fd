"""FHIR layer: which of an Observation's reference ranges apply to the patient. Imports
cds_b12.clinical.codes.

A lab may send several ranges: one per sex or age (``appliesTo``, ``age``), or a normal
range beside a therapeutic one (``type``). A range for another sex or age, or a target
range (therapeutic, treatment, recommended), is not the patient's reference interval and
is never read. Of the rest, a range whose qualifiers the patient is known to meet comes
first, then an unqualified one, then one that may apply (the patient's sex or age is
not known, or a qualifier we do not read).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import IntEnum

from cds_b12.clinical.codes import SNOMED

from .accessors import as_dict, codings, dicts, number, text
from .units import quantity_unit

Who = Callable[[], tuple[str | None, date | None]]  # sex and birth date, looked up when needed

# a range with none of these applies to every patient as it is (usual_labs reads it)
QUALIFIERS = frozenset({"type", "appliesTo", "age"})

# referencerange-meaning: a target, not the reference interval ("normal" and the
# abstract "type" are; a phase such as "luteal" may apply)
_TARGETS = frozenset({"recommended", "treatment", "therapeutic", "pre", "post"})
_REFERENCE = frozenset({"normal", "type"})
_TARGET_WORDS = ("therap", "treatment", "target", "recommend")

# appliesTo: SNOMED CT 248153007 Male, 248152002 Female (the referencerange-appliesto
# example set); FHIR and HL7 v3 administrative gender codes; plain words.
_SEX = {
    (SNOMED, "248153007"): "male",
    (SNOMED, "248152002"): "female",
    ("http://hl7.org/fhir/administrative-gender", "male"): "male",
    ("http://hl7.org/fhir/administrative-gender", "female"): "female",
    ("http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender", "M"): "male",
    ("http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender", "F"): "female",
}
_SEX_WORDS = {"male": "male", "men": "male", "female": "female", "women": "female"}

_DAYS = {"a": 365.25, "yr": 365.25, "year": 365.25, "years": 365.25, "mo": 365.25 / 12}
_DAYS.update({"month": 365.25 / 12, "months": 365.25 / 12, "wk": 7, "week": 7, "d": 1, "day": 1})


class _Fit(IntEnum):
    """How a range fits the patient, best first."""

    MET = 0  # every qualifier is one the patient is known to meet
    PLAIN = 1  # no patient qualifier
    MAYBE = 2  # a qualifier the patient may meet: sex or age not known, or not read
    NOT = 3  # another sex or age, or a target range


def applicable(given: object, who: Who | None, on: date) -> list[dict] | None:
    """The reference ranges that apply to the patient on ``on``, in the lab's order, of the
    best fit; [] when none was sent, None when every range sent is another population's
    or a target range."""
    ranges = dicts(given)
    if not ranges:
        return []
    fits = [_fit(r, who, on) for r in ranges]
    best = min(fits)
    if best is _Fit.NOT:
        return None
    return [r for r, fit in zip(ranges, fits, strict=True) if fit is best]


def _fit(range_: dict, who: Who | None, on: date) -> _Fit:
    meaning = _meaning(range_.get("type"))
    if meaning is _Fit.NOT:
        return _Fit.NOT
    fits = [_sex_fit(concept, who) for concept in dicts(range_.get("appliesTo"))]
    if "age" in range_:
        fits.append(_age_fit(as_dict(range_.get("age")), who, on))
    if meaning is _Fit.MAYBE:
        fits.append(_Fit.MAYBE)
    if not fits:
        return _Fit.PLAIN
    return max(fits)


def _meaning(concept: object) -> _Fit:
    """Whether a range's ``type`` makes it the reference interval (PLAIN), a target range
    (NOT), or a population phase it may be (MAYBE)."""
    if concept is None:
        return _Fit.PLAIN
    codes = {code.lower() for _, code in codings(concept)}
    if codes & _TARGETS:
        return _Fit.NOT
    if codes & _REFERENCE:
        return _Fit.PLAIN
    words = (text(as_dict(concept).get("text")) or "").lower()
    if any(word in words for word in _TARGET_WORDS):
        return _Fit.NOT
    return _Fit.PLAIN if not codes and ("normal" in words or "reference" in words) else _Fit.MAYBE


def _sex_fit(concept: dict, who: Who | None) -> _Fit:
    """An ``appliesTo`` concept against the patient's sex; one that names no sex may apply."""
    named = next((_SEX[pair] for pair in codings(concept) if pair in _SEX), None)
    if named is None:
        named = _SEX_WORDS.get((text(concept.get("text")) or "").lower())
    if named is None:
        return _Fit.MAYBE
    sex = who()[0] if who is not None else None
    if sex not in ("male", "female"):
        return _Fit.MAYBE
    return _Fit.MET if sex == named else _Fit.NOT


def _age_fit(age: dict, who: Who | None, on: date) -> _Fit:
    """An ``age`` Range (limits inclusive) against the patient's age on the result's date."""
    born = who()[1] if who is not None else None
    low, high = _days(age.get("low")), _days(age.get("high"))
    if born is None or low is False or high is False or (low is None and high is None):
        return _Fit.MAYBE
    days = (on - born).days
    inside = (low is None or days >= low) and (high is None or days <= high)
    return _Fit.MET if inside else _Fit.NOT


def _days(quantity: object) -> float | bool | None:
    """An age limit in days; None when absent, False when its unit is not one of age."""
    if not isinstance(quantity, dict) or (value := number(quantity.get("value"))) is None:
        return None
    unit = quantity_unit(quantity) or "a"  # an age without a unit is in years
    per = _DAYS.get(unit.lower())
    return False if per is None else value * per
