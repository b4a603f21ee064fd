"""Small builders for typed patient records, dated relative to AS_OF.

Unit tests of the clinical core build records directly (no FHIR), so a rule
can be tested one condition at a time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from cds_b12.clinical.record import (
    ClinicalFinding,
    DraftOrder,
    Finding,
    Lab,
    LabKind,
    Medication,
    MedSource,
    Patient,
    PatientRecord,
    Product,
    Route,
    Timing,
    UnreadableResult,
)

AS_OF = date(2026, 3, 1)
MONTHLY = Timing(1, 1, None, "mo")
THREE_MONTHLY = Timing(1, 3, None, "mo")
THREE_A_WEEK = Timing(3, 1, None, "wk")
ALTERNATE_DAYS = Timing(1, 2, None, "d")
TWICE_DAILY = Timing(2, 1, None, "d")


def ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


def lab(kind: LabKind, value: float, days: int = 3, **kw) -> Lab:
    return Lab(kind, value, ago(days), f"Observation/{kind.value.lower()}-{days}", **kw)


def finding(f: Finding, days: int = 400, active: bool = True, **kw) -> ClinicalFinding:
    return ClinicalFinding(f, f"Condition/{f.value.lower()}", active, ago(days), **kw)


PA = finding(Finding.PERNICIOUS_ANAEMIA)  # the usual cause in these tests: active, 400 days old


def dose(
    days: int, ingredient: str = "cyanocobalamin", product: Product = Product.B12_INJECTION
) -> Medication:
    return Medication(
        MedSource.ADMINISTRATION,
        product,
        f"MedicationAdministration/d{days}",
        "completed",
        ingredient,
        on=ago(days),
        dose_mg=1.0,
        route=Route.IM,
    )


def doses(*days: int, ingredient: str = "cyanocobalamin") -> tuple[Medication, ...]:
    return tuple(dose(d, ingredient) for d in days)


def order(
    timing: Timing | None = MONTHLY,
    days: int = 700,
    status: str = "active",
    product=Product.B12_INJECTION,
    ingredient: str | None = "cyanocobalamin",
    dose_mg: float | None = 1.0,
    route: Route = Route.IM,
    **kw,
) -> Medication:
    return Medication(
        MedSource.REQUEST,
        product,
        f"MedicationRequest/o{days}",
        status,
        ingredient,
        intent="order",
        on=ago(days),
        dose_mg=dose_mg,
        route=route,
        timing=timing,
        **kw,
    )


def metformin(days: int = 6 * 365, dose_mg: float = 1000, **kw) -> Medication:
    return order(
        TWICE_DAILY,
        days,
        product=Product.METFORMIN,
        ingredient=None,
        dose_mg=dose_mg,
        route=Route.ORAL,
        **kw,
    )


def draft_med(med: Medication, rid: str = "MedicationRequest/draft-1") -> DraftOrder:
    return DraftOrder(
        "MedicationRequest",
        rid,
        {"resourceType": "MedicationRequest", "id": rid.split("/")[1]},
        medication=replace(med, status="draft", resource_id=rid),
    )


def draft_lab(kind: LabKind = LabKind.B12, rid: str = "ServiceRequest/draft-1") -> DraftOrder:
    return DraftOrder(
        "ServiceRequest", rid, {"resourceType": "ServiceRequest", "id": rid.split("/")[1]}, lab=kind
    )


def record(*items, sex: str = "female", age: int = 60) -> PatientRecord:
    """A record from a mix of Labs, Medications, ClinicalFindings, DraftOrders and
    UnreadableResults."""
    born = date(AS_OF.year - age, 1, 1)
    return PatientRecord(
        patient=Patient("Patient/p1", sex, born),
        labs=tuple(i for i in items if isinstance(i, Lab)),
        medications=tuple(i for i in items if isinstance(i, Medication)),
        findings=tuple(i for i in items if isinstance(i, ClinicalFinding)),
        drafts=tuple(i for i in items if isinstance(i, DraftOrder)),
        unreadable=tuple(i for i in items if isinstance(i, UnreadableResult)),
    )
