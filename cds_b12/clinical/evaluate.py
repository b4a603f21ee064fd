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
from .rules import ANY_AGE, RULES
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
    """Assess, run R1-R29 in table order, apply S1-S12, most urgent first, then
    reconcile the cards with each other and with the orders (``reconcile``).

    Nothing for a patient who has died. Below the profile's adult age only the
    ``ANY_AGE`` rules run, and none suggests an adult regimen.
    """
    a = assess(record, profile, as_of)
    if a.is_deceased:
        return Evaluation(a, (), ())
    rules = RULES if a.is_adult else ANY_AGE
    fired = tuple(rec for rule in rules if (rec := rule(a, profile)) is not None)
    if not a.is_adult:
        fired = tuple(rec.with_changes(regimen=None, alternative=None) for rec in fired)
    kept, suppressed = apply_safety(fired, a, profile)
    ordered = tuple(sorted(kept, key=lambda r: -r.indicator.rank))
    return Evaluation(a, reconcile(ordered, a), suppressed)
