"""read_record on how a medication is given: dose (with its strength), route and timing,
and the route assumed when none is stated, across the three medication resources.

The rules judge intervals and doses from these values, so each shape an EHR writes them
in must read the same.
"""

from datetime import date

import pytest

from cds_b12.clinical.record import MedSource, Product, Route

from .read_support import (
    GTS,
    RX_CYANOCOBALAMIN,
    RX_CYANOCOBALAMIN_INJ_1MG_ML,
    RX_CYANOCOBALAMIN_ORAL_1MG,
    RX_HYDROXOCOBALAMIN,
    RX_HYDROXOCOBALAMIN_INJ_1MG_ML,
    RX_NASCOBAL,
    SCT_IM,
    SCT_NASAL,
    SCT_ORAL,
    SCT_SC,
    SNOMED,
    V3_ROUTE,
    concept,
    med_administration,
    med_request,
    med_statement,
    messages,
    only,
    quantity,
    read,
    rx,
)


def test_coded_injection_with_dose_route_and_timing():
    request = med_request(
        "mr1",
        rx(RX_HYDROXOCOBALAMIN_INJ_1MG_ML),
        route=concept(SNOMED, SCT_IM, "Intramuscular route"),
        dose=quantity(1, "mL"),
        timing={"repeat": {"frequency": 3, "period": 1, "periodUnit": "wk"}},
    )
    request["dispenseRequest"] = {"validityPeriod": {"start": "2024-04-01", "end": "2024-04-15"}}
    med = only(read(request).medications)
    assert med.source is MedSource.REQUEST
    assert med.product is Product.B12_INJECTION
    assert med.is_b12_therapy and med.is_injection
    assert med.ingredient == "hydroxocobalamin"
    assert med.resource_id == "MedicationRequest/mr1"
    assert (med.status, med.intent) == ("active", "order")
    assert (med.on, med.start, med.end) == (date(2024, 4, 1), date(2024, 4, 1), date(2024, 4, 15))
    assert med.dose_mg == 1.0  # 1 mL of 1 mg/mL
    assert med.route is Route.IM
    assert med.timing.interval_days == pytest.approx(7 / 3)


@pytest.mark.parametrize(
    ("repeat", "interval", "interval_max"),
    [
        ({"frequency": 3, "period": 1, "periodUnit": "wk"}, 7 / 3, 7 / 3),
        ({"frequency": 1, "period": 2, "periodUnit": "d"}, 2, 2),
        ({"period": 2, "periodMax": 3, "periodUnit": "mo"}, 60, 90),
        ({"frequency": 1, "period": 1, "periodUnit": "mo"}, 30, 30),
    ],
)
def test_timing_repeat(repeat, interval, interval_max):
    request = med_request("mr1", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), timing={"repeat": repeat})
    timing = only(read(request).medications).timing
    assert timing.interval_days == pytest.approx(interval)
    assert timing.interval_max_days == pytest.approx(interval_max)


def test_timing_repeat_as_written():
    request = med_request(
        "mr1",
        rx(RX_CYANOCOBALAMIN_INJ_1MG_ML),
        timing={"repeat": {"period": 2, "periodMax": 3, "periodUnit": "mo"}},
    )
    timing = only(read(request).medications).timing
    assert (timing.frequency, timing.period, timing.period_max, timing.period_unit) == (
        1,
        2,
        3,
        "mo",
    )


@pytest.mark.parametrize(("code", "interval"), [("QOD", 2), ("WK", 7), ("MO", 30), ("BID", 0.5)])
def test_timing_code(code, interval):
    request = med_request(
        "mr1", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), timing={"code": concept(GTS, code)}
    )
    assert only(read(request).medications).timing.interval_days == pytest.approx(interval)


def test_bounds_period_when_no_validity_period():
    request = med_request(
        "mr1",
        rx(RX_CYANOCOBALAMIN_INJ_1MG_ML),
        timing={
            "repeat": {
                "boundsPeriod": {"start": "2024-04-03", "end": "2024-06-03"},
                "period": 1,
                "periodUnit": "mo",
            }
        },
    )
    med = only(read(request).medications)
    assert (med.start, med.end) == (date(2024, 4, 3), date(2024, 6, 3))


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (concept(SNOMED, SCT_IM), Route.IM),
        (concept(SNOMED, SCT_SC), Route.SC),
        (concept(SNOMED, SCT_ORAL), Route.ORAL),
        (concept(SNOMED, SCT_NASAL), Route.NASAL),
        (concept(V3_ROUTE, "IM"), Route.IM),
        (concept(V3_ROUTE, "SQ"), Route.SC),
        (concept(V3_ROUTE, "PO"), Route.ORAL),
        (concept(V3_ROUTE, "NASINHL"), Route.NASAL),
        ({"text": "Intramuscular"}, Route.IM),
        ({"text": "deep IM injection"}, Route.IM),
        ({"text": "subcutaneous"}, Route.SC),
        ({"text": "by mouth"}, Route.ORAL),
        ({"text": "Sublingual"}, Route.ORAL),
        ({"text": "intranasal"}, Route.NASAL),
        ({"text": "intravenous"}, Route.IV),
        ({"text": "topical"}, Route.UNKNOWN),
    ],
)
def test_route_mapping(route, expected):
    request = med_request("mr1", rx(RX_CYANOCOBALAMIN_INJ_1MG_ML), route=route)
    assert only(read(request).medications).route is expected


@pytest.mark.parametrize(
    ("route", "dose", "product"),
    [
        (concept(SNOMED, SCT_IM), quantity(1000, "ug"), Product.B12_INJECTION),
        ({"text": "SC"}, quantity(1, "mg"), Product.B12_INJECTION),
        (concept(SNOMED, SCT_NASAL), quantity(500, "mcg"), Product.B12_NASAL),
        (concept(SNOMED, SCT_ORAL), quantity(1000, "ug"), Product.B12_ORAL_HIGH),
        (concept(SNOMED, SCT_ORAL), quantity(500, "ug"), Product.B12_ORAL_HIGH),
        ({"text": "by mouth"}, quantity(100, "µg"), Product.B12_ORAL_LOW),
    ],
)
def test_b12_ingredient_product_from_route_and_dose(route, dose, product):
    request = med_request("mr1", rx(RX_CYANOCOBALAMIN, "vitamin B12"), route=route, dose=dose)
    med = only(read(request).medications)
    assert (med.product, med.ingredient) == (product, "cyanocobalamin")


def test_known_clinical_drug_fixes_product_regardless_of_route():
    request = med_request(
        "mr1",
        rx(RX_CYANOCOBALAMIN_ORAL_1MG),
        route=concept(SNOMED, SCT_IM),
        dose={"value": 1, "unit": "tablet"},
    )
    med = only(read(request).medications)
    assert (med.product, med.route, med.dose_mg) == (Product.B12_ORAL_HIGH, Route.IM, 1.0)


def test_nasal_spray_clinical_drug():
    request = med_request("mr1", rx(RX_NASCOBAL), dose={"value": 1, "unit": "spray"})
    med = only(read(request).medications)
    assert (med.product, med.dose_mg) == (Product.B12_NASAL, 0.5)


def test_hydroxocobalamin_without_route_assumed_injection():
    request = med_request("mr1", rx(RX_HYDROXOCOBALAMIN), dose=quantity(1, "mg"))
    record = read(request)
    assert only(record.medications).product is Product.B12_INJECTION
    assert messages(record) == [("MedicationRequest/mr1", "route not stated; assumed injection")]


def test_cyanocobalamin_administration_without_route_assumed_injection():
    admin = med_administration(
        "ma1", {"medicationCodeableConcept": {"text": "Cyanocobalamin"}}, dose=quantity(1000, "ug")
    )
    record = read(admin)
    med = only(record.medications)
    assert (med.source, med.product, med.on, med.timing) == (
        MedSource.ADMINISTRATION,
        Product.B12_INJECTION,
        date(2024, 4, 2),
        None,
    )
    assert messages(record) == [
        ("MedicationAdministration/ma1", "route not stated; assumed injection")
    ]


def test_cyanocobalamin_statement_without_route_assumed_oral():
    statement = med_statement("ms1", {"medicationCodeableConcept": {"text": "Vitamin B-12"}})
    record = read(statement)
    med = only(record.medications)
    assert (med.source, med.product, med.ingredient) == (
        MedSource.STATEMENT,
        Product.B12_ORAL_HIGH,
        None,
    )
    assert (med.on, med.start, med.end) == (date(2023, 1, 1), date(2023, 1, 1), date(2024, 1, 1))
    assert messages(record) == [("MedicationStatement/ms1", "route not stated; assumed oral")]


def test_official_example_shapes_doseandrate_object_and_stu3_dose():
    request = med_request("mr1", rx(RX_CYANOCOBALAMIN))
    request["dosageInstruction"] = [
        {"route": {"text": "oral"}, "doseAndRate": {"doseQuantity": quantity(250, "ug")}}
    ]
    other = med_request("mr2", rx(RX_CYANOCOBALAMIN))
    other["dosageInstruction"] = [{"route": {"text": "oral"}, "doseQuantity": quantity(2, "mg")}]
    doses = [med.dose_mg for med in read(request, other).medications]
    assert doses == [0.25, 2.0]
