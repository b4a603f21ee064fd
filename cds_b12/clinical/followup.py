"""Clinical core: follow-up lab timing after treatment starts (``b12-clinical.md`` §2.7).

Imports only the standard library and ``cds_b12.clinical``. Test keys are
those of ``codes.ORDERABLE_LABS``.
"""

from __future__ import annotations

from datetime import date, timedelta

from .assess import Assessment, Cause
from .recommendation import LabOrder

RETIC_RESPONSE_DAYS = (7, 10)  # §2.7: reticulocyte peak day 5-7, up to 10 (Lothian: 7-10)
RETIC_SEVERE_DAYS = (5, 7)  # R7: retic day 5-7
CBC_NORMALISED_DAYS = 56  # §2.7: FBC normalises by 8 weeks
POTASSIUM_WINDOW_DAYS = 2  # §2.7 / S6: hypokalaemia risk in the first 48 h


def on(day: date, test: str, note: str = "") -> LabOrder:
    return LabOrder(test, day, note=note)


def window(start: date, days: tuple[int, int], test: str, note: str = "") -> LabOrder:
    return LabOrder(test, start + timedelta(days=days[0]), start + timedelta(days=days[1]), note)


def baseline_labs(a: Assessment, *, antibodies: bool, pca: bool = False) -> tuple[LabOrder, ...]:
    """S13: draw before dose 1; treatment invalidates later B12 and IF-antibody results."""
    tests = ["CBC", "RETIC", "FOLATE", "FERRITIN"]
    if a.b12 is None:
        tests.append("B12")
    if antibodies and a.cause is not Cause.IRREVERSIBLE_MALABSORPTION:
        tests.append("IF_AB")
        if pca:
            tests.append("PCA")
    return tuple(on(a.as_of, t, "baseline") for t in tests)


def potassium_labs(start: date) -> tuple[LabOrder, ...]:
    """S6: K+ at baseline and within 48 hours when Hb < 8 g/dL."""
    return (
        on(start, "POTASSIUM", "baseline"),
        LabOrder(
            "POTASSIUM",
            start + timedelta(days=1),
            start + timedelta(days=POTASSIUM_WINDOW_DAYS),
            "48h",
        ),
    )


def response_labs(start: date) -> tuple[LabOrder, ...]:
    """Retic at day 7-10 and CBC with retic at 8 weeks (§2.7, Lothian)."""
    eight_weeks = start + timedelta(days=CBC_NORMALISED_DAYS)
    return (
        window(start, RETIC_RESPONSE_DAYS, "RETIC", "response"),
        on(eight_weeks, "CBC", "8 weeks"),
        on(eight_weeks, "RETIC", "8 weeks"),
    )


def merge(*groups: tuple[LabOrder, ...]) -> tuple[LabOrder, ...]:
    """Concatenate lab orders, keeping the first of any (test, date) duplicate."""
    seen: set[tuple[str, date]] = set()
    out: list[LabOrder] = []
    for group in groups:
        for lab in group:
            if (lab.test, lab.due_from) not in seen:
                seen.add((lab.test, lab.due_from))
                out.append(lab)
    return tuple(out)
