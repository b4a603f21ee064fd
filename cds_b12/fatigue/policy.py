"""Which cards a call holds back, from what clinicians did with the same rule's earlier cards
for the same patient. Pure: the store supplies the history, the API layer applies the answer.

- **Snoozed**: a card overridden with a reason holds the rule for the period set for that
  reason (``Policy.snooze_days``); an override without a reason, or with a reason that has no
  period, snoozes nothing.
- **Accepted**: an accepted card holds the rule for the rest of the encounter, and for
  ``accepted_days`` while its order is acted on (a lab ordered today has no result yet): the
  order reaching the record does not end this hold, a new result or dose does
  (``Fingerprint.evidence``).
- **Repeat**: a card already shown for this ``hookInstance`` or encounter is not shown again.

Every hold lasts only while the facts behind the card are those of the earlier card (the same
``Fingerprint``): a new lab, dose or order, or another rule firing, shows the card again. A hold
comes only from an earlier card of the same rule, so a first card is never held. Critical
safety cards are never held for longer than ``CRITICAL_FLOOR`` after the clinician's answer,
and never as a repeat: they show on every call until someone answers them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from .fingerprint import Fingerprint

# judgement: the defaults (a patient's decision or a specialist's plan lasts months;
# "already addressed" should be visible again within weeks if nothing changed)
DEFAULT_SNOOZE_DAYS: Mapping[str, int] = MappingProxyType(
    {
        "patient-declined": 90,
        "already-addressed": 14,
        "specialist-managing": 180,
        "clinical-judgement": 90,
    }
)
DEFAULT_ACCEPTED_DAYS = 30  # judgement: time for an ordered lab or dose to reach the record
CRITICAL_FLOOR = timedelta(hours=24)
HISTORY = timedelta(days=365)  # how far back a card says when it was dismissed before
# the critical safety cards: neurological loading (S8), severe anaemia or pancytopenia (S9),
# folate without B12 (S3), a withheld product (S4/S5); any card sent as critical counts too
CRITICAL_RULES = frozenset(
    {
        "R1-start-neuro-loading",
        "R6-indeterminate-neuro",
        "R7-severe-anaemia",
        "R20-folate-without-b12",
        "R21-cyanocobalamin-contraindicated",
        "R28-order-dose-error",  # a thousandfold or open-ended order is a safety check too
    }
)


@dataclass(frozen=True, slots=True)
class Policy:
    snooze_days: Mapping[str, int] = field(default_factory=lambda: DEFAULT_SNOOZE_DAYS)
    accepted_days: int = DEFAULT_ACCEPTED_DAYS

    @property
    def lookback(self) -> timedelta:
        """How far back the history matters: a year, or the longest hold if longer."""
        return max(HISTORY, timedelta(days=max([self.accepted_days, *self.snooze_days.values()])))


@dataclass(frozen=True, slots=True)
class Past:
    """An earlier card of this patient (from the same issuer and tenant), with the
    clinician's answer if any; ``answered_at`` is the earlier of the answer's own time and
    when the service received it (a clock ahead cannot stretch a hold)."""

    rule: str
    fingerprint: str | None  # Fingerprint.facts of the card then
    evidence: str | None  # Fingerprint.evidence
    shown_at: datetime
    hook_instance: str
    encounter: str | None
    outcome: str | None = None  # "accepted" | "overridden" | None: no answer
    reason: str | None = None  # the override reason's code
    answered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    rule: str
    why: str  # "snoozed" | "accepted" | "repeat"
    until: datetime | None  # None: for this hookInstance or encounter
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Dismissal:
    on: datetime
    reason: str | None


def is_critical(rule: str, indicator: str) -> bool:
    return rule in CRITICAL_RULES or indicator == "critical"


def decide(
    rule: str,
    fingerprint: Fingerprint,
    *,
    critical: bool,
    now: datetime,
    hook_instance: str,
    encounter: str | None,
    past: Sequence[Past],
    policy: Policy,
) -> Hold | None:
    """The hold on this rule's card now, or None: show it."""
    holds: list[Hold] = []
    repeat = False
    for p in past:
        if p.rule != rule:
            continue
        same_facts = p.fingerprint == fingerprint.facts
        in_encounter = bool(encounter) and p.encounter == encounter
        if not critical and same_facts and (p.hook_instance == hook_instance or in_encounter):
            repeat = True
        hold = _answered(p, fingerprint, same_facts, in_encounter, critical, policy)
        if hold is not None and (hold.until is None or hold.until > now):
            holds.append(hold)
    if holds:
        return max(holds, key=lambda h: (h.until is None, h.until or now))
    return Hold(rule, "repeat", None) if repeat else None


def _answered(
    p: Past,
    fingerprint: Fingerprint,
    same_facts: bool,
    in_encounter: bool,
    critical: bool,
    policy: Policy,
) -> Hold | None:
    """The hold a clinician's answer to an earlier card puts on this one, if any."""
    if p.answered_at is None:
        return None
    if p.outcome == "accepted":
        if in_encounter and not critical:
            return Hold(p.rule, "accepted", None)  # for the rest of the encounter
        if p.evidence != fingerprint.evidence:
            return None  # a new result or dose: the order it asked for may not fit now
        span, why, reason = timedelta(days=policy.accepted_days), "accepted", None
    elif same_facts and p.reason in policy.snooze_days:
        span, why, reason = timedelta(days=policy.snooze_days[p.reason]), "snoozed", p.reason
    else:
        return None
    return Hold(
        p.rule, why, p.answered_at + (min(span, CRITICAL_FLOOR) if critical else span), reason
    )


def dismissals(rule: str, past: Sequence[Past], limit: int = 3) -> list[Dismissal]:
    """The rule's earlier overrides, newest first, whatever the facts were then."""
    found = sorted(
        (
            Dismissal(p.answered_at, p.reason)
            for p in past
            if p.rule == rule and p.outcome == "overridden" and p.answered_at is not None
        ),
        key=lambda d: d.on,
        reverse=True,
    )
    return found[:limit]
