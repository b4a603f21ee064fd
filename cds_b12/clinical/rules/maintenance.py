"""Clinical core: rules R11-R16, for a patient on maintenance or oral therapy.

Imports only ``cds_b12.clinical``. Recommendations of ``b12-clinical.md``
§6.2 R11-R16; sources UK-1, UK-9, UK-10 (NG239), US-3, §2.8 (serum B12 on
replacement). Nothing here suggests stopping or spacing for an irreversible
cause (S1), and R16 is the only rule that may suggest stopping at all.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..assess import PHASE_MAINTENANCE, PHASE_ORAL, Assessment, Band, Cause
from ..bands import last_two
from ..facts import (
    DietCorrected,
    Direction,
    Fact,
    Findings,
    Interval,
    LabTrend,
    Stopped,
    Trends,
)
from ..followup import after, merge, on, response_labs, window
from ..profiles import Profile
from ..recommendation import Indicator, Kind, LabNote, Recommendation, Urgency, Variant
from ..record import Finding, LabKind
from ..regimens import (
    CATALOGUE,
    HYDROXOCOBALAMIN_INJ,
    Regimen,
    intensified,
    no_longer_than,
    with_drug,
)
from ..sources import cites
from .common import next_dose_on, recommend
from .oral import oral_relapse


def _r12_applies(a: Assessment, p: Profile) -> bool:
    return a.missed_doses >= p.missed_doses_for_adherence_card and (
        a.neuro_history or a.is_irreversible
    )


def _due_on(a: Assessment) -> date:
    """When the missed maintenance dose was due."""
    return a.last_dose + timedelta(days=round(a.interval_days)) if a.last_dose else a.as_of


def _due_facts(a: Assessment) -> dict[str, Fact]:
    return {"due_date": _due_on(a), "days_overdue": a.days_late}


def _restart(a: Assessment, p: Profile) -> Regimen | None:
    """A maintenance order to restart from today, only when none is active (after
    neurological involvement, the neuro maintenance interval: UK-2)."""
    return None if a.order is not None else _current_regimen(a, p)


def _reload(
    a: Assessment, p: Profile, rule: str, overdue_since: date | None = None, **facts: Fact
) -> Recommendation:
    """S8: neurological signs back on maintenance, with doses missed or no shorter interval
    left: the neuro loading course again, without waiting for MMA, and specialist advice.
    Maintenance after it is never less often than the interval the symptoms came back on
    (S1: UK monthly stays monthly, not the every 2 months of UK_MAINT_NEURO)."""
    regimen = no_longer_than(CATALOGUE[p.neuro_loading], a.interval_days, p.intensify_steps)
    if a.order is not None and a.order.ingredient == "hydroxocobalamin":
        regimen = with_drug(regimen, HYDROXOCOBALAMIN_INJ)
    return recommend(
        a,
        rule,
        Indicator.CRITICAL,
        Kind.START_LOADING,
        urgency=Urgency.URGENT,
        regimen=regimen,
        labs=merge((on(a.as_of, "CBC", LabNote.NOW),), response_labs(a.as_of, p)),
        start_on=a.as_of,
        overdue_since=overdue_since,
        variant=Variant.RELOAD,
        recurrence=Findings.of(a.neuro_recurrence),
        **facts,
    )


@cites("UK-1", "UK-5", "US-3", "US-1", "UK-2", "UK-3")
def r11_maintenance_overdue(a: Assessment, p: Profile) -> Recommendation | None:
    """Give the overdue maintenance dose now and resume the schedule.

    Fires: maintenance; days since the last dose exceed the interval plus grace
    (7 days if monthly, 14 if longer). Silent: two or more doses missed with a
    neuro history or irreversible cause (R12 owns those). Info rather than
    warning when only slightly late (within two graces) for a reversible cause. No re-loading
    unless symptoms recurred; the grace is an expert default (❌). With no injection
    given on record (an order or MedicationStatement alone) the dates are asked for,
    never inferred (Seed 2: keep records of injection dates). Overdue, or no dose
    on record, with neurological signs new since the course (or regimen) began:
    re-load (S8, as R12). Sources:
    UK-1 (BNF), UK-5 (SmPC), US-3 (Stabler), US-1 (FDA label), UK-2/UK-3 (re-loading).
    """
    if a.phase is not PHASE_MAINTENANCE:
        return None
    if a.undated_since is not None and a.interval_days is not None:
        if a.neuro_recurrence:  # S8: new neurological signs do not wait for the dates
            return _reload(a, p, "R11-maintenance-overdue")
        if (a.as_of - a.undated_since).days <= a.interval_days + (a.grace_days or 0):
            return None
        return recommend(
            a,
            "R11-maintenance-overdue",
            Indicator.INFO,
            Kind.CHECK_RECORD,
            variant=Variant.NO_DOSE_DATES,
            on_regimen_since=a.undated_since,
        )
    if not a.is_overdue or _r12_applies(a, p):
        return None
    if a.neuro_recurrence:
        return _reload(a, p, "R11-maintenance-overdue", overdue_since=_due_on(a))
    slight = (
        not a.is_irreversible
        and not a.neuro_history
        and a.days_late <= p.slightly_late_max_graces * (a.grace_days or 0)
    )
    return recommend(
        a,
        "R11-maintenance-overdue",
        Indicator.INFO if slight else Indicator.WARNING,
        Kind.GIVE_DOSE,
        regimen=_restart(a, p),
        start_on=a.as_of,
        overdue_since=_due_on(a),
        **_due_facts(a),
    )


@cites("UK-1", "UK-2", "US-3", "UK-3", "US-4")
def r12_missed_doses(a: Assessment, p: Profile) -> Recommendation | None:
    """Address adherence after two or more missed doses, and check for relapse.

    Fires: maintenance; at least two intervals since the last dose; neuro
    history or irreversible cause. Suggests a dose now, CBC and MMA. With
    neurological signs new since the course began it suggests the neuro loading
    course itself, critical, without waiting for MMA (S8). Sources: UK-1, UK-2,
    US-3; UK-3 (CKS) and US-4 (BMJ BP) for re-loading.
    """
    if a.phase is not PHASE_MAINTENANCE or not _r12_applies(a, p):
        return None
    if a.neuro_recurrence:
        return _reload(
            a,
            p,
            "R12-missed-doses",
            overdue_since=_due_on(a),
            missed_doses=a.missed_doses,
            **_due_facts(a),
        )
    return recommend(
        a,
        "R12-missed-doses",
        Indicator.WARNING,
        Kind.GIVE_DOSE,
        regimen=_restart(a, p),
        labs=(on(a.as_of, "CBC", LabNote.NOW), on(a.as_of, "MMA", LabNote.NOW)),
        start_on=a.as_of,
        overdue_since=_due_on(a),
        missed_doses=a.missed_doses,
        **_due_facts(a),
    )


def _current_regimen(a: Assessment, p: Profile) -> Regimen:
    base = CATALOGUE[p.neuro_maintenance if a.neuro_history else p.maintenance]
    if a.order is not None and a.order.ingredient == "hydroxocobalamin":
        return with_drug(base, HYDROXOCOBALAMIN_INJ)
    return base


def _interval_of(regimen: Regimen) -> Interval:
    step = regimen.steps[0]
    return Interval(step.interval_days, step.interval_max_days)


def _shorter(a: Assessment, p: Profile, min_days: int) -> Regimen | None:
    """The next shorter maintenance step, not below ``min_days`` (S16), or None."""
    if a.interval_days is None:
        return None
    return intensified(_current_regimen(a, p), a.interval_days, p.intensify_steps, min_days)


def _off_label(regimen: Regimen | None, p: Profile) -> bool:
    """§7.7: a step more often than the product information's, never a default (S16)."""
    return regimen is not None and regimen.steps[0].interval_days < p.labelled_min_interval_days


def _intensify(
    a: Assessment, p: Profile, rule: str, indicator: Indicator, labs=(), **facts: Fact
) -> Recommendation | None:
    if a.interval_days is None:
        return None
    regimen = _shorter(a, p, p.min_interval_days)
    return recommend(
        a,
        rule,
        indicator,
        Kind.INTENSIFY,
        regimen=regimen,
        labs=labs,
        judged=_off_label(regimen, p),
        # the shorter interval counts from the last dose, as the timeline shows it
        start_on=next_dose_on(a, regimen) if regimen else a.as_of,
        new_interval=_interval_of(regimen) if regimen else None,
        **facts,
    )


@cites("UK-9", "UK-5", "US-3", "UK-2", "UK-3", "US-4")
def r13_intensify_interval(a: Assessment, p: Profile) -> Recommendation | None:
    """Shorten the interval one step after symptoms recur despite adherence.

    Fires: maintenance; adherent (no gap beyond interval plus grace in the
    last year); new neurological signs, or (Seed 2) tiredness or glossitis,
    recorded after therapy began (not the same symptom already there when the course
    began, written again, unless recorded as a recurrence: ``course._since``). Never a
    default, never below 14 days (S16); the US step is ◐ opinion. Symptoms without
    neurological signs shorten the interval only down to the profile's
    ``symptom_intensify_min_days`` (judgement: UK every 2 months, US monthly, so none
    in the US), else no card. Neurological signs with no shorter labelled step left
    (US monthly: the 2-3-week step is off-label, §7.7): re-load and get specialist advice (S8).
    Sources: UK-9 (NG239: "increase the frequency ... in line with product
    information"), UK-5 (SmPC), US-3 (Stabler); UK-2, UK-3, US-4 (re-loading).
    """
    if a.phase is not PHASE_MAINTENANCE or not a.adherent:
        return None
    if a.neuro_recurrence:
        shorter = _shorter(a, p, p.min_interval_days)
        if shorter is None or _off_label(shorter, p):  # S8; §7.7: never the default
            return _reload(a, p, "R13-intensify-interval")
        return _intensify(
            a,
            p,
            "R13-intensify-interval",
            Indicator.INFO,
            recurrence=Findings.of(a.neuro_recurrence),
        )
    if not a.symptom_recurrence or a.interval_days is None:
        return None
    regimen = _shorter(a, p, max(p.min_interval_days, p.symptom_intensify_min_days))
    if regimen is None:
        return None
    return recommend(
        a,
        "R13-intensify-interval",
        Indicator.INFO,
        Kind.INTENSIFY,
        regimen=regimen,
        judged=_off_label(regimen, p),
        start_on=next_dose_on(a, regimen),
        new_interval=_interval_of(regimen),
        recurrence=Findings.of(a.symptom_recurrence),
    )


def _drift(a: Assessment) -> Trends:
    """R14: each drifting analyte with the last two results its flag was read from."""
    of = a.by_kind
    found = []
    for flag, kind, direction in (
        (a.hb_falling, LabKind.HB, Direction.FELL),
        (a.mcv_rising, LabKind.MCV, Direction.ROSE),
        (a.functional_rising, LabKind.MMA, Direction.ROSE),
    ):
        pair = last_two(of.get(kind, ())) if flag else None
        if pair is not None:
            found.append(LabTrend(kind, direction, *pair))
    return Trends(tuple(found))


@cites("UK-9", "UK-5", "US-3", "US-2")
def r14_lab_drift(a: Assessment, p: Profile) -> Recommendation | None:
    """Check iron, folate and thyroid, then intensify, when labs drift on maintenance.

    Fires: maintenance; adherent; Hb falling into anaemia, MCV rising above
    100 fL, or MMA rising above its reference. Safety rail S14. Sources: UK-9
    (NG239), UK-5 (SmPC), US-3 (Stabler), US-2 (FDA label: monitoring).
    """
    if a.phase is not PHASE_MAINTENANCE or not a.adherent or not a.has_lab_drift:
        return None
    labs = (
        on(a.as_of, "FERRITIN", LabNote.NOW),
        on(a.as_of, "FOLATE", LabNote.NOW),
        on(a.as_of, "TSH", LabNote.NOW),
        after(a.as_of, p.cbc_response_days, "CBC", LabNote.EIGHT_WEEKS),
    )
    return _intensify(a, p, "R14-lab-drift", Indicator.WARNING, labs=labs, drift=_drift(a))


@cites("LAB-UK-2.8", "LAB-2.8")
def r15_b12_order_on_maintenance(a: Assessment, p: Profile) -> Recommendation | None:
    """Advise against a serum B12 order for a patient established on replacement.

    Fires (order hooks): a serum or active B12 test is being ordered and the
    patient is on maintenance or oral therapy. UK: always (not routinely
    needed; use symptoms and FBC; not within 42 days of the last). US: only
    within 14 days of an injection, when the result cannot be interpreted.
    Sources: LAB-UK-2.8 (BNSSG Remedy), LAB-2.8 (Mayo Clinic Laboratories), both §2.8.
    """
    if a.phase not in (PHASE_MAINTENANCE, PHASE_ORAL):
        return None
    recent_dose = (
        a.days_since_last_dose is not None
        and a.days_since_last_dose <= p.post_injection_b12_invalid_days
    )
    if not (p.b12_test_on_replacement_not_needed or recent_dose):
        return None
    for draft in a.record.drafts:
        if draft.lab in (LabKind.B12, LabKind.HOLOTC):
            return recommend(
                a,
                "R15-b12-order-on-maintenance",
                Indicator.INFO,
                Kind.ORDER_ADVICE,
                draft_id=draft.resource_id,
                retest_min_days=p.b12_retest_min_days,
            )
    return None


def _resolved_reversible_cause(a: Assessment, p: Profile) -> Stopped | DietCorrected | None:
    """A documented reversible cause that has gone: drug stopped, diet corrected."""
    if a.cause not in (Cause.UNKNOWN, Cause.DIETARY):
        return None
    for exposure in (a.metformin, a.acid_suppressant):
        stopped = exposure.stopped_on if exposure and not exposure.active else None
        if stopped is not None and (a.as_of - stopped).days >= p.reversible_resolved_days:
            return Stopped(exposure.medication.product, stopped)
    diet = a.findings(Finding.DIETARY_DEFICIENCY, active_only=False)
    resolved = [f for f in diet if not f.active and f.resolved_on is not None]
    if resolved and not any(f.active for f in diet):
        return DietCorrected(resolved[-1].resolved_on)
    return None


@cites("UK-9", "UK-10")
def r16_consider_stop(a: Assessment, p: Profile) -> Recommendation | None:
    """Consider stopping or spacing replacement once a reversible cause has resolved.

    Fires: maintenance or oral; a documented reversible cause that has gone
    (drug stopped 3+ months ago, diet corrected); no neuro signs, no anaemia,
    B12 not low, not pregnant or breastfeeding, no relapse on the regimen (R13, R27).
    Never fires for an irreversible cause (S1).
    Recheck interval after stopping is expert opinion (❌). Sources: UK-9, UK-10.
    """
    if a.phase not in (PHASE_MAINTENANCE, PHASE_ORAL) or a.is_irreversible:
        return None
    if a.has_neuro or a.is_anaemic or a.pregnant or a.breastfeeding:
        return None
    if a.symptom_recurrence or oral_relapse(a) is not None:  # R13 / R27: under-replaced
        return None
    if a.b12_band in (Band.DEFICIENT, Band.INDETERMINATE):
        return None
    resolved = _resolved_reversible_cause(a, p)
    if resolved is None:
        return None
    return recommend(
        a,
        "R16-consider-stop",
        Indicator.INFO,
        Kind.CONSIDER_STOP,
        labs=(
            window(a.as_of, p.recheck_after_stop_days, "B12", LabNote.AFTER_STOPPING),
            window(a.as_of, p.recheck_after_stop_days, "MMA", LabNote.AFTER_STOPPING),
        ),
        resolved=resolved,
    )
