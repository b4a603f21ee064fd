"""Recall: one worklist row per card, and the order a worklist is read in.

Imports only the standard library and ``cds_b12.clinical``. A row carries the
card's summary as patient-view shows it, and the due dates as typed data from
the recommendation (``Recommendation.due``), never parsed from the words.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from ..clinical.recommendation import Indicator, Urgency

_URGENCY_RANK = {Urgency.ROUTINE: 0, Urgency.URGENT: 1, Urgency.STAT: 2}

# The CSV columns, in order; ``schedule`` only when calendars are written.
COLUMNS = (
    "patient",
    "identifier",
    "name",
    "birth_date",
    "indicator",
    "urgency",
    "rule",
    "summary",
    "due",
    "overdue",
    "due_by",
)


@dataclass(frozen=True, slots=True)
class Row:
    patient: str
    identifier: str
    name: str
    birth_date: str
    indicator: str  # the card's indicator: critical, warning, info
    urgency: str  # the recommendation's urgency: routine, urgent, stat
    rule: str
    summary: str
    due: str  # ISO date the action is due or overdue since; "" when not dated
    overdue: bool
    due_by: str  # ISO date the plan on this card runs to; "" when it is one day or undated
    kind: str  # what the card asks for (Recommendation.kind), the Task code
    detail: str  # the card's detail, for a Task note
    card: int  # position among the patient's cards
    schedule: str = ""  # the patient's calendar file, relative to the output

    def sort_key(self) -> tuple:
        """Most urgent first, then the longest overdue, then by patient and card."""
        return (
            -Indicator(self.indicator).rank,
            -_URGENCY_RANK[Urgency(self.urgency)],
            self.due or "9999-12-31",
            self.patient,
            self.card,
        )

    def as_json(self) -> dict:
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_json(cls, data: dict) -> Row:
        return cls(**data)


_FIELDS = tuple(f.name for f in fields(Row))  # every field is a plain value: no asdict copy


def iso(day: date | None) -> str:
    return day.isoformat() if day else ""
