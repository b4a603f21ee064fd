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
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from ..clinical import Evaluation
from ..clinical.facts import Fact, Interval, LastDose, Years
from ..clinical.recommendation import Recommendation
from ..clinical.record import Medication, MedSource


@dataclass(frozen=True, slots=True)
class Fingerprint:
    facts: str
    evidence: str


def fingerprints(ev: Evaluation) -> dict[str, Fingerprint]:
    """Rule id -> the hex SHA-256 hashes of the facts behind its card in this evaluation."""
    record = ev.assessment.record
    rules = sorted(rec.rule for rec in ev.recommendations)
    b12 = [m for m in record.medications if m.ingredient is not None]
    taken = sorted(repr(m) for m in b12 if not _is_order(m))
    orders = sorted(repr(m) for m in b12 if _is_order(m))
    drafts = sorted(d.resource_id for d in record.drafts)
    return {
        rec.rule: Fingerprint(
            _hash(rules, taken, orders, drafts, _card(rec, with_orders=True)),
            _hash(rules, taken, _card(rec, with_orders=False)),
        )
        for rec in ev.recommendations
    }


def _hash(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _is_order(m: Medication) -> bool:
    return m.source is MedSource.REQUEST


def _card(rec: Recommendation, *, with_orders: bool) -> str:
    facts = {name: _stable(value, with_orders) for name, value in rec.facts.items()}
    return repr(
        (
            rec.rule,
            rec.kind.value,
            rec.indicator.value,
            rec.safety,
            rec.draft_id if with_orders else None,
            rec.regimen,
            rec.alternative,
            sorted({lab.test for lab in rec.labs}),
            rec.overdue_since,
            sorted((k, v) for k, v in facts.items() if v is not _LEFT_OUT),
        )
    )


_LEFT_OUT = object()  # a fact that changes with the calendar alone, or an order left out


def _stable(value: Fact, with_orders: bool) -> object:
    if isinstance(value, LastDose):
        return repr(value.on)  # its days_ago grows every day
    if isinstance(value, date | int | float | Years):
        return _LEFT_OUT
    if not with_orders and (
        isinstance(value, Interval) or (isinstance(value, Medication) and _is_order(value))
    ):
        return _LEFT_OUT
    return repr(value)
