"""Clinical core: the patient's own values, as strings the card wording quotes.

Imports only the standard library and ``cds_b12.clinical``. Every
Recommendation carries these common facts, so any card template may quote them;
rules add their own. Values are plain text with units and ISO dates.
"""

from __future__ import annotations

from datetime import date, timedelta

from .assess import Assessment, Cause
from .recommendation import Indicator, Kind, LabOrder, Recommendation, Urgency
from .record import ClinicalFinding, Finding, Lab, Product
from .regimens import Regimen
from .sources import RULE_SOURCES, cite

NOT_ON_FILE = "no result on file"

FINDING_NAMES = {
    Finding.PERNICIOUS_ANAEMIA: "pernicious anaemia",
    Finding.ATROPHIC_GASTRITIS: "atrophic gastritis",
    Finding.GASTRECTOMY: "gastrectomy",
    Finding.BARIATRIC_BYPASS: "gastric bypass surgery",
    Finding.SLEEVE_GASTRECTOMY: "sleeve gastrectomy",
    Finding.ILEAL_RESECTION: "ileal resection",
    Finding.SHORT_BOWEL: "short bowel syndrome",
    Finding.CROHNS: "Crohn's disease",
    Finding.COELIAC: "coeliac disease",
    Finding.MALABSORPTION: "malabsorption",
    Finding.B12_DEFICIENCY: "B12 deficiency",
    Finding.DIETARY_DEFICIENCY: "vegan or B12-poor diet",
    Finding.NEURO: "neuropathy or paraesthesia",
    Finding.NEURO_SEVERE: "cognitive, cord or optic signs",
    Finding.LEBER: "Leber hereditary optic neuropathy",
    Finding.COBALT_B12_ALLERGY: "cobalt or B12 hypersensitivity",
    Finding.PREGNANCY: "pregnancy",
    Finding.NITROUS_OXIDE: "nitrous oxide exposure",
}

PRODUCT_NAMES = {
    Product.METFORMIN: "metformin",
    Product.ACID_SUPPRESSANT: "acid suppression (PPI or H2RA)",
    Product.FOLIC_ACID: "folic acid",
}

_CAUSE_NAMES = {
    Cause.MEDICATION: "long-term metformin or acid suppression",
    Cause.UNKNOWN: "no cause recorded",
}


def lab_text(lab: Lab | None) -> str:
    if lab is None:
        return NOT_ON_FILE
    return f"{lab.value:g} {lab.kind.unit} on {lab.on.isoformat()}"


def findings_text(findings: tuple[ClinicalFinding, ...]) -> str:
    """Each finding once, with its earliest date, oldest first: the same text whatever order
    the EHR sent the resources in (a Condition and a Procedure often record one event)."""
    first: dict[Finding, date | None] = {}
    for f in findings:
        known = first.get(f.finding, f.on)
        first[f.finding] = min(d for d in (known, f.on) if d) if known or f.on else None
    ordered = sorted(first.items(), key=lambda item: (item[1] or date.max, FINDING_NAMES[item[0]]))
    return ", ".join(
        FINDING_NAMES[finding] + (f" (since {on.isoformat()})" if on else "")
        for finding, on in ordered
    )


def cause_text(a: Assessment) -> str:
    if a.cause_findings:
        return findings_text(a.cause_findings)
    return _CAUSE_NAMES.get(a.cause, a.cause.value.lower().replace("_", " "))


def interval_text(days: float | None) -> str:
    if days is None:
        return "not set"
    if days >= 28 and round(days / 30, 1) == int(days / 30):
        months = int(days / 30)
        return "every month" if months == 1 else f"every {months} months"
    if days % 7 == 0:
        weeks = int(days // 7)
        return "every week" if weeks == 1 else f"every {weeks} weeks"
    return f"every {days:g} days"


def common_facts(a: Assessment) -> dict[str, str]:
    """The facts any card may quote."""
    review = a.profile.pregnancy_review_days if a.pregnant else a.profile.review_days
    last_dose = "none recorded"
    if a.last_dose is not None:
        last_dose = f"{a.last_dose.isoformat()} ({a.days_since_last_dose} days ago)"
    return {
        "as_of": a.as_of.isoformat(),
        "b12": lab_text(a.b12),
        "hb": lab_text(a.hb),
        "mcv": lab_text(a.mcv),
        "mma": lab_text(a.mma),
        "cause": cause_text(a),
        "neuro": findings_text(a.neuro_findings) or "none recorded",
        "last_dose": last_dose,
        "interval": interval_text(a.interval_days),
        "review_date": (a.as_of + timedelta(days=review)).isoformat(),
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
    **facts: str,
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
    )
