"""Issue 12 (§2, §5, §9): the course actually given, the route actually prescribed, and
what a relapse on it means, on hand-built records."""

from __future__ import annotations

from cds_b12.clinical import evaluate
from cds_b12.clinical.assess import Phase, assess
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Indicator, Kind, Variant
from cds_b12.clinical.record import Finding, Medication, MedSource, Product, Route

from .records import (
    AS_OF,
    MONTHLY,
    THREE_MONTHLY,
    Timing,
    ago,
    doses,
    finding,
    order,
    record,
)

PA = finding(Finding.PERNICIOUS_ANAEMIA)
DAILY = Timing(1, 1, None, "d")


def rules(rec, profile=US) -> dict[str, object]:
    return {r.rule: r for r in evaluate(rec, profile, AS_OF).recommendations}


def statement(start: int = 300) -> Medication:
    """As the reader gives one: ``on`` is the effective start (dateAsserted only without it)."""
    return Medication(
        MedSource.STATEMENT,
        Product.B12_INJECTION,
        "MedicationStatement/s1",
        "active",
        "cyanocobalamin",
        on=ago(start),
        start=ago(start),
        dose_mg=1.0,
        route=Route.IM,
        timing=MONTHLY,
    )


def oral_order(days: int = 200, **kw) -> Medication:
    return order(DAILY, days, product=Product.B12_ORAL_HIGH, route=Route.ORAL, **kw)


# ---- §5: a MedicationStatement (or an order) is not a dosing record ----


def test_a_statement_alone_counts_no_missed_doses_and_asks_for_the_dates():
    rec = record(PA, statement())
    a = assess(rec, US, AS_OF)
    assert a.last_dose is None and a.missed_doses == 0
    (r,) = evaluate(rec, US, AS_OF).recommendations
    assert r.rule == "R11-maintenance-overdue" and r.variant is Variant.NO_DOSE_DATES
    assert r.kind is Kind.CHECK_RECORD and r.indicator is Indicator.INFO
    assert r.regimen is None and r.overdue_since is None
    assert r.facts["on_regimen_since"] == ago(300)


def test_an_order_alone_is_not_a_dose_either():
    rec = record(finding(Finding.GASTRECTOMY), order(MONTHLY, days=280))
    found = rules(rec)
    assert set(found) == {"R11-maintenance-overdue"}
    assert found["R11-maintenance-overdue"].variant is Variant.NO_DOSE_DATES


def test_a_new_order_without_doses_is_not_yet_a_question():
    assert rules(record(PA, order(MONTHLY, days=20))) == {}


def test_missed_doses_still_count_from_administrations():
    rec = record(PA, statement(), *doses(75, 105, 135))
    found = rules(rec)
    assert found["R12-missed-doses"].facts["missed_doses"] == 2


# ---- §9: an oral regimen is a regimen ----


def test_stable_on_high_dose_oral_after_injections_is_the_oral_phase():
    rec = record(PA, order(MONTHLY, days=700, status="completed"), oral_order(), *doses(230, 260))
    assert assess(rec, US, AS_OF).phase is Phase.ORAL
    assert rules(rec) == {}


def test_an_oral_order_older_than_the_injections_does_not_hide_them():
    rec = record(PA, oral_order(days=700), order(MONTHLY, days=400), *doses(75, 105, 135))
    assert assess(rec, US, AS_OF).phase is Phase.MAINTENANCE
    assert "R12-missed-doses" in rules(rec)


def test_a_dietary_supplement_beside_injections_does_not_change_the_phase():
    low = order(DAILY, 30, product=Product.B12_ORAL_LOW, route=Route.ORAL, dose_mg=0.1)
    rec = record(PA, order(THREE_MONTHLY, days=400), low, *doses(60, 150, 240))
    assert assess(rec, UK, AS_OF).phase is Phase.MAINTENANCE
