"""The facts behind a card, as hashes: a hold lasts only while they stay the same.

``facts`` covers what the card rests on and nothing that moves with the calendar alone: the
rule's kind, indicator, safety rails, regimen and tests; the patient's values the card
quotes (labs, findings, drugs, the date of the last dose: a new lab result or a new dose
changes them); every B12 order, dose and draft order on the record (a new order); and the
set of rules firing in the call (a new rule firing). Counts of days, bare dates (today,
review dates, due windows) and lengths of use are left out: they change every day.

``evidence`` is the same without the orders (B12 requests, drafts, and the order's interval
and the order itself among the facts): an accepted card waits while its order is acted on,
and that order reaching the record must not end the wait; a result or a dose still does.

Holds are stored, so the hash's input must not depend on the process: it is one JSON
document, the text the standard library's C encoder writes (a dataclass as its class name and
field values, an enum (a ``StrEnum``) as its value, a date in ISO form, a float as ``repr``
writes it); orjson writes the same text for the usual document, four times faster (``_json``).
The parts every card shares are encoded and hashed once per call, each card's facts encoded
once; the byte-for-byte test against a plain reference (tests/fatigue) guards all of this.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from functools import lru_cache, partial
from operator import attrgetter

import orjson

from ..clinical import Evaluation
from ..clinical.facts import Fact, Interval, LastDose, Years
from ..clinical.recommendation import Recommendation
from ..clinical.record import REQUEST, Medication


@dataclass(frozen=True, slots=True)
class Fingerprint:
    facts: str
    evidence: str


def fingerprints(ev: Evaluation) -> dict[str, Fingerprint]:
    """Rule id -> the hex SHA-256 hashes of the facts behind its card in this evaluation."""
    record = ev.assessment.record
    b12 = [m for m in record.medications if m.ingredient is not None]
    # sorted so that the order the EHR lists them in does not count
    taken = sorted((m for m in b12 if not _is_order(m)), key=_where)
    orders = sorted((m for m in b12 if _is_order(m)), key=_where)
    # Both hashes' text begins "[rules,taken," and the facts' goes on "orders,drafts,": each
    # is hashed once and the hash copied for every card. The doses taken are most of the
    # text: hashing them twice was 0.06 M instructions of a typical call's 0.9.
    head = _json([sorted(rec.rule for rec in ev.recommendations), taken])
    evidence_head = hashlib.sha256(f"{head[:-1]},".encode())
    facts_head = evidence_head.copy()
    facts_head.update(
        f"{_json([orders, sorted(d.resource_id for d in record.drafts)])[1:-1]},".encode()
    )
    found = {}
    for rec in ev.recommendations:
        evidence, ordered = _card(rec)
        facts, kept = facts_head.copy(), evidence_head.copy()
        facts.update(f"{evidence},{ordered}]".encode())
        kept.update(f"{evidence}]".encode())
        found[rec.rule] = Fingerprint(facts.hexdigest(), kept.hexdigest())
    return found


def _card(rec: Recommendation) -> tuple[str, str]:
    """The card's facts as JSON: without the orders, and the orders (its draft, its order
    and the order's interval among the facts)."""
    kept: list[list] = []
    ordered: list[list] = []
    for name in sorted(rec.facts):
        value: Fact = rec.facts[name]
        if isinstance(value, LastDose):
            kept.append([name, value.on])  # its days_ago grows every day
        elif isinstance(value, _CALENDAR):
            continue  # it changes with the calendar alone
        elif isinstance(value, Interval) or (isinstance(value, Medication) and _is_order(value)):
            ordered.append([name, value])
        else:
            kept.append([name, value])
    evidence = [
        rec.rule,
        rec.kind,
        rec.indicator,
        rec.safety,
        rec.regimen,
        rec.alternative,
        sorted({lab.test for lab in rec.labs}),
        rec.overdue_since,
        kept,
    ]
    return _json(evidence), _json([rec.draft_id, ordered])


def _is_order(m: Medication) -> bool:
    return m.source is REQUEST


# facts that change with the calendar alone (a tuple: ``date | int | ...`` would build a
# union at every fact)
_CALENDAR = (date, int, float, Years)


# where a medication comes from: two from one resource keep the resource's own order
_where = attrgetter("resource_id", "source")


def _json(value: object) -> str:
    """The JSON text of ``value`` as the standard library's C encoder writes it (``_exact``),
    mostly by orjson, some four times faster: orjson writes no float, no text outside
    printable ASCII and no integer beyond 64 bits as the standard library does, so a float
    is checked as it reaches orjson (``_written``), and any other such value sends the
    document to ``_exact``. (orjson would also write a plain Enum, a UUID or a subclass of
    tuple, list or dict its own way: no fact has one; the enums are StrEnums, written as
    their text by both.)"""
    try:
        text = orjson.dumps(value, default=_fast, option=_PASSTHROUGH)
    except TypeError:  # integers beyond 64 bits, lone surrogates, keys that are not strings
        return _exact(value)
    if text.isascii() and b"\x7f" not in text:  # JSON escapes the rest as \uXXXX
        return text.decode()
    return _exact(value)


def _plain(value: object) -> object:
    """What the encoder makes of a value JSON has no type for."""
    return _SHAPES[type(value)](value)


def _fast(value: object) -> object:
    """``_plain`` for orjson, which also hands over dates, dataclasses and float subclasses."""
    return _FAST_SHAPES[type(value)](value)


class _Shapes(dict[type, Callable[[object], object]]):
    """Each type's ``_shape``, learnt on first sight (a dict: ``functools.cache`` costs some
    400 instructions a value more, and a typical call has some 60 values)."""

    def __init__(self, shape: Callable[[type], Callable[[object], object]]) -> None:
        super().__init__()
        self.shape = shape

    def __missing__(self, cls: type) -> Callable[[object], object]:
        shape = self[cls] = self.shape(cls)
        return shape


def _shape(cls: type, fast: bool) -> Callable[[object], object]:
    """A date in ISO form; a dataclass as [class name, field values...]; anything else (a
    type added later) by its repr, stable for a plain value."""
    if cls is date:
        return _iso_date
    if issubclass(cls, date):
        return cls.isoformat
    if is_dataclass(cls):
        return _as_list(cls, fast)
    if fast and issubclass(cls, float):  # the standard library writes it as a float
        return _float_subclass
    return repr


def _as_list(cls: type, fast: bool) -> Callable[[object], object]:
    """[class name, field values...] by a function written for the class, as ``dataclasses``
    writes ``__init__``: it reads each slot directly, where an ``attrgetter`` of the names
    looks each one up (0.03 M instructions of a typical call's 0.73). For orjson (``fast``)
    a value of a class seen to need no check (``_UNCHECKED``) is passed on after one set
    look-up (four ``is`` tests a value before: 0.056 M instructions of the 0.64 M of a
    typical call's fingerprints); any other goes by its class's ``_field_shape``."""
    if fast:
        values = ", ".join(
            f"(x if (t := (x := value.{f.name}).__class__) in UNCHECKED "
            f"or t is float and {_SAME_FLOAT} else FIELD[t](x))"
            for f in fields(cls)
        )
    else:
        values = ", ".join(f"value.{f.name}" for f in fields(cls))
    scope = {
        "name": cls.__qualname__,
        "FIELD": _FIELD_SHAPES,
        "UNCHECKED": _UNCHECKED,
        "INF": math.inf,
    }
    exec(f"def as_list(value):\n    return [name, {values}]", scope)
    return scope["as_list"]


# a float orjson writes as the standard library does: zero, or finite and at least 1e-4 in
# size (below that orjson writes ``0.00001`` for ``1e-05``; NaN and Infinity it writes as
# null). As text for ``_as_list``'s functions, which test it inline (a call per float costs
# 0.015 M instructions of a typical call's 1.02 M), and as the function ``_written`` calls.
_SAME_FLOAT = "(1e-4 <= x < INF or -INF < x <= -1e-4 or x == 0.0)"
_same_float = eval(f"lambda x: {_SAME_FLOAT}", {"INF": math.inf})


class _Unwritten(TypeError):
    """A float orjson writes otherwise than the standard library: the document goes to
    ``_exact`` (orjson passes the error on as its own ``TypeError``)."""


def _written(value: object) -> object:
    """``value`` if orjson writes every float in it as the standard library does
    (``_SAME_FLOAT``)."""
    cls = value.__class__
    if cls is float:
        if not _same_float(value):
            raise _Unwritten
    elif cls is tuple or cls is list:
        for item in value:  # type: ignore[attr-defined]
            _written(item)
    elif cls is dict:
        for item in value.values():  # type: ignore[attr-defined]
            _written(item)
    return value


def _field_shape(cls: type) -> Callable[[object], object]:
    """A dataclass field's value for orjson: a float orjson writes otherwise than the standard
    library (which ``_written`` refuses) or a container through ``_written``; a dataclass or a
    date made plain here (orjson would call ``_fast`` for it, from C: 0.022 M instructions of a
    typical call); any other class is left to orjson, as it is, and is unchecked from now on."""
    if cls is float or cls is tuple or cls is list or cls is dict:
        return _written
    if is_dataclass(cls) or issubclass(cls, date):
        return _FAST_SHAPES[cls]
    _UNCHECKED.add(cls)
    return _unchanged


def _unchanged(value: object) -> object:
    return value


# the classes seen whose values hold no float orjson could write otherwise and are left to
# orjson as they are (``_field_shape``): a float, tuple, list or dict subclass is written by
# orjson or handed to ``_fast``, as it was before
_UNCHECKED: set[type] = set()
_SHAPES = _Shapes(partial(_shape, fast=False))
_FAST_SHAPES = _Shapes(partial(_shape, fast=True))
_FIELD_SHAPES = _Shapes(_field_shape)


def _float_subclass(value: float) -> object:
    """A float subclass, which orjson hands over, as the standard library writes it."""
    return orjson.Fragment(_exact(float(value)))


# dates and dataclasses to ``_fast``, as the standard library hands them to ``_plain``
_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME

# date.isoformat formats through printf, some 3,000 instructions a date (a typical call has
# 18); dates repeat from call to call, and a cached one costs a few hundred. Only for
# ``date`` itself: two equal datetimes can differ in their ISO text (their offsets).
_iso_date = lru_cache(maxsize=4096)(date.isoformat)

_exact = json.JSONEncoder(
    default=_plain, separators=(",", ":"), check_circular=False, allow_nan=True
).encode
