"""The preview's draft orders read back as the orders they describe."""

from __future__ import annotations

from datetime import date

import pytest
from fhir.resources.R4B import get_fhir_model_class

from cds_b12.clinical.record import Product
from cds_b12.fhir.read import read_record
from cds_b12.hooks.drafts import PRODUCTS, SCHEDULES, draft_order
from cds_b12.hooks.request import BadRequest

TODAY = date(2026, 11, 21)


def _read(choice: dict):
    draft = draft_order(choice, "p1", TODAY)
    get_fhir_model_class(draft["resourceType"]).model_validate(draft)  # valid R4
    (read,) = read_record([{"resourceType": "Patient", "id": "p1"}], draft_orders=[draft]).drafts
    return draft, read


@pytest.mark.parametrize("every", SCHEDULES)
@pytest.mark.parametrize("product", PRODUCTS)
def test_b12_drafts_read_as_b12_with_their_dose_and_interval(product, every):
    draft, read = _read({"kind": "b12", "product": product, "dose_mcg": 1000, "every": every})
    assert draft["status"] == "draft" and draft["subject"] == {"reference": "Patient/p1"}
    assert read.medication is not None and read.medication.is_b12_therapy
    assert read.medication.dose_mg == pytest.approx(1.0)
    period, unit, _ = SCHEDULES[every]
    days = {"d": 1, "wk": 7, "mo": 30.4375}[unit] * period
    assert read.medication.timing.interval_days == pytest.approx(days, rel=0.02)


def test_oral_and_injection_products_are_told_apart():
    _, oral = _read(
        {"kind": "b12", "product": "cyanocobalamin-oral", "dose_mcg": 1000, "every": "day"}
    )
    _, im = _read(
        {"kind": "b12", "product": "hydroxocobalamin-im", "dose_mcg": 1000, "every": "3-months"}
    )
    assert oral.medication.product is Product.B12_ORAL_HIGH and not oral.medication.is_injection
    assert im.medication.is_injection


def test_small_doses_are_written_in_micrograms():
    draft, read = _read(
        {"kind": "b12", "product": "cyanocobalamin-oral", "dose_mcg": 250, "every": "day"}
    )
    assert draft["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["code"] == "ug"
    assert read.medication.dose_mg == pytest.approx(0.25)


def test_folic_acid_and_b12_test_drafts():
    _, folate = _read({"kind": "folic-acid"})
    assert folate.medication is not None and folate.medication.product is Product.FOLIC_ACID
    draft, test = _read({"kind": "b12-test"})
    assert draft["resourceType"] == "ServiceRequest" and test.lab is not None


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ({"kind": "aspirin"}, "draft kind"),
        ({"kind": "b12", "product": "x", "dose_mcg": 1000, "every": "day"}, "draft product"),
        (
            {"kind": "b12", "product": "cyanocobalamin-im", "dose_mcg": "1000", "every": "day"},
            "dose_mcg",
        ),
        (
            {"kind": "b12", "product": "cyanocobalamin-im", "dose_mcg": 0, "every": "day"},
            "dose_mcg",
        ),
        (
            {"kind": "b12", "product": "cyanocobalamin-im", "dose_mcg": 1000, "every": "hour"},
            "draft every",
        ),
    ],
)
def test_bad_choices_are_named(choice, message):
    with pytest.raises(BadRequest, match=message):
        draft_order(choice, "p1", TODAY)
