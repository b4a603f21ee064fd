"""Clinical core: the regimen catalogue of ``b12-clinical.md`` §1.4, keyed by regimen ID.

Imports only the standard library. A rule names a regimen ID; ``render/``
turns the regimen into a ``MedicationRequest``. Each step maps one-to-one onto
a FHIR ``Dosage`` (``timing.repeat`` plus ``boundsDuration`` or ``count``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType

from .builder import builder
from .record import DAYS_PER_UNIT, Route


@dataclass(frozen=True, slots=True)
class Drug:
    rxnorm: str
    display: str
    ingredient: str
    dose: tuple[float, str] | None = None  # the whole-ampoule dose, when the product fixes it


CYANOCOBALAMIN_INJ = Drug("309594", "vitamin B12 1 MG/ML Injectable Solution", "cyanocobalamin")
# UK-1: hydroxocobalamin is given as the 1 mg ampoule, whatever the schedule.
HYDROXOCOBALAMIN_INJ = Drug(
    "317106", "hydroxocobalamin 1 MG/ML Injectable Solution", "hydroxocobalamin", (1, "mg")
)
CYANOCOBALAMIN_ORAL_1MG = Drug("309593", "vitamin B12 1 MG Oral Tablet", "cyanocobalamin")
CYANOCOBALAMIN_ORAL_100UG = Drug("309595", "vitamin B12 0.1 MG Oral Tablet", "cyanocobalamin")


class Until(StrEnum):
    """An open-ended step's stopping point, worded by ``render/schedule.py``."""

    NO_FURTHER_IMPROVEMENT = "NO_FURTHER_IMPROVEMENT"  # UK-2: the neuro loading course


@dataclass(frozen=True, slots=True)
class Step:
    """One phase of a schedule: ``frequency`` doses per ``period`` ``period_unit``."""

    frequency: int
    period: float
    period_unit: str  # UCUM: d wk mo
    period_max: float | None = None
    count: int | None = None  # number of doses in this step
    duration: tuple[float, str] | None = None  # boundsDuration (value, UCUM unit)
    until: Until | None = None  # an open-ended step that ends on a clinical judgement

    @property
    def interval_days(self) -> float:
        return self.period * DAYS_PER_UNIT[self.period_unit] / self.frequency

    @property
    def interval_max_days(self) -> float:
        return (self.period_max or self.period) * DAYS_PER_UNIT[self.period_unit] / self.frequency


@dataclass(frozen=True, slots=True)
class Regimen:
    id: str
    drug: Drug
    dose: float
    dose_unit: str  # UCUM: ug | mg
    route: Route
    steps: tuple[Step, ...]
    sources: tuple[str, ...]
    then: str | Regimen | None = None  # what follows: a catalogue ID, or one a rule built
    lifelong: bool = False

    @property
    def is_injection(self) -> bool:
        return self.route in (Route.IM, Route.SC)

    @property
    def dose_mg(self) -> float:
        """The dose in mg, to compare with an order's (``Medication.dose_mg``)."""
        return self.dose * MG_PER_UNIT[self.dose_unit]

    @property
    def is_single_dose(self) -> bool:
        """One dose, not a schedule (``single_dose``: a missed dose given now)."""
        return self.id == SINGLE_DOSE

    @property
    def maintenance_interval_days(self) -> float:
        """The interval of the last (open-ended) step."""
        return self.steps[-1].interval_days


CATALOGUE: dict[str, Regimen] = {
    r.id: r
    for r in (
        Regimen(
            "UK_LOAD_STD",
            HYDROXOCOBALAMIN_INJ,
            1,
            "mg",
            Route.IM,
            (Step(3, 1, "wk", count=6, duration=(2, "wk")),),
            ("UK-1",),
            then="UK_MAINT_STD",
        ),
        Regimen(
            "UK_LOAD_NEURO",
            HYDROXOCOBALAMIN_INJ,
            1,
            "mg",
            Route.IM,
            (Step(1, 2, "d", until=Until.NO_FURTHER_IMPROVEMENT),),
            ("UK-2", "UK-3"),
            then="UK_MAINT_NEURO",
        ),
        Regimen(
            "UK_MAINT_STD",
            HYDROXOCOBALAMIN_INJ,
            1,
            "mg",
            Route.IM,
            (Step(1, 2, "mo", period_max=3),),
            ("UK-1", "UK-5"),
            lifelong=True,
        ),
        Regimen(
            "UK_MAINT_NEURO",
            HYDROXOCOBALAMIN_INJ,
            1,
            "mg",
            Route.IM,
            (Step(1, 2, "mo"),),
            ("UK-2",),
            lifelong=True,
        ),
        Regimen(
            "UK_DIET_ORAL",
            CYANOCOBALAMIN_ORAL_100UG,
            100,
            "ug",
            Route.ORAL,
            (Step(1, 1, "d"),),
            ("UK-4",),
        ),
        Regimen(
            "UK_DIET_IM", HYDROXOCOBALAMIN_INJ, 1, "mg", Route.IM, (Step(1, 6, "mo"),), ("UK-4",)
        ),
        Regimen(
            "US_LOAD_STD",
            CYANOCOBALAMIN_INJ,
            1000,
            "ug",
            Route.IM,
            (
                Step(1, 2, "d", count=4, duration=(1, "wk")),
                Step(1, 1, "wk", count=4, duration=(4, "wk")),
            ),
            ("US-3",),
            then="US_MAINT",
        ),
        # §6.3 "Loading, neuro" (US-4): daily for 1-2 weeks, then weekly; the
        # catalogue has no ID for it, so this one follows the US_* naming.
        Regimen(
            "US_LOAD_NEURO",
            CYANOCOBALAMIN_INJ,
            1000,
            "ug",
            Route.IM,
            (
                Step(1, 1, "d", count=14, duration=(2, "wk")),
                Step(1, 1, "wk", count=4, duration=(4, "wk")),
            ),
            ("US-4", "US-3"),
            then="US_MAINT",
        ),
        Regimen(
            "US_LOAD_LABEL",
            CYANOCOBALAMIN_INJ,
            100,
            "ug",
            Route.IM,
            (
                Step(1, 1, "d", count=7, duration=(1, "wk")),
                Step(1, 2, "d", count=7, duration=(2, "wk")),
                Step(2, 1, "wk", count=6, duration=(3, "wk")),
            ),
            ("US-1",),
        ),
        Regimen(
            "US_MAINT",
            CYANOCOBALAMIN_INJ,
            1000,
            "ug",
            Route.IM,
            (Step(1, 1, "mo"),),
            ("US-3", "US-1"),
            lifelong=True,
        ),
        Regimen(
            "ORAL_HIGH",
            CYANOCOBALAMIN_ORAL_1MG,
            1000,
            "ug",
            Route.ORAL,
            (Step(1, 1, "d"),),
            ("US-5", "US-7"),
        ),
        # SP-1 is only partly verified (◐): AFP's 1 mg/day oral is the verified option.
        Regimen(
            "BARIATRIC_PROPH",
            CYANOCOBALAMIN_ORAL_1MG,
            1000,
            "ug",
            Route.ORAL,
            (Step(1, 1, "d"),),
            ("US-5", "SP-1"),
            lifelong=True,
        ),
    )
}

# UCUM mass units in mg: the regimens' dose units.
MG_PER_UNIT = MappingProxyType({"ug": 0.001, "mg": 1.0, "g": 1000.0})
# Doses this close are the same dose (1000 micrograms against 1 mg, read from a decimal).
SAME_DOSE_TOLERANCE_MG = 0.001

# Intervals within a day of each other are the same step (a 30-day month against 31 days).
SAME_INTERVAL_TOLERANCE_DAYS = 1


def intensified(
    current: Regimen, current_interval_days: float, steps: tuple[Step, ...], min_days: int
) -> Regimen | None:
    """The next of the profile's shorter ``steps`` (MAINT_INTENSIFIED, §1.4), or None when
    none is shorter than the current interval and at least ``min_days`` apart (S16)."""
    for step in steps:
        shorter = step.interval_days < current_interval_days - SAME_INTERVAL_TOLERANCE_DAYS
        if shorter and step.interval_days >= min_days:
            return Regimen(
                "MAINT_INTENSIFIED",
                current.drug,
                current.dose,
                current.dose_unit,
                current.route,
                (step,),
                ("UK-9",),
                lifelong=current.lifelong,
            )
    return None


def follow_on(regimen: Regimen) -> Regimen | None:
    """The regimen that follows ``regimen``: its catalogue ID's, or the one a rule built."""
    if isinstance(regimen.then, Regimen):
        return regimen.then
    return CATALOGUE.get(regimen.then) if regimen.then else None


def no_longer_than(
    regimen: Regimen, interval_days: float | None, steps: tuple[Step, ...]
) -> Regimen:
    """``regimen`` handing over to maintenance no less often than every ``interval_days``
    (S1: after a relapse, never back to a longer interval than the one it came on);
    the follow-on as ``capped`` makes it."""
    after = follow_on(regimen)
    if after is None:
        return regimen
    shorter = capped(after, interval_days, steps)
    return regimen if shorter is after else replace(regimen, then=shorter)


def capped(maintenance: Regimen, interval_days: float | None, steps: tuple[Step, ...]) -> Regimen:
    """``maintenance`` given no less often than every ``interval_days`` (S1): itself when it
    already is, else the longest of the profile's shorter ``steps`` within a day of
    ``interval_days`` (MAINT_INTENSIFIED, §1.4); with none, ``maintenance`` as it is."""
    if interval_days is None:
        return maintenance
    limit = interval_days + SAME_INTERVAL_TOLERANCE_DAYS
    fits = [s for s in steps if s.interval_max_days <= limit]
    if maintenance.steps[-1].interval_max_days <= limit or not fits:
        return maintenance
    step = max(fits, key=lambda s: s.interval_max_days)
    return replace(maintenance, id="MAINT_INTENSIFIED", steps=(step,), sources=("UK-9",))


# a frozen record's stores, cheaply: with_drug and single_dose build a regimen for most
# cards (reconcile gives a missed dose as one dose of the current order's product)
_build_regimen = builder(Regimen)


def with_drug(regimen: Regimen, drug: Drug) -> Regimen:
    """The same schedule with another product (S4: hydroxocobalamin for Leber's)."""
    dose, unit = drug.dose or (regimen.dose, regimen.dose_unit)
    return _build_regimen(
        regimen.id,
        drug,
        dose,
        unit,
        regimen.route,
        regimen.steps,
        regimen.sources,
        regimen.then,
        regimen.lifelong,
    )


def course_doses(regimen: Regimen) -> int | None:
    """How many doses a loading course holds; None when a step is open-ended (UK-2)."""
    counts = [step.count for step in regimen.steps]
    return None if any(c is None for c in counts) else sum(c for c in counts if c)


def remaining(regimen: Regimen, given: int) -> Regimen:
    """The rest of a loading course after ``given`` doses (R26): whole steps that are done
    drop out, a step part-done keeps its count of doses still due (its duration then no
    longer holds, so it goes). An open-ended course is given again as it is."""
    if course_doses(regimen) is None:
        return regimen
    steps, left = [], given
    for step in regimen.steps:
        count = step.count or 0
        if left >= count:
            left -= count
            continue
        if left:
            step = replace(step, count=count - left, duration=None)
            left = 0
        steps.append(step)
    return replace(regimen, steps=tuple(steps)) if steps else regimen


SINGLE_DOSE = "DOSE_NOW"  # the regimen ID of ``single_dose``
_ONE_DOSE = (Step(1, 1, "d", count=1),)  # its one step, built once (a Step is frozen)


def single_dose(regimen: Regimen) -> Regimen:
    """One dose of ``regimen``'s product, today: a missed dose given now (R11, R12), as a
    one-off order an EHR can sign, leaving the current schedule running."""
    return _build_regimen(
        SINGLE_DOSE,
        regimen.drug,
        regimen.dose,
        regimen.dose_unit,
        regimen.route,
        _ONE_DOSE,
        regimen.sources,
    )
