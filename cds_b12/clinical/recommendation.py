"""Clinical core: what a rule concludes, as data with no sentences in it.

Imports only the standard library and ``cds_b12.clinical``. ``render/`` turns a
Recommendation into a CDS card using the wording in ``cards/<rule>.toml``;
``facts`` holds the patient's own values that the wording quotes, typed
(``facts.Fact``), never as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from operator import attrgetter

from .builder import builder
from .facts import Fact
from .regimens import Regimen


class Indicator(StrEnum):
    """CDS Hooks 2.0 card indicator, ordered by urgency."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return ("info", "warning", "critical").index(self.value)


class Kind(StrEnum):
    START_LOADING = "START_LOADING"
    START_MAINTENANCE = "START_MAINTENANCE"
    START_ORAL = "START_ORAL"
    GIVE_DOSE = "GIVE_DOSE"
    INTENSIFY = "INTENSIFY"
    CONTINUE_LOADING = "CONTINUE_LOADING"
    CONSIDER_STOP = "CONSIDER_STOP"
    ORDER_LABS = "ORDER_LABS"
    URGENT_ASSESSMENT = "URGENT_ASSESSMENT"
    ORDER_ADVICE = "ORDER_ADVICE"  # about an order being placed
    CHANGE_PRODUCT = "CHANGE_PRODUCT"
    CHECK_RECORD = "CHECK_RECORD"  # ask for what the record lacks (injection dates)
    REVIEW = "REVIEW"  # a clinical review or advice; nothing to order
    CORRECT_ORDER = "CORRECT_ORDER"  # a B12 draft's dose or intensity is wrong (R28, R29)


class Variant(StrEnum):
    """Which wording of a rule's card applies: ``[variants.<value>]`` in cards/<rule>.toml."""

    RELOAD = "reload"  # R11-R13: neurological relapse on maintenance: re-load (S8)
    NO_DOSE_DATES = "no_dose_dates"  # R11: on maintenance, but no injection dates on record
    NEURO_MAINTENANCE = "neuro_maintenance"  # R10: a draft spaces doses beyond UK-2's interval
    AFTER_RELOAD = "after_reload"  # R10: maintenance kept to the interval before a re-load (S1)
    DRAFT_AFTER_RELOAD = "draft_after_reload"  # R10: a draft spaces doses beyond that interval
    LEBER = "leber"  # R21: Leber's disease: hydroxocobalamin instead (S4)
    ALLERGY = "allergy"  # R21: cobalt/B12 allergy: no B12 product (S5)
    WITHHELD = "withheld"  # any treatment card whose product S5 withheld (default wording)
    SWAPPED = "swapped"  # any treatment card whose product S4 swapped (default wording)
    LOW_POTASSIUM = "low_potassium"  # R7: potassium low in the first days of loading (S6)
    BASELINE_LOW_POTASSIUM = "baseline_low_potassium"  # R7: low before the first dose (S6)
    CHILD = "child"  # R7: below the adult age: the lab's flags and ranges, no adult cut-off
    CHILD_PANCYTOPENIA = "child_pancytopenia"  # R7: a child with pancytopenia (lab's ranges)
    PANCYTOPENIA = "pancytopenia"  # R7: an adult with pancytopenia (else: severe anaemia)
    THOUSANDFOLD = "thousandfold"  # R28: mg written where micrograms are meant
    VOLUME = "volume"  # R28: a volume written where a mass is meant
    ABOVE_MAX = "above_max"  # R28: a dose above the product's largest
    OPEN_ENDED = "open_ended"  # R28: loading frequency with no end
    CONFIRM_FIRST = "confirm_first"  # R29: normal B12 and MMA: confirm the diagnosis (S13)
    CONFIRM_FIRST_NO_MMA = "confirm_first_no_mma"  # R29: the same, no MMA yet: test it first
    DRAFT_ORDER = "draft_order"  # R24: a B12 injection order on a confounded marker alone
    NITROUS_OXIDE = "nitrous_oxide"  # R5/R6: a normal B12 that nitrous oxide leaves open (S12)
    METFORMIN = "metformin"  # R4: metformin alone: no acid-suppressant advice
    RESTART = "restart"  # R26: a break too long to resume: the whole course again
    NO_METFORMIN = "no_metformin"  # R4: a PPI/H2RA or nitrous oxide, no metformin


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    STAT = "stat"


class LabNote(StrEnum):
    """Why a test is due; ``cards/_defaults.toml`` [lab_notes] words each one."""

    BASELINE = "baseline"
    AT_48_HOURS = "48h"
    RESPONSE = "response"
    EIGHT_WEEKS = "eight_weeks"
    NOW = "now"
    CONFIRM = "confirm"
    REPEAT = "repeat"
    AFTER_STOPPING = "after_stopping"
    BEFORE_FOLATE = "before_folate"
    SCREEN = "screen"
    ANNUAL = "annual"
    PREGNANCY = "pregnancy"


@dataclass(frozen=True, slots=True)
class LabOrder:
    """A follow-up test (key of ``codes.ORDERABLE_LABS``) due in a date window."""

    test: str
    due_from: date
    due_to: date | None = None
    note: LabNote | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    rule: str  # stable ID, e.g. "R11-maintenance-overdue"; also the card file name
    indicator: Indicator
    kind: Kind
    urgency: Urgency
    sources: tuple[str, ...]  # keys of sources.SOURCES
    regimen: Regimen | None = None
    alternative: Regimen | None = None  # a second regimen offered as an option
    labs: tuple[LabOrder, ...] = ()
    facts: Mapping[str, Fact] = field(default_factory=dict)  # typed: render/ words them
    safety: tuple[str, ...] = ()  # S-IDs that changed or qualified this recommendation
    draft_id: str | None = None  # "MedicationRequest/x" or "ServiceRequest/y": draft concerned
    start_on: date | None = None  # when the suggested regimen starts
    overdue_since: date | None = None  # when a missed dose was due (R11, R12)
    replaces: str | None = None  # "MedicationRequest/x": the current order the regimen ends
    # who orders this card's plan (one order): another rule's card, or the draft itself
    # ("MedicationRequest/x", = draft_id) when the draft already orders it
    plan_on: str | None = None
    variant: Variant | None = None  # the card's wording variant, if not its main one
    # The plan continues for life: an irreversible cause (S1), or prophylaxis for life (R19).
    # Otherwise the card's plan stays open ("then monthly"), never "for life" (issue 11 §4).
    lifelong: bool = False
    # §7.7: the regimen is an off-label step (US every 2-3 weeks) offered for the clinician's
    # judgement: never the default suggestion, and the tests to check first are their own.
    judged: bool = False

    @property
    def safety_withheld(self) -> bool:
        """A rail withheld every product (S5): nothing may be offered in its place."""
        return "S5" in self.safety

    def with_safety(self, sid: str, **changes) -> Recommendation:
        """A copy that records safety rule ``sid`` and applies ``changes``."""
        safety = self.safety if sid in self.safety else (*self.safety, sid)
        return self.with_changes(**changes, safety=safety)

    def with_changes(self, **changes) -> Recommendation:
        """A copy with ``changes``: ``dataclasses.replace`` less its per-field checks and
        keyword arguments (the rails and ``reconcile`` copy every card, some several times)."""
        values = list(_field_values(self))
        for name, value in changes.items():
            values[_FIELD_INDEX[name]] = value
        return build_recommendation(*values)

    @property
    def due(self) -> date | None:
        """When the action is due, or overdue since: what a recall worklist sorts by.

        A missed dose counts from when it was due; otherwise the earliest of the
        regimen's start and the first lab. None when nothing is dated (order advice).
        """
        if self.overdue_since is not None:
            return self.overdue_since
        dated = [lab.due_from for lab in self.labs]
        if self.start_on is not None:
            dated.append(self.start_on)
        return min(dated, default=None)

    @property
    def due_until(self) -> date | None:
        """The last day of the plan this recommendation dates (its last regimen start or lab
        window end), when that is after ``due``; the end of a recall task's window."""
        ends = [lab.due_to or lab.due_from for lab in self.labs]
        if self.start_on is not None:
            ends.append(self.start_on)
        last, due = max(ends, default=None), self.due
        return last if last is not None and due is not None and last > due else None

    def at_least(self, indicator: Indicator) -> Indicator:
        return indicator if indicator.rank > self.indicator.rank else self.indicator


# a frozen record's stores, cheaply: a card is built once by its rule and copied by the
# rails and ``reconcile``, and a frozen 20-field __init__ was the most of each copy
build_recommendation = builder(Recommendation)
_FIELD_NAMES = tuple(f.name for f in fields(Recommendation))
_FIELD_INDEX = {name: i for i, name in enumerate(_FIELD_NAMES)}
_field_values = attrgetter(*_FIELD_NAMES)
