"""Clinical core: rules R8-R10, for a patient in the loading phase.

Imports only ``cds_b12.clinical``. Recommendations of ``b12-clinical.md``
§6.2 R8-R10; sources US-2 (label), UK-1, UK-2, US-3, S14 (§5).
"""

from __future__ import annotations

from datetime import timedelta

from .. import profiles as k
from ..assess import Assessment, Phase
from ..facts import interval_text, lab_text, recommend
from ..followup import CBC_NORMALISED_DAYS, RETIC_RESPONSE_DAYS, on, window
from ..profiles import Profile
from ..recommendation import Indicator, Kind, Recommendation
from ..record import LabKind
from ..regimens import CATALOGUE, MIN_INTERVAL_DAYS
from ..sources import cites


@cites("US-2", "UK-6")
def r8_suboptimal_response(a: Assessment, p: Profile) -> Recommendation | None:
    """Look for iron, folate or thyroid problems when loading brings no response.

    Fires: loading, day 10 or later, and the reticulocyte count since the
    first dose is not above the upper limit; or day 28 or later and Hb is not
    above its pre-treatment value. Silent: no retic or Hb since the first dose.
    Safety rail S14. Sources: US-2 (FDA label: monitoring), UK-6 (BSH 2014).
    """
    if a.phase is not Phase.LOADING or a.course_start is None:
        return None
    day = (a.as_of - a.course_start).days
    since = [lab for lab in a.record.labs if a.course_start <= lab.on <= a.as_of]
    retics = [
        lab
        for lab in since
        if lab.kind is LabKind.RETIC and (lab.on - a.course_start).days >= RETIC_RESPONSE_DAYS[0]
    ]
    retic_flat = (
        bool(retics)
        and day >= k.SUBOPTIMAL_RESPONSE_DAY
        and all(
            lab.value <= (lab.ref_high if lab.ref_high is not None else k.RETIC_UPPER_PCT)
            for lab in retics
        )
    )
    before = [lab for lab in a.record.labs if lab.kind is LabKind.HB and lab.on < a.course_start]
    hbs = [lab for lab in since if lab.kind is LabKind.HB]
    hb_flat = (
        day >= k.HB_RESPONSE_DAY
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
            on(a.as_of, "FERRITIN", "now"),
            on(a.as_of, "FOLATE", "now"),
            on(a.as_of, "TSH", "now"),
            window(a.as_of, (14, 28), "CBC", "repeat"),
            window(a.as_of, (14, 28), "RETIC", "repeat"),
        ),
        course_day=str(day),
        retic=lab_text(retic),
    )


@cites("UK-2", "UK-5")
def r9_neuro_loading_continue(a: Assessment, p: Profile) -> Recommendation | None:
    """Keep alternate-day dosing while neurological signs are still improving (UK).

    Fires: UK profile; on the alternate-day neuro course; a maintenance-interval
    B12 injection draft is being ordered; neuro signs still recorded as active.
    Silent: US profile (its neuro course is time-bounded), no such draft.
    Sources: UK-2 (BNF), UK-5 (SmPC: "as long as improvement continues").
    """
    if p.name != "UK" or a.phase is not Phase.LOADING or not a.neuro_course or not a.has_neuro:
        return None
    for draft in a.record.drafts:
        med = draft.medication
        if med is None or not med.is_injection or not med.timing:
            continue
        interval = med.timing.interval_days
        if interval is not None and interval > MIN_INTERVAL_DAYS:
            return recommend(
                a,
                "R9-neuro-loading-continue",
                Indicator.WARNING,
                Kind.CONTINUE_LOADING,
                regimen=CATALOGUE[p.neuro_loading],
                draft_id=draft.resource_id,
                start_on=a.as_of,
                draft_schedule=interval_text(interval),
            )
    return None


@cites("UK-1", "UK-2", "US-3")
def r10_start_maintenance(a: Assessment, p: Profile) -> Recommendation | None:
    """Move to maintenance once the loading course is complete.

    Fires: loading course complete (UK: 6 doses over 2 weeks; US: alternate
    days then weekly for 4 weeks) and no maintenance order. Silent: UK neuro
    course (clinician decides when improvement stops, R9), course incomplete.
    US alternative: oral 1000 micrograms daily when there were no neuro signs.
    Sources: UK-1, UK-2, US-3.
    """
    if a.phase is not Phase.LOADING or not a.loading_complete or a.course_start is None:
        return None
    regimen = CATALOGUE[p.neuro_maintenance if a.neuro_history else p.maintenance]
    last = a.last_dose or a.as_of
    first = max(a.as_of, last + timedelta(days=round(regimen.steps[0].interval_days)))
    eight_weeks = a.course_start + timedelta(days=CBC_NORMALISED_DAYS)
    labs = (on(eight_weeks, "CBC", "8 weeks"), on(eight_weeks, "RETIC", "8 weeks"))
    oral_ok = p.name == "US" and not a.neuro_history
    return recommend(
        a,
        "R10-start-maintenance",
        Indicator.INFO,
        Kind.START_MAINTENANCE,
        regimen=regimen,
        alternative=CATALOGUE[p.oral] if oral_ok else None,
        labs=labs if eight_weeks >= a.as_of else (),
        start_on=first,
        doses_given=str(a.course_doses),
        loading_start=a.course_start.isoformat(),
    )
