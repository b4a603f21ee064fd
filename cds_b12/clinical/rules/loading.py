"""Clinical core: rules R8-R10, for a patient in the loading phase.

Imports only ``cds_b12.clinical``. Recommendations of ``b12-clinical.md``
§6.2 R8-R10; sources US-2 (label), UK-1, UK-2, US-3, S14 (§5).
"""

from __future__ import annotations

from datetime import timedelta

from ..assess import PHASE_LOADING, Assessment, Band
from ..bands import B12_KINDS, b12_before
from ..cause import NEURO_FINDINGS
from ..facts import BeforeUnreadable, Fact, Findings, Interval, Latest, OnFile
from ..followup import after, on, response_labs, window
from ..profiles import Profile
from ..recommendation import Indicator, Kind, LabNote, Recommendation, Urgency, Variant
from ..record import DraftOrder, Finding, Lab, LabKind
from ..regimens import (
    CATALOGUE,
    HYDROXOCOBALAMIN_INJ,
    SAME_INTERVAL_TOLERANCE_DAYS,
    Regimen,
    capped,
    course_doses,
    no_longer_than,
    remaining,
    with_drug,
)
from ..sources import cites
from .common import recommend, said


@cites("US-2", "UK-6")
def r8_suboptimal_response(a: Assessment, p: Profile) -> Recommendation | None:
    """Look for iron, folate or thyroid problems when loading brings no response.

    Fires: loading, from the profile's response day (10) on, and the
    reticulocyte count since the first dose is not above the upper limit; or from
    the Hb response day (28) on, and Hb is not above its pre-treatment value.
    Silent: no retic or Hb since the first dose.
    Safety rail S14. Sources: US-2 (FDA label: monitoring), UK-6 (BSH 2014).
    """
    if a.phase is not PHASE_LOADING or a.course_start is None or a.interrupted:
        return None  # an interrupted course is R26's: not enough given to judge a response
    day = (a.as_of - a.course_start).days
    since = [lab for lab in a.labs if a.course_start <= lab.on]
    retics = [
        lab
        for lab in since
        if lab.kind is LabKind.RETIC and (lab.on - a.course_start).days >= p.retic_response_days[0]
    ]
    retic_flat = (
        bool(retics)
        and day >= p.suboptimal_response_day
        and all(
            lab.value <= (lab.ref_high if lab.ref_high is not None else p.retic_upper_pct)
            for lab in retics
        )
    )
    before = [lab for lab in a.labs if lab.kind is LabKind.HB and lab.on < a.course_start]
    hbs = [lab for lab in since if lab.kind is LabKind.HB]
    hb_flat = (
        day >= p.hb_response_day
        and bool(before)
        and bool(hbs)
        and max(h.value for h in hbs) <= max(before, key=lambda h: h.on).value
    )
    if not (retic_flat or hb_flat):
        return None
    retic = max(retics, key=lambda lab: lab.on) if retics else None
    return recommend(
        a,
        "R8-suboptimal-response",
        Indicator.WARNING,
        Kind.ORDER_LABS,
        labs=(
            on(a.as_of, "FERRITIN", LabNote.NOW),
            on(a.as_of, "FOLATE", LabNote.NOW),
            on(a.as_of, "TSH", LabNote.NOW),
            window(a.as_of, p.suboptimal_repeat_days, "CBC", LabNote.REPEAT),
            window(a.as_of, p.suboptimal_repeat_days, "RETIC", LabNote.REPEAT),
        ),
        course_day=day,
        retic=said(a, retic, (LabKind.RETIC,)),
    )


@cites("UK-2", "UK-5")
def r9_neuro_loading_continue(a: Assessment, p: Profile) -> Recommendation | None:
    """Keep alternate-day dosing while neurological signs are still improving (UK).

    Fires: a profile whose neuro course is open-ended (UK); on the alternate-day
    neuro course; a B12 injection draft at a longer interval than the profile's
    shortest is being ordered; neuro signs still recorded as active. Silent: the
    US profile (its neuro course is time-bounded), no such draft.
    Sources: UK-2 (BNF), UK-5 (SmPC: "as long as improvement continues").
    """
    if not p.neuro_course_open_ended or a.phase is not PHASE_LOADING:
        return None
    if not a.neuro_course or not a.has_neuro:
        return None
    for draft in a.record.drafts:
        med = draft.medication
        if med is None or not med.is_injection or not med.timing:
            continue
        interval = med.timing.interval_days
        if interval is not None and interval > p.min_interval_days:
            return recommend(
                a,
                "R9-neuro-loading-continue",
                Indicator.WARNING,
                Kind.CONTINUE_LOADING,
                regimen=CATALOGUE[p.neuro_loading],
                draft_id=draft.resource_id,
                start_on=a.as_of,
                draft_schedule=Interval(interval),
            )
    return None


def _spaced_draft(a: Assessment, p: Profile) -> DraftOrder | None:
    """An injection draft spacing maintenance doses beyond the neuro maintenance interval
    (UK-2: every 2 months) for a patient with a neurological history, or beyond the one
    they were on before a re-load (S1); R9 owns the drafts made while the open-ended neuro
    course is still improving."""
    if not a.neuro_history or (a.neuro_course and a.has_neuro and p.neuro_course_open_ended):
        return None
    longest = _maintenance(a, p).steps[-1].interval_max_days
    for draft in a.record.drafts:
        med = draft.medication
        timing = med.timing if med is not None and med.is_injection else None
        interval = timing.interval_max_days if timing else None
        if interval is not None and interval > longest + SAME_INTERVAL_TOLERANCE_DAYS:
            return draft
    return None


def _maintenance(a: Assessment, p: Profile) -> Regimen:
    """The maintenance after loading: UK-2's after neurological involvement, and never
    longer than the interval the patient was on before a re-load (S1)."""
    base = CATALOGUE[p.neuro_maintenance if a.neuro_history else p.maintenance]
    return capped(base, a.reloaded_from_days, p.intensify_steps)


def _reload_variant(a: Assessment, regimen: Regimen, variant: Variant | None) -> dict[str, Fact]:
    """The wording of a maintenance kept to the interval before a re-load (S1)."""
    if a.reloaded_from_days is None or regimen.id != "MAINT_INTENSIFIED":
        return {"variant": variant}
    after = Variant.DRAFT_AFTER_RELOAD if variant else Variant.AFTER_RELOAD
    return {"variant": after, "reloaded_from": Interval(a.reloaded_from_days)}


@cites(
    "UK-1",
    "UK-2",
    "US-3",
    "UK-8",
    variants={
        Variant.NEURO_MAINTENANCE: ("UK-1", "UK-2", "US-3"),
        Variant.AFTER_RELOAD: ("UK-9", "UK-10", "UK-2", "US-3"),
        Variant.DRAFT_AFTER_RELOAD: ("UK-9", "UK-10", "UK-2", "US-3"),
    },
)
def r10_start_maintenance(a: Assessment, p: Profile) -> Recommendation | None:
    """Move to maintenance once the loading course is complete.

    Fires: loading course complete (UK: 6 doses over 2 weeks; US: alternate
    days then weekly for 4 weeks) and no maintenance order. Silent: UK neuro
    course (clinician decides when improvement stops, R9), course incomplete.
    US alternative: oral 1000 micrograms daily when there were no neuro signs.
    On the order hooks, also: a maintenance injection being ordered at a longer
    interval than the neuro maintenance one for a patient with neurological
    involvement (UK-2: every 2 months) gets a warning that updates the draft.
    After a re-load (loading again after maintenance), maintenance is never longer
    than the interval the patient was on before it (S1: symptoms came back on it).
    Sources: UK-1, UK-2, US-3; UK-8 (NG239: review 3 months after starting), which the
    neuro_maintenance card (no review date) does not cite; after a re-load UK-9 (NG239:
    increase the frequency if needed) and UK-10 (NG239: not stopped when irreversible).
    """
    draft = _spaced_draft(a, p)
    timing = draft.medication.timing if draft is not None and draft.medication else None
    if draft is not None and timing is not None and timing.interval_days is not None:
        regimen = _maintenance(a, p)
        if draft.medication.ingredient == "hydroxocobalamin":
            regimen = with_drug(regimen, HYDROXOCOBALAMIN_INJ)
        return recommend(
            a,
            "R10-start-maintenance",
            Indicator.WARNING,
            Kind.START_MAINTENANCE,
            regimen=regimen,
            draft_id=draft.resource_id,
            start_on=a.as_of,
            draft_schedule=Interval(timing.interval_days, timing.interval_max_days),
            neuro_history=Findings.of(a.findings(*NEURO_FINDINGS, active_only=False)),
            **_reload_variant(a, regimen, Variant.NEURO_MAINTENANCE),
        )
    if a.phase is not PHASE_LOADING or not a.loading_complete or a.course_start is None:
        return None
    regimen = _maintenance(a, p)
    last = a.last_dose or a.as_of
    first = max(a.as_of, last + timedelta(days=round(regimen.steps[0].interval_days)))
    eight_weeks = a.course_start + timedelta(days=p.cbc_response_days)
    labs = (
        after(a.course_start, p.cbc_response_days, "CBC", LabNote.EIGHT_WEEKS),
        after(a.course_start, p.cbc_response_days, "RETIC", LabNote.EIGHT_WEEKS),
    )
    oral_ok = p.oral_alternative_to_maintenance and not a.neuro_history
    return recommend(
        a,
        "R10-start-maintenance",
        Indicator.INFO,
        Kind.START_MAINTENANCE,
        regimen=regimen,
        alternative=CATALOGUE[p.oral] if oral_ok else None,
        labs=labs if eight_weeks >= a.as_of else (),
        start_on=first,
        **{
            "doses_given": a.course_doses,
            "loading_start": a.course_start,
            **_reload_variant(a, regimen, None),
        },
    )


def _b12_course_facts(a: Assessment, before: Lab | None) -> dict[str, Fact]:
    """R26's B12s: the one before the first dose (or those then that could not be read) and
    the latest, said once when they are the same result (the latest's words, which say
    whether it still counts)."""
    latest = said(a, a.b12, B12_KINDS)
    start = a.course_start or a.as_of
    shown = said(a, before, B12_KINDS, before=start)
    lab = latest.lab if isinstance(latest, OnFile | BeforeUnreadable) else latest
    if latest == shown or (before is not None and lab == before):
        return {"b12_before": latest, "latest_b12": Latest(None)}
    return {"b12_before": shown, "latest_b12": Latest(latest)}


def _treated_for_deficiency(a: Assessment, p: Profile) -> tuple[Lab | None, bool]:
    """The B12 before the course began, and whether the course had a reason: a low or
    borderline B12 before it, a low one now, an abnormal MMA, a coded deficiency,
    an irreversible cause or neurological signs."""
    start = a.course_start or a.as_of
    before, band = b12_before(a.labs, start, p)
    reason = (
        band in (Band.DEFICIENT, Band.INDETERMINATE)
        or a.is_deficient
        or a.is_irreversible
        or a.has_neuro
        or a.has(Finding.B12_DEFICIENCY)
    )
    return before, reason


@cites("UK-1", "UK-2", "US-3", "US-4", "UK-8")
def r26_interrupted_course(a: Assessment, p: Profile) -> Recommendation | None:
    """Finish a loading course that stopped part-way: an interrupted course is not a
    finished one.

    Fires: loading by its doses (one or two stray doses count); fewer doses than the
    course due; none for longer than ``loading_interrupted_after_days`` (judgement,
    14); a reason to treat (low or borderline B12 before the first dose, a coded
    deficiency, an irreversible cause or neurological signs). A B12 drawn after a
    dose is not evidence of repletion, so the result before the course decides.
    Suggests the doses still due (the neuro course with neurological signs); after
    a break longer than ``interrupted_course_restart_days`` (judgement, 90) the whole
    course again. Critical with neurological signs (S8). Sources: UK-1 (BNF), UK-2
    (BNF: neuro course), US-3 (Stabler), US-4 (BMJ BP: neuro course), UK-8 (NG239: review
    after starting treatment).
    """
    if a.phase is not PHASE_LOADING or not a.interrupted or a.last_dose is None:
        return None
    before, reason = _treated_for_deficiency(a, p)
    if not reason:
        return None
    course = CATALOGUE[p.neuro_loading if a.neuro_history else p.loading]
    course = no_longer_than(course, a.reloaded_from_days, p.intensify_steps)  # S1
    if a.order is not None and a.order.ingredient == "hydroxocobalamin":
        course = with_drug(course, HYDROXOCOBALAMIN_INJ)
    due = course_doses(course)
    restart = (a.as_of - a.last_dose).days > p.interrupted_course_restart_days
    given = 0 if restart else a.course_doses
    if due is not None and given >= due:
        return None
    return recommend(
        a,
        "R26-interrupted-course",
        Indicator.CRITICAL if a.has_neuro else Indicator.WARNING,
        Kind.START_LOADING,
        variant=Variant.RESTART if restart else None,
        urgency=Urgency.URGENT if a.has_neuro else Urgency.ROUTINE,
        regimen=remaining(course, given),
        labs=response_labs(a.as_of, p),
        start_on=a.as_of,
        doses_given=a.course_doses,
        doses_due=due,
        doses_remaining=None if due is None else due - given,
        loading_start=a.course_start,
        **_b12_course_facts(a, before),
        restart_after_days=p.interrupted_course_restart_days,
    )
