"""Clinical core: one call from a patient record to safe, ordered recommendations.

Imports only ``cds_b12.clinical``. This is the core's whole public surface:
``evaluate(record, profile, as_of)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .assess import Assessment, assess
from .profiles import Profile
from .recommendation import Recommendation
from .reconcile import reconcile
from .record import Note, PatientRecord
from .rules import RULES
from .safety import Suppressed, apply_safety


@dataclass(frozen=True, slots=True)
class Evaluation:
    assessment: Assessment
    recommendations: tuple[Recommendation, ...]
    suppressed: tuple[Suppressed, ...]

    @property
    def notes(self) -> tuple[Note, ...]:
        return self.assessment.notes


def evaluate(record: PatientRecord, profile: Profile, as_of: date) -> Evaluation:
    """Assess, run the rules in table order, apply S1-S11, most urgent first, then
    reconcile the cards with each other and with the orders (``reconcile``)."""
    a = assess(record, profile, as_of)
    fired = tuple(rec for rule in RULES if (rec := rule(a, profile)) is not None)
    kept, suppressed = apply_safety(fired, a, profile)
    ordered = tuple(sorted(kept, key=lambda r: -r.indicator.rank))
    return Evaluation(a, reconcile(ordered, a), suppressed)
