"""Clinical core: what else raises a functional marker (§2.4, §2.5), for R24.

Imports only the standard library and ``cds_b12.clinical``. Pure: results,
findings, the profile and ``as_of`` in; the raised markers that another cause on
file explains out. MMA is falsely raised in renal impairment (§2.4); homocysteine
also in folate deficiency and renal impairment (§2.5, BSH key recommendation 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .bands import at_most, below, latest, upper_limit
from .profiles import Profile
from .record import ClinicalFinding, Finding, Lab, LabKind


class Confounder(StrEnum):
    RENAL = "RENAL"  # eGFR below the profile's cut-off, or CKD or dialysis recorded
    FOLATE = "FOLATE"  # serum folate below the lab's lower limit, else the profile's


@dataclass(frozen=True, slots=True)
class Confounded:
    """A raised MMA or homocysteine, and the cause on file that can explain it."""

    marker: Lab
    confounder: Confounder
    result: Lab | None  # the eGFR or folate that shows the confounder, when one does
    findings: tuple[ClinicalFinding, ...] = ()  # CKD or dialysis records


# Which causes raise which marker, most specific first.
_RAISED_BY = {
    LabKind.MMA: (Confounder.RENAL,),
    LabKind.HCY: (Confounder.FOLATE, Confounder.RENAL),
}


def confounded_markers(
    of: Mapping[LabKind, Sequence[Lab]],
    findings: tuple[ClinicalFinding, ...],
    markers: tuple[Lab | None, ...],
    p: Profile,
    as_of: date,
) -> tuple[Confounded, ...]:
    """Each raised marker in ``markers`` that a confounder on file can explain (``of``: the
    results up to ``as_of`` by kind, oldest first)."""
    egfr = latest(of.get(LabKind.EGFR, ()), as_of, p)
    low_egfr = egfr if egfr and below(egfr, p.renal_impairment_egfr_below) else None
    kidney = tuple(f for f in findings if f.active and f.finding is Finding.RENAL_IMPAIRMENT)
    folate = latest(of.get(LabKind.FOLATE, ()), as_of, p)
    folate_floor = p.folate_deficient_below_ng_ml
    if folate is not None and folate.ref_low is not None:
        folate_floor = folate.ref_low
    low_folate = folate if folate and below(folate, folate_floor) else None
    found = []
    for marker in markers:
        if marker is None or not raised(marker, p):
            continue
        for confounder in _RAISED_BY[marker.kind]:
            if confounder is Confounder.FOLATE and low_folate:
                found.append(Confounded(marker, confounder, low_folate))
                break
            if confounder is Confounder.RENAL and (low_egfr or kidney):
                found.append(Confounded(marker, confounder, low_egfr, kidney))
                break
    return tuple(found)


def raised(marker: Lab, p: Profile) -> bool:
    """Above the lab's upper limit, else the profile's (§6.1 ``functional``)."""
    default = p.mma_upper_umol_l if marker.kind is LabKind.MMA else p.hcy_upper_umol_l
    return at_most(marker, upper_limit(marker, default)) is False
