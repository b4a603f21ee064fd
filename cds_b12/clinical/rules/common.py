"""Clinical core: what every rule shares: ``recommend`` and the facts any card may quote.

Imports only the standard library and ``cds_b12.clinical``.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..assess import Assessment
from ..facts import CauseFact, Fact, Findings, Interval, LastDose
from ..recommendation import Indicator, Kind, LabOrder, Recommendation, Urgency, Variant
from ..regimens import Regimen
from ..sources import RULE_SOURCES, cite


def common_facts(a: Assessment) -> dict[str, Fact]:
    """The facts any card may quote (cards/README.md lists them)."""
    review = a.profile.pregnancy_review_days if a.pregnant else a.profile.review_days
    last_dose = None
    if a.last_dose is not None and a.days_since_last_dose is not None:
        last_dose = LastDose(a.last_dose, a.days_since_last_dose)
    return {
        "as_of": a.as_of,
        "b12": a.b12,
        "hb": a.hb,
        "mcv": a.mcv,
        "mma": a.mma,
        "cause": CauseFact(a.cause, Findings.of(a.cause_findings)),
        "neuro": Findings.of(a.neuro_findings),
        "last_dose": last_dose,
        "interval": Interval(a.interval_days) if a.interval_days is not None else None,
        "review_date": a.as_of + timedelta(days=review),
    }


def recommend(
    a: Assessment,
    rule: str,
    indicator: Indicator,
    kind: Kind,
    *,
    urgency: Urgency = Urgency.ROUTINE,
    regimen: Regimen | None = None,
    alternative: Regimen | None = None,
    labs: tuple[LabOrder, ...] = (),
    draft_id: str | None = None,
    start_on: date | None = None,
    overdue_since: date | None = None,
    variant: Variant | None = None,
    **facts: Fact,
) -> Recommendation:
    """A Recommendation with the common facts merged under the rule's own, citing the
    rule's declared sources in the profile's order (``sources.cite``)."""
    return Recommendation(
        rule=rule,
        indicator=indicator,
        kind=kind,
        urgency=urgency,
        sources=cite(RULE_SOURCES[rule], a.profile.citation_region),
        regimen=regimen,
        alternative=alternative,
        labs=labs,
        facts={**common_facts(a), **facts},
        draft_id=draft_id,
        start_on=start_on,
        overdue_since=overdue_since,
        variant=variant,
    )
