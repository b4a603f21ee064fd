"""Clinical core: why the patient is B12 deficient, and whether the nerves are involved (§6.1).

Imports only the standard library and ``cds_b12.clinical``. Pure: findings,
medications, the profile and ``as_of`` in; ``CauseFindings`` out. When several
causes apply the most severe wins; irreversible ones count even if coded inactive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .codes import IRREVERSIBLE_FINDINGS
from .profiles import Profile
from .record import (
    ADMINISTRATION,
    STATEMENT,
    ClinicalFinding,
    Finding,
    Medication,
    Product,
)


class Neuro(StrEnum):
    NONE = "NONE"
    PRESENT = "PRESENT"
    SEVERE = "SEVERE"


class Cause(StrEnum):
    IRREVERSIBLE_MALABSORPTION = "IRREVERSIBLE_MALABSORPTION"
    POSSIBLY_REVERSIBLE_GI = "POSSIBLY_REVERSIBLE_GI"
    MEDICATION = "MEDICATION"
    DIETARY = "DIETARY"
    UNKNOWN = "UNKNOWN"


ACTIVE_ORDER = frozenset({"active", "on-hold"})
ACTIVE_STATEMENT = frozenset({"active", "intended", "on-hold"})
NEURO_FINDINGS = (Finding.NEURO, Finding.NEURO_SEVERE)
_GI_REVERSIBLE = (Finding.COELIAC, Finding.CROHNS, Finding.MALABSORPTION)
# the irreversible causes, with a sleeve gastrectomy for a profile that counts it one
_IRREVERSIBLE_WITH_SLEEVE = IRREVERSIBLE_FINDINGS | {Finding.SLEEVE_GASTRECTOMY}


@dataclass(frozen=True, slots=True)
class Exposure:
    """How long a risk drug has been taken, for R4, R16, R17 and R18."""

    medication: Medication
    since: date | None
    days: int | None
    mg_per_day: float | None
    active: bool
    stopped_on: date | None


@dataclass(frozen=True, slots=True)
class CauseFindings:
    neuro: Neuro
    neuro_findings: tuple[ClinicalFinding, ...]  # active neurological signs
    cause: Cause
    cause_findings: tuple[ClinicalFinding, ...]
    metformin: Exposure | None
    acid_suppressant: Exposure | None
    nitrous_oxide: tuple[ClinicalFinding, ...]  # current exposure (S12, SP-9)


def assess_cause(
    findings: tuple[ClinicalFinding, ...], meds: tuple[Medication, ...], p: Profile, as_of: date
) -> CauseFindings:
    """The §6.1 ``cause`` and ``neuro`` inputs."""
    neuro_findings = tuple(f for f in findings if f.active and f.finding in NEURO_FINDINGS)
    neuro = (
        Neuro.SEVERE
        if any(f.finding is Finding.NEURO_SEVERE for f in neuro_findings)
        else Neuro.PRESENT
        if neuro_findings
        else Neuro.NONE
    )
    metformin = _exposure(meds, Product.METFORMIN, as_of)
    acid = _exposure(meds, Product.ACID_SUPPRESSANT, as_of)
    cause, cause_findings = _cause(findings, metformin, acid, p)
    n2o = tuple(f for f in findings if f.active and f.finding is Finding.NITROUS_OXIDE)
    return CauseFindings(neuro, neuro_findings, cause, cause_findings, metformin, acid, n2o)


def any_neuro(findings: tuple[ClinicalFinding, ...]) -> bool:
    """Neurological signs ever recorded, active or not (a neuro history)."""
    return any(f.finding in NEURO_FINDINGS for f in findings)


def is_current(m: Medication, as_of: date) -> bool:
    """An order or statement still in force on ``as_of`` (status and end date)."""
    if m.end is not None and m.end < as_of:
        return False
    statuses = ACTIVE_STATEMENT if m.source is STATEMENT else ACTIVE_ORDER
    return m.status in statuses


def _cause(
    findings: tuple[ClinicalFinding, ...],
    metformin: Exposure | None,
    acid: Exposure | None,
    p: Profile,
) -> tuple[Cause, tuple[ClinicalFinding, ...]]:
    irreversible = _IRREVERSIBLE_WITH_SLEEVE if p.sleeve_is_irreversible else IRREVERSIBLE_FINDINGS
    found = tuple(f for f in findings if f.finding in irreversible)
    if found:
        return Cause.IRREVERSIBLE_MALABSORPTION, found
    found = tuple(f for f in findings if f.active and f.finding in _GI_REVERSIBLE)
    if not p.sleeve_is_irreversible:
        found += tuple(f for f in findings if f.finding is Finding.SLEEVE_GASTRECTOMY)
    if found:
        return Cause.POSSIBLY_REVERSIBLE_GI, found
    drug_risk = (
        metformin and metformin.active and (metformin.days or 0) >= p.metformin_cause_days
    ) or (acid and acid.active and (acid.days or 0) >= p.acid_suppressant_risk_days)
    n2o = tuple(f for f in findings if f.active and f.finding is Finding.NITROUS_OXIDE)
    if drug_risk or n2o:
        return Cause.MEDICATION, n2o
    found = tuple(f for f in findings if f.active and f.finding is Finding.DIETARY_DEFICIENCY)
    if found:
        return Cause.DIETARY, found
    return Cause.UNKNOWN, ()


def _exposure(meds: tuple[Medication, ...], product: Product, as_of: date) -> Exposure | None:
    """Continuous use of a risk drug, from its earliest record (SP-4, SP-6, US-5)."""
    found = [m for m in meds if m.product is product and m.source is not ADMINISTRATION]
    if not found:
        return None
    active = [m for m in found if is_current(m, as_of)]
    starts = [d for m in found for d in (m.start, m.on) if d is not None]
    since = min(starts) if starts else None
    current = active[-1] if active else found[-1]
    mg_day = None
    if current.dose_mg is not None and current.timing and current.timing.interval_days:
        mg_day = current.dose_mg / current.timing.interval_days
    stopped_on = None
    if not active:
        ends = [m.end or m.on for m in found if (m.end or m.on) is not None]
        stopped_on = max(ends) if ends else None
    return Exposure(
        medication=current,
        since=since,
        days=(as_of - since).days if since else None,
        mg_per_day=mg_day,
        active=bool(active),
        stopped_on=stopped_on,
    )
