"""Clinical core: rule R27, a relapse on oral B12 (escalate to IM loading).

Imports only ``cds_b12.clinical``. NG239's follow-up logic (UK-9): on oral
replacement, new, worsening or not sufficiently improved symptoms are a reason
to escalate the dose or switch to intramuscular treatment; US-5 and US-6 keep IM
for severe deficiency and neurological features.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..assess import PHASE_ORAL, Assessment, Band, Functional
from ..codes import SYMPTOM_FINDINGS
from ..facts import Findings
from ..followup import response_labs
from ..profiles import Profile
from ..recommendation import Indicator, Kind, Recommendation, Urgency
from ..record import ClinicalFinding, Lab
from ..regimens import CATALOGUE
from ..sources import cites
from .common import recommend


def _after(lab: Lab | None, start: date) -> Lab | None:
    return lab if lab is not None and lab.on > start else None


@dataclass(frozen=True, slots=True)
class OralRelapse:
    """Deficiency coming back since oral therapy started (R27; R16 stays silent): the new
    findings, if any; the results that show it are on the card as the common facts."""

    since: date
    new: tuple[ClinicalFinding, ...]  # neurological signs, tiredness, glossitis since then


def oral_relapse(a: Assessment) -> OralRelapse | None:
    """The relapse on the oral regimen in force, or None (none, or the start is undated)."""
    if a.phase is not PHASE_ORAL or a.order is None:
        return None
    start = a.order.start or a.order.on
    if start is None:
        return None
    new = tuple(
        f
        for f in a.record.findings
        if f.active
        and f.on is not None
        and f.on > start
        and (f in a.neuro_findings or f.finding in SYMPTOM_FINDINGS)
    )
    b12 = a.b12_band is Band.DEFICIENT and _after(a.b12, start)
    functional = a.functional is Functional.ABNORMAL and (
        _after(a.mma, start) or _after(a.hcy, start)
    )
    drift = a.has_lab_drift and (_after(a.hb, start) or _after(a.mcv, start))
    return OralRelapse(start, new) if new or b12 or functional or drift else None


@cites("UK-9", "US-5", "US-6", "UK-2", "US-4")
def r27_oral_relapse(a: Assessment, p: Profile) -> Recommendation | None:
    """Escalate to IM loading when deficiency comes back on oral B12.

    Fires: the regimen in force is oral (the oral phase); since it started, new
    neurological signs, tiredness or glossitis (Seed 2), a deficient B12, an MMA or
    homocysteine above its reference, or Hb falling into anaemia or MCV rising
    above 100 fL. Suggests the IM loading course (the neuro course, critical, with
    neurological signs: S8). Silent: no start date on the oral order (nothing can
    be dated against it). Sources: UK-9 (NG239: escalate or switch to IM), US-5
    (AFP 2017), US-6 (AFP 2025: IM for severe or neurological deficiency), UK-2 and
    US-4 (the neuro loading course).
    """
    relapse = oral_relapse(a)
    if relapse is None:
        return None
    neuro = any(f in a.neuro_findings for f in relapse.new) or a.has_neuro
    return recommend(
        a,
        "R27-oral-relapse",
        Indicator.CRITICAL if neuro else Indicator.WARNING,
        Kind.START_LOADING,
        urgency=Urgency.URGENT if neuro else Urgency.ROUTINE,
        regimen=CATALOGUE[p.neuro_loading if neuro else p.loading],
        labs=response_labs(a.as_of, p),
        start_on=a.as_of,
        oral=a.order,
        oral_since=relapse.since,
        relapse=Findings.of(relapse.new),
    )
