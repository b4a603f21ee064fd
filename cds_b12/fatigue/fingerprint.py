"""The facts behind a card, as a hash: a snooze holds only while this stays the same.

It covers what the card rests on and nothing that moves with the calendar alone: the
rule's kind, indicator, safety rails, regimen and tests; the patient's values the card
quotes (labs, findings, drugs, the date of the last dose: a new lab result or a new dose
changes them); every B12 order, dose and draft order on the record (a new order); and the
set of rules firing in the call (a new rule firing). Counts of days, bare dates (today,
review dates, due windows) and lengths of use are left out: they change every day.
"""

from __future__ import annotations

import hashlib
from datetime import date

from ..clinical import Evaluation
from ..clinical.facts import Fact, LastDose, Years
from ..clinical.recommendation import Recommendation


def fingerprints(ev: Evaluation) -> dict[str, str]:
    """Rule id -> the hex SHA-256 of the facts behind its card in this evaluation."""
    record = ev.assessment.record
    shared = repr(
        (
            sorted(rec.rule for rec in ev.recommendations),
            sorted(repr(m) for m in record.medications if m.ingredient is not None),
            sorted(d.resource_id for d in record.drafts),
        )
    )
    return {
        rec.rule: hashlib.sha256(f"{shared}|{_card(rec)}".encode()).hexdigest()
        for rec in ev.recommendations
    }


def _card(rec: Recommendation) -> str:
    facts = {name: _stable(value) for name, value in rec.facts.items()}
    return repr(
        (
            rec.rule,
            rec.kind.value,
            rec.indicator.value,
            rec.safety,
            rec.draft_id,
            rec.regimen,
            rec.alternative,
            sorted({lab.test for lab in rec.labs}),
            rec.overdue_since,
            sorted((k, v) for k, v in facts.items() if v is not _MOVES),
        )
    )


_MOVES = object()  # a fact that changes with the calendar alone


def _stable(value: Fact) -> object:
    if isinstance(value, LastDose):
        return repr(value.on)  # its days_ago grows every day
    if isinstance(value, date | int | float | Years):
        return _MOVES
    return repr(value)
