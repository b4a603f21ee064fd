"""The facts the clinical layer sends for each rule, typed as the core sends them.

Facts are long but realistic (several findings each), so a summary that only fits
with short values fails here. A plain module with a unique name (not conftest) so
test modules can import it.
"""

from __future__ import annotations

from datetime import date

from cds_b12.clinical.cause import Cause
from cds_b12.clinical.facts import (
    Agents,
    CauseFact,
    Confoundings,
    DailyDose,
    Direction,
    Fact,
    Findings,
    Interval,
    LabTrend,
    LastDose,
    Latest,
    Markers,
    Since,
    Stopped,
    Trends,
    Unreadables,
    Years,
)
from cds_b12.clinical.markers import Confounded, Confounder
from cds_b12.clinical.record import (
    Finding,
    Lab,
    LabKind,
    Medication,
    MedSource,
    Product,
    Quantity,
    Route,
    Unreadable,
    UnreadableResult,
)
from cds_b12.render.thresholds import PROFILE_PLACEHOLDERS

from .render_support import AS_OF


def _lab(kind: LabKind, value: float, on: date, reported: Quantity | None = None) -> Lab:
    return Lab(kind, value, on, f"Observation/{kind.value.lower()}-1", reported=reported)


def findings(*items: tuple[Finding, date | None]) -> Findings:
    """Findings as the core sends them, each with the date it was recorded (or None)."""
    return Findings(tuple(Since(finding, on) for finding, on in items))


def _medication(
    product: Product, ingredient: str | None, dose_mg: float, route: Route
) -> Medication:
    return Medication(
        MedSource.REQUEST,
        product,
        "MedicationRequest/draft-1",
        "draft",
        ingredient,
        dose_mg=dose_mg,
        route=route,
    )


# Typed, as the clinical core sends them; several findings each, so the words are long.
ALWAYS_FACTS: dict[str, Fact] = {
    "as_of": date(2026, 1, 15),
    "b12": _lab(LabKind.B12, 152.0, date(2026, 1, 3), Quantity(112.2, "pmol/L")),
    "hb": _lab(LabKind.HB, 7.9, date(2026, 1, 3)),
    "mcv": _lab(LabKind.MCV, 112.0, date(2026, 1, 3)),
    "mma": _lab(LabKind.MMA, 0.62, date(2026, 1, 4)),
    "hcy": _lab(LabKind.HCY, 24.0, date(2026, 1, 4)),
    "markers": Markers(
        (_lab(LabKind.MMA, 0.62, date(2026, 1, 4)), _lab(LabKind.HCY, 24.0, date(2026, 1, 4)))
    ),
    "cause": CauseFact(
        Cause.IRREVERSIBLE_MALABSORPTION,
        findings(
            (Finding.PERNICIOUS_ANAEMIA, date(2019, 4, 2)),
            (Finding.GASTRECTOMY, date(2021, 9, 14)),
            (Finding.ATROPHIC_GASTRITIS, None),
        ),
    ),
    "neuro": findings(
        (Finding.NEURO, date(2025, 11, 2)), (Finding.NEURO_SEVERE, date(2025, 12, 20))
    ),
    "last_dose": LastDose(date(2025, 12, 1), 45),
    "interval": Interval(90.0),
    "review_date": date(2026, 4, 15),
}

RULE_FACTS: dict[str, dict[str, Fact]] = {
    "R1-start-neuro-loading": {},
    "R2-start-standard-loading": {},
    "R3-dietary-oral": {},
    "R4-medication-cause": {
        "drug": Agents((Product.METFORMIN, Product.ACID_SUPPRESSANT), nitrous_oxide=True)
    },
    "R5-indeterminate-order-mma": {},
    "R6-indeterminate-neuro": {},
    "R7-severe-anaemia": {
        "wbc": _lab(LabKind.WBC, 2.3, date(2026, 1, 14)),
        "neutrophils": _lab(LabKind.NEUTROPHILS, 0.9, date(2026, 1, 14)),
        "platelets": _lab(LabKind.PLATELETS, 62, date(2026, 1, 14)),
        "potassium": _lab(LabKind.POTASSIUM, 3.1, date(2026, 1, 16)),
        "loading_start": date(2026, 1, 15),
    },
    "R8-suboptimal-response": {
        "course_day": 12,
        "retic": _lab(LabKind.RETIC, 1.1, date(2026, 1, 13)),
    },
    "R9-neuro-loading-continue": {"draft_schedule": Interval(60.0)},
    "R10-start-maintenance": {"doses_given": 6, "loading_start": date(2025, 12, 29)},
    "R11-maintenance-overdue": {"due_date": date(2026, 2, 1), "days_overdue": 23},
    "R12-missed-doses": {
        "due_date": date(2025, 11, 1),
        "days_overdue": 75,
        "missed_doses": 2,
    },
    "R13-intensify-interval": {
        "recurrence": findings(
            (Finding.NEURO, date(2025, 10, 2)), (Finding.NEURO_SEVERE, date(2025, 12, 5))
        ),
        "new_interval": Interval(60.0),
    },
    "R14-lab-drift": {
        "drift": Trends(
            (
                LabTrend(
                    LabKind.HB,
                    Direction.FELL,
                    _lab(LabKind.HB, 13.4, date(2025, 3, 1)),
                    _lab(LabKind.HB, 11.6, date(2026, 1, 3)),
                ),
                LabTrend(
                    LabKind.MCV,
                    Direction.ROSE,
                    _lab(LabKind.MCV, 92.0, date(2025, 3, 1)),
                    _lab(LabKind.MCV, 103.0, date(2026, 1, 3)),
                ),
            )
        ),
    },
    "R15-b12-order-on-maintenance": {"retest_min_days": 42},
    "R16-consider-stop": {"resolved": Stopped(Product.ACID_SUPPRESSANT, date(2025, 6, 1))},
    "R17-metformin-screening": {
        "metformin_years": Years(2374),
        "metformin_dose": DailyDose(2000.0),
        "last_b12": date(2023, 5, 2),
    },
    "R18-acid-suppressant-screening": {
        "drug": Product.ACID_SUPPRESSANT,
        "drug_years": Years(1168),
        "last_b12": None,
    },
    "R19-bariatric-prophylaxis": {
        "surgery": findings(
            (Finding.BARIATRIC_BYPASS, date(2021, 9, 14)),
            (Finding.SLEEVE_GASTRECTOMY, date(2019, 2, 1)),
        ),
    },
    "R20-folate-without-b12": {
        "folate_order": _medication(Product.FOLIC_ACID, None, 5.0, Route.ORAL),
    },
    "R26-interrupted-course": {
        "doses_given": 3,
        "doses_due": 6,
        "doses_remaining": 3,
        "loading_start": date(2025, 12, 1),
        "b12_before": _lab(LabKind.B12, 112.0, date(2025, 11, 20), Quantity(82.6, "pmol/L")),
        "latest_b12": Latest(None),
        "restart_after_days": 90,
    },
    "R27-oral-relapse": {
        "oral": _medication(Product.B12_ORAL_HIGH, "cyanocobalamin", 1.0, Route.ORAL),
        "oral_since": date(2025, 6, 1),
        "relapse": findings(
            (Finding.NEURO, date(2025, 12, 20)), (Finding.GLOSSITIS, date(2025, 12, 28))
        ),
    },
    "R21-cyanocobalamin-contraindicated": {
        "reason": Finding.LEBER,
        "product": _medication(Product.B12_INJECTION, "cyanocobalamin", 1.0, Route.IM),
    },
    "R22-raised-b12": {"earlier_b12": _lab(LabKind.B12, 1380, date(2025, 10, 5))},
    "R23-not-adult": {"age": 6, "adult_age": 16},
    "R24-confounded-marker": {
        "confounded": Confoundings(
            (
                Confounded(
                    _lab(LabKind.MMA, 0.62, date(2026, 1, 5)),
                    Confounder.RENAL,
                    _lab(LabKind.EGFR, 34, date(2026, 1, 5)),
                ),
            ),
            (_lab(LabKind.EGFR, 34, date(2026, 1, 5)),),
        ),
        "hcy": None,
    },
    "R25-unreadable-result": {
        "unreadable": Unreadables(
            (UnreadableResult(LabKind.B12, "Observation/b12-2", AS_OF, Unreadable.NO_UNIT),)
        ),
    },
    "R28-order-dose-error": {
        "product": _medication(Product.B12_INJECTION, "cyanocobalamin", 1000.0, Route.IM),
    },
    "R29-over-treatment": {
        "product": _medication(Product.B12_INJECTION, "cyanocobalamin", 1.0, Route.IM),
    },
}
RULES = tuple(RULE_FACTS)

AUTOMATIC = frozenset({"profile", *PROFILE_PLACEHOLDERS})  # the profile's values: every card
REGIMEN_PLACEHOLDERS = frozenset({"regimen", "schedule", "alternative"})


def facts_for(rule: str) -> dict[str, Fact]:
    """Every fact the clinical layer promises for ``rule``."""
    return {**ALWAYS_FACTS, **RULE_FACTS[rule]}
