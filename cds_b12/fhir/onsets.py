"""FHIR layer: the date an onset[x], abatement[x] or performed[x] gives. Imports cds_b12.clinical.

FHIR R4 lets each be a dateTime, a Period, an Age, a Range of ages or a string; one
reader serves Condition, AllergyIntolerance and Procedure so none reads fewer forms
than another. An age counts from the patient's birth date, in UCUM years,
months, weeks or days (``a``, ``mo``, ``wk``, ``d``, or the words), and a string
only when it is a date. A unit that is not one of these is never guessed.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta

from .accessors import as_dict, number
from .dates import parse_date
from .units import quantity_unit

Born = Callable[[], date | None]  # the patient's birth date, looked up only when needed

_MONTHS = {"a": 12, "yr": 12, "yrs": 12, "year": 12, "years": 12, "mo": 1, "month": 1, "months": 1}
_DAYS = {"wk": 7, "week": 7, "weeks": 7, "d": 1, "day": 1, "days": 1}
_DAYS_A_MONTH = 365.25 / 12
# Each element's [x] keys, in the order they are tried, with the type each names.
_KEYS = {
    element: tuple(
        (suffix, element + suffix) for suffix in ("DateTime", "Period", "Age", "Range", "String")
    )
    for element in ("onset", "abatement", "performed")
}
# The Period's and the Range's ends, in the order they are tried.
_START_FIRST = (("start", "end"), ("low", "high"))
_END_FIRST = (("end", "start"), ("high", "low"))


def choice_date(
    resource: dict, element: str, born: Born, *, end_first: bool = False
) -> tuple[date | None, bool]:
    """The date ``element``[x] gives, and whether one was given at all (a given one that
    gives no date is for the caller to say). ``end_first`` takes a Period's end, or a
    Range's high, before its start: when a condition ended rather than began."""
    period_ends, range_ends = _END_FIRST if end_first else _START_FIRST
    given = False
    for suffix, key in _KEYS[element]:
        value = resource.get(key)
        if value is None:
            continue
        given = True
        if suffix == "Period":
            on = _first(parse_date, as_dict(value), period_ends)
        elif suffix == "Age":
            on = _at_age(value, born)
        elif suffix == "Range":
            on = _first(lambda age: _at_age(age, born), as_dict(value), range_ends)
        else:  # a dateTime, or a string that is one
            on = parse_date(value)
        if on is not None:
            return on, True
    return None, given


def _first(
    read: Callable[[object], date | None], parts: dict, keys: tuple[str, str]
) -> date | None:
    """The date of the first of ``parts[keys]`` that gives one."""
    return read(parts.get(keys[0])) or read(parts.get(keys[1]))


def _at_age(age: object, born: Born) -> date | None:
    """The day the patient reached ``age`` (an Age Quantity); None when it cannot be known."""
    if not isinstance(age, dict):
        return None
    value, unit = number(age.get("value")), quantity_unit(age)
    if value is None or value < 0 or unit is None:
        return None
    unit = unit.lower()
    months, days = _MONTHS.get(unit), _DAYS.get(unit)
    if months is None and days is None:
        return None
    birth = born()
    if birth is None:
        return None
    try:
        if days is not None:
            return birth + timedelta(days=int(value * days))
        whole, part = divmod(value * months, 1)
        year, month = divmod(birth.month - 1 + int(whole), 12)
        year, month = birth.year + year, month + 1
        day = min(birth.day, calendar.monthrange(year, month)[1])
        return date(year, month, day) + timedelta(days=int(part * _DAYS_A_MONTH))
    except (ValueError, OverflowError):  # beyond the calendar
        return None
