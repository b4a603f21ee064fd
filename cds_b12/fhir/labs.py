"""FHIR layer: Observation → ``Lab`` (or a pregnancy/diet finding). Imports cds_b12.clinical.

Only results we use are read; an Observation with another code is ignored without
a note, unless it is coded only locally and its words name one of ours (``local_labs``).
Values are converted to ``LabKind.unit`` by ``units.conversion``.
"""

from __future__ import annotations

from datetime import date

from cds_b12.clinical.codes import LAB_CODES, UCUM
from cds_b12.clinical.record import (
    ClinicalFinding,
    Lab,
    LabKind,
    NoteKind,
    Unreadable,
    UnreadableResult,
)

from .accessors import (
    COMPARATORS,
    as_dict,
    censored_number,
    coded,
    dicts,
    first_dict,
    number,
    shorten,
    string,
    text,
)
from .build import make_lab, make_quantity
from .dates import parse_date
from .findings import observation_finding
from .local_labs import local_lab_label, local_lab_note
from .ranges import Who, applicable
from .skips import ENTERED_IN_ERROR, Note, Skip, StatusPolicy
from .units import conversion, quantity_unit, scaled
from .usual_labs import interpretation, usual_lab

LAB_KINDS: dict[tuple[str, str], LabKind] = {
    pair: kind for kind, pairs in LAB_CODES.items() for pair in pairs
}

ANALYTE_NAMES = {
    LabKind.B12: "vitamin B12",
    LabKind.HOLOTC: "holotranscobalamin",
    LabKind.MMA: "methylmalonic acid",
    LabKind.HCY: "homocysteine",
    LabKind.HB: "Hb",  # one spelling for both profiles (not haemoglobin or hemoglobin)
    LabKind.MCV: "MCV",
    LabKind.RETIC: "reticulocytes",
    LabKind.POTASSIUM: "potassium",
    LabKind.FOLATE: "folate",
    LabKind.FERRITIN: "ferritin",
    LabKind.EGFR: "eGFR",
    LabKind.WBC: "white cell count",
    LabKind.NEUTROPHILS: "neutrophil count",
    LabKind.PLATELETS: "platelet count",
}

OBSERVATION_STATUS = StatusPolicy(
    keep=frozenset({"final", "amended", "corrected"}),
    noted={
        "entered-in-error": ENTERED_IN_ERROR,
        "cancelled": "skipped: result cancelled",
        "preliminary": "skipped: preliminary result",
        "registered": "skipped: result not yet available",
        "unknown": "skipped: result status unknown",
    },
)
_KEEP = OBSERVATION_STATUS.keep


def lab_kind(concept: object) -> LabKind | None:
    """The analyte named by a CodeableConcept, by system and code (§3.1)."""
    return coded(concept, LAB_KINDS)


def read_observation(
    resource: dict, note: Note, name: str, who: Who | None = None
) -> Lab | UnreadableResult | ClinicalFinding | tuple[Lab | UnreadableResult, ...] | None:
    """A lab result in canonical units (or one that could not be read), a finding such as
    pregnancy or a vegan diet, a panel's results, or None if unused. ``name`` is the
    resource's ``label``; ``who`` the patient's sex and birth date, for a reference range
    given per sex or age."""
    kind = coded(resource.get("code"), LAB_KINDS)  # lab_kind, without its call
    if resource.get("component") and (panel := _read_panel(resource, kind, note, name, who)):
        return panel
    if kind is not None:
        # _read_lab in line, and the status policy only for a status not sent clean: the
        # usual result is read in two calls fewer (some 1 K instructions)
        status = resource.get("status")
        if status.__class__ is not str or status not in _KEEP:
            OBSERVATION_STATUS.apply(resource, note)
        if (usual := usual_lab(resource, kind, name)) is not None:
            return usual
        return _general_lab(resource, kind, note, name, who)
    found = observation_finding(resource)
    if found is None:
        # a final result named in words but coded only locally: said, never read; a status
        # that is not a string (a list, an object) is not final, and cannot be looked up
        status = resource.get("status")
        if (
            isinstance(status, str)
            and status in OBSERVATION_STATUS.keep
            and (called := local_lab_label(resource))
        ):
            note(local_lab_note(called), NoteKind.DECISION)
        return None
    OBSERVATION_STATUS.apply(resource, note)
    finding, active = found
    return ClinicalFinding(finding, name, active, _when(resource, note))


# what a component takes from its parent Observation: its status and dates
_FROM_PARENT = ("status", "effectiveDateTime", "effectiveInstant", "effectivePeriod", "issued")
_VALUES = ("valueQuantity", "valueString", "valueInteger")


def _read_panel(
    resource: dict, kind: LabKind | None, note: Note, name: str, who: Who | None
) -> tuple[Lab | UnreadableResult, ...] | None:
    """A panel's results (a blood count, a B12 + folate panel): its own value when it has
    one of a code we read, then each component of a code we read, as a standalone result
    dated and withdrawn with its parent. One analyte is read once; another value for it
    is said, never used."""
    own = kind is not None and ("dataAbsentReason" in resource or _has_value(resource))
    parts = [(kind, resource)] if own else []
    parent = {key: resource[key] for key in _FROM_PARENT if key in resource}
    for given in dicts(resource.get("component")):
        if (part := coded(given.get("code"), LAB_KINDS)) is not None:
            parts.append((part, {**given, **parent}))
    if not parts:
        return None  # no result we read: perhaps a finding
    OBSERVATION_STATUS.apply(resource, note)
    read: dict[LabKind, dict] = {}
    results = []
    for part, source in parts:
        first = read.setdefault(part, source)
        if first is source:
            results.append(_read_lab(source, part, note, name, who))
        elif [first.get(key) for key in _VALUES] != [source.get(key) for key in _VALUES]:
            note(
                f"ignored: another {ANALYTE_NAMES[part]} value in the same Observation",
                NoteKind.DECISION,
            )
    return tuple(results)


def _read_lab(
    resource: dict, kind: LabKind, note: Note, name: str, who: Who | None
) -> Lab | UnreadableResult:
    """The result in canonical units; one without a usable value or unit is kept as
    unreadable, with a note, so the rules can say so (R25) rather than drop it."""
    if (usual := usual_lab(resource, kind, name)) is not None:
        return usual  # the shape EHRs send most, read in few steps
    return _general_lab(resource, kind, note, name, who)


def _general_lab(
    resource: dict, kind: LabKind, note: Note, name: str, who: Who | None
) -> Lab | UnreadableResult:
    """``_read_lab`` for a result ``usual_lab`` does not read: every shape, with its notes."""
    on = _when(resource, note)
    if on is None:
        raise Skip("skipped: no date", NoteKind.DECISION)
    if resource.get("dataAbsentReason") is not None and _has_value(resource):
        # FHIR obs-6: dataAbsentReason only without a value; with both, the lab said the
        # value is not to be used, so it is not (R25), rather than read in silence
        why = shorten(_absent_reason(resource) or "no reason given")
        note(
            f"value ignored: sent with a data-absent reason ({why}) for {ANALYTE_NAMES[kind]}",
            NoteKind.DECISION,
        )
        return UnreadableResult(kind, name, on, Unreadable.NOT_A_NUMBER)
    ranges = first_dict(resource.get("referenceRange"))
    read = _value_and_unit(resource, ranges)
    if not isinstance(read, Unreadable):
        comparator, value, unit = read
        if comparator not in _READ_COMPARATORS:  # "~", "approx": not a limit we can place
            note(
                f"value ignored: comparator '{shorten(comparator)}' not understood"
                f" for {ANALYTE_NAMES[kind]}",
                NoteKind.DECISION,
            )
            return UnreadableResult(kind, name, on, Unreadable.NOT_A_NUMBER)
        if value < 0:  # no analyte we read can be below zero: the value is corrupt
            note(f"value ignored: a negative value for {ANALYTE_NAMES[kind]}", NoteKind.DECISION)
            return UnreadableResult(kind, name, on, Unreadable.NOT_A_NUMBER)
        factor = None if unit is None else conversion(kind, unit)
        quantity = as_dict(resource.get("valueQuantity"))
        written = text(quantity.get("unit"))
        if factor is not None and written != unit and _disagree(kind, written, unit, factor):
            note(
                f"value ignored: unit '{shorten(written)}' and its code '{shorten(unit)}'"
                f" disagree for {ANALYTE_NAMES[kind]}",
                NoteKind.DECISION,
            )
            return UnreadableResult(kind, name, on, Unreadable.UNITS_DISAGREE)
        if factor is not None:
            canonical = scaled(value, factor)
            given = applicable(resource.get("referenceRange"), who, on)
            low, high = _range(kind, given, canonical, unit, factor, note)
            # in field order: keywords would cost a dict per call
            return make_lab(
                kind,
                canonical,
                on,
                name,
                low,  # ref_low
                high,  # ref_high
                interpretation(resource.get("interpretation")),
                # reported: the card quotes the result as the lab sent it, in the unit's own words
                make_quantity(value, written or unit),
                comparator,
            )
        read = Unreadable.NO_UNIT if unit is None else Unreadable.UNKNOWN_UNIT
    analyte = ANALYTE_NAMES[kind]
    said = NoteKind.DECISION
    if read is Unreadable.UNKNOWN_UNIT:  # the unit is the sender's text: never a template
        note(f"value ignored: unit '{shorten(unit)}' is not a known unit for {analyte}", said)
    elif read is Unreadable.NO_VALUE and (why := _absent_reason(resource)):
        note(f"{_NOTES[read]} ({shorten(why)})", said)  # the lab's reason, as it wrote it
    else:
        note(_NOTES[read].format(name=analyte), said)
    return UnreadableResult(kind, name, on, read)


def _absent_reason(resource: dict) -> str | None:
    """Why the lab sent no value (``dataAbsentReason``): its text, else its first coding's
    display or code ("Haemolysed", "not-performed")."""
    reason = as_dict(resource.get("dataAbsentReason"))
    coding = first_dict(reason.get("coding"))
    return text(reason.get("text")) or string(coding, "display") or string(coding, "code")


def _has_value(resource: dict) -> bool:
    """Whether the Observation carries a value[x] of any type."""
    return any(key.startswith("value") and v is not None for key, v in resource.items())


_READ_COMPARATORS = (None, "<", "<=", ">=", ">")  # FHIR's QuantityComparator, or none


def _disagree(kind: LabKind, written: str | None, code: str, factor: tuple[float, float]) -> bool:
    """Whether a Quantity's unit in words is another known unit than its UCUM code (unit
    "pg/mL", code "pmol/L"): either may be the mistake, and the card would quote one while
    the value was converted by the other."""
    if written is None:
        return False
    other = conversion(kind, written)
    return other is not None and other != factor


_NOTES = {
    Unreadable.NO_UNIT: "value ignored: no unit given for {name}",
    Unreadable.NO_VALUE: "skipped: no result value",
    Unreadable.NOT_A_NUMBER: "value ignored: not a finite number for {name}",
}


def _value_and_unit(
    resource: dict, ranges: dict
) -> tuple[str | None, float, str | None] | Unreadable:
    """The comparator, number as reported and unit; a ``valueString`` may carry its unit
    ("245 pg/mL", "<150 pg/mL").

    A bare ``valueString``, or an R4 ``valueInteger`` (a number without a unit), takes
    the unit of the lab's own reference range, which states the unit the result was
    reported in.
    """
    quantity = resource.get("valueQuantity")
    raw = quantity.get("value") if isinstance(quantity, dict) else None
    value = number(raw)
    if value is not None:
        given = quantity.get("comparator")
        if given is None:
            comparator = None
        elif isinstance(given, str):  # one we do not know is kept as sent, for _read_lab to say
            comparator = COMPARATORS.get(given.strip() or "=", given.strip())
        else:
            comparator = str(given)
        if comparator is None and isinstance(raw, str):
            comparator = (censored_number(raw) or (None,))[0]
        return comparator, value, quantity_unit(quantity)
    given = resource.get("valueString")
    if given is None and (integer := resource.get("valueInteger")) is not None:
        given = integer if isinstance(integer, str) else str(integer)  # read as it is written
    parsed = censored_number(given) if isinstance(given, str) else None
    if parsed is None:
        present = raw is not None or text(given) is not None
        return Unreadable.NOT_A_NUMBER if present else Unreadable.NO_VALUE
    comparator, value, unit = parsed
    range_unit = quantity_unit(ranges.get("low")) or quantity_unit(ranges.get("high"))
    return comparator, value, unit or range_unit


def _range(
    kind: LabKind,
    ranges: list[dict] | None,
    value: float,
    value_unit: str,
    value_factor: tuple[float, float],
    note: Note,
) -> tuple[float | None, float | None]:
    """The lab's reference limits in ``kind.unit``, from the ranges that apply (``ranges``,
    None when none does). A range with a limit in a unit we cannot convert, or whose unit in
    words and code are two units, is set aside whole, with a note, as are ranges that apply
    and place ``value`` (canonical) on two sides of a limit: the bands then use the
    profile's limits, never a limit we may have misread or chosen at random."""
    if not ranges:
        if ranges is None:
            note(
                f"reference range ignored: none applies to this patient for {ANALYTE_NAMES[kind]}",
                NoteKind.DECISION,  # the bands use the profile's limits, not the lab's
            )
        return None, None
    try:
        limits = [
            (
                _bound(kind, r.get("low"), value_unit, value_factor),
                _bound(kind, r.get("high"), value_unit, value_factor),
            )
            for r in ranges
        ]
        if len(limits) > 1 and _disagree_on(value, limits):
            raise _RangeUnit("the ranges that apply disagree")
    except _RangeUnit as doubt:
        note(f"reference range ignored: {doubt} for {ANALYTE_NAMES[kind]}", NoteKind.DECISION)
        return None, None
    return limits[0]


def _disagree_on(value: float, limits: list[tuple[float | None, float | None]]) -> bool:
    """Whether ranges put ``value`` below one's lower limit and not another's, or above one's
    upper limit and not another's: then which range is used changes the result's band."""
    below = {value < low for low, _ in limits if low is not None}
    above = {value > high for _, high in limits if high is not None}
    return len(below) > 1 or len(above) > 1


class _RangeUnit(Exception):
    """A reference range we cannot read (a limit's unit), or cannot choose: the message
    says why."""


def _bound(
    kind: LabKind, quantity: object, value_unit: str, value_factor: tuple[float, float]
) -> float | None:
    """A reference limit in ``kind.unit``; one without a unit is in the result's unit.
    Raises ``_RangeUnit`` for a limit in a unit we cannot convert or that disagrees."""
    if not isinstance(quantity, dict):
        return None
    value = number(quantity.get("value"))
    if value is None:
        return None
    if (
        quantity.get("code") == value_unit
        and quantity.get("system") == UCUM
        and quantity.get("unit") in (None, value_unit)
    ):
        return scaled(value, value_factor)  # quantity_unit, said the usual way
    unit = quantity_unit(quantity) or value_unit
    factor = value_factor if unit == value_unit else conversion(kind, unit)
    if factor is None:
        raise _RangeUnit(f"unit '{shorten(unit)}' is not a known unit")
    written = text(quantity.get("unit"))
    if written != unit and _disagree(kind, written, unit, factor):
        raise _RangeUnit(f"unit '{shorten(written)}' and its code '{shorten(unit)}' disagree")
    return scaled(value, factor)


def _when(resource: dict, note: Note) -> date | None:
    """When the sample was taken; the report date only as a noted fallback (§3.1)."""
    on = parse_date(resource.get("effectiveDateTime")) or parse_date(
        resource.get("effectiveInstant")
    )
    if on is None:  # a Period's start, else its end if that is all
        period = as_dict(resource.get("effectivePeriod"))
        on = parse_date(period.get("start")) or parse_date(period.get("end"))
    if on is None:
        on = parse_date(resource.get("issued"))
        if on is not None:
            note("no collection date; used the report date")
    return on
