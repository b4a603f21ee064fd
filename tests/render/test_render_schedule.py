"""Schedule phrasing: the words must say exactly what the regimen's numbers say."""

from __future__ import annotations

import pytest

from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.regimens import (
    CATALOGUE,
    CYANOCOBALAMIN_INJ,
    HYDROXOCOBALAMIN_INJ,
    Regimen,
    Step,
    intensified,
    with_drug,
)
from cds_b12.render.schedule import frequency_text, order_text, regimen_name, schedule_text


@pytest.mark.parametrize(
    ("regimen_id", "expected"),
    [
        (
            "UK_LOAD_STD",
            "hydroxocobalamin 1 mg IM three times a week for 2 weeks (6 doses), "
            "then every 2–3 months for life",
        ),
        (
            "US_LOAD_STD",
            "cyanocobalamin 1000 micrograms IM every other day for 1 week (4 doses), "
            "then weekly for 4 weeks (4 doses), then monthly for life",
        ),
        (
            "UK_LOAD_NEURO",
            "hydroxocobalamin 1 mg IM every other day until no further "
            "improvement, then every 2 months for life",
        ),
        ("ORAL_HIGH", "cyanocobalamin 1000 micrograms by mouth daily"),
        ("UK_MAINT_STD", "hydroxocobalamin 1 mg IM every 2–3 months for life"),
        ("US_MAINT", "cyanocobalamin 1000 micrograms IM monthly for life"),
        ("UK_DIET_IM", "hydroxocobalamin 1 mg IM every 6 months"),
        ("BARIATRIC_PROPH", "cyanocobalamin 1000 micrograms by mouth daily for life"),
    ],
)
def test_schedule_text_examples(regimen_id: str, expected: str) -> None:
    assert schedule_text(CATALOGUE[regimen_id]) == expected


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (Step(1, 1, "d"), "daily"),
        (Step(1, 2, "d"), "every other day"),
        (Step(3, 1, "wk"), "three times a week"),
        (Step(2, 1, "wk"), "twice a week"),
        (Step(1, 1, "wk"), "weekly"),
        (Step(1, 1, "mo"), "monthly"),
        (Step(1, 2, "mo"), "every 2 months"),
        (Step(1, 2, "mo", period_max=3), "every 2–3 months"),
        (Step(1, 3, "mo"), "every 3 months"),
        (Step(1, 6, "mo"), "every 6 months"),
        (Step(1, 2, "wk", period_max=3), "every 2–3 weeks"),
        (Step(5, 2, "wk"), "5 times every 2 weeks"),
        (Step(1, 3.5, "d"), "every 3.5 days"),
    ],
)
def test_frequency_phrases(step: Step, expected: str) -> None:
    assert frequency_text(step) == expected


def test_order_text_stops_at_the_regimen_itself() -> None:
    """The order covers loading only; maintenance is a later order (R10)."""
    assert order_text(CATALOGUE["UK_LOAD_STD"]) == (
        "hydroxocobalamin 1 mg IM three times a week for 2 weeks (6 doses)"
    )


def test_swapped_product_is_carried_into_the_follow_on() -> None:
    """S4 swaps cyanocobalamin for hydroxocobalamin; maintenance must not switch back."""
    leber = with_drug(CATALOGUE["US_LOAD_STD"], HYDROXOCOBALAMIN_INJ)
    text = schedule_text(leber)
    assert text.startswith("hydroxocobalamin 1 mg IM every other day")
    assert "cyanocobalamin" not in text
    assert text.endswith("then monthly for life")


def test_a_different_follow_on_product_is_named() -> None:
    first = Regimen(
        "X_LOAD",
        CYANOCOBALAMIN_INJ,
        100,
        "ug",
        CATALOGUE["US_MAINT"].route,
        (Step(1, 1, "d", count=7, duration=(1, "wk")),),
        ("US-1",),
        then="US_MAINT",
    )
    assert schedule_text(first) == (
        "cyanocobalamin 100 micrograms IM daily for 1 week (7 doses), "
        "then cyanocobalamin 1000 micrograms IM monthly for life"
    )


def test_intensified_steps() -> None:
    uk = intensified(CATALOGUE["UK_MAINT_STD"], 90, UK.intensify_steps, UK.min_interval_days)
    us = intensified(CATALOGUE["US_MAINT"], 30, US.intensify_steps, US.min_interval_days)
    assert uk is not None and us is not None
    assert schedule_text(uk) == "hydroxocobalamin 1 mg IM every 2 months for life"
    assert schedule_text(us) == "cyanocobalamin 1000 micrograms IM every 2–3 weeks for life"


@pytest.mark.parametrize("regimen", CATALOGUE.values(), ids=CATALOGUE.keys())
def test_prose_never_abbreviates_micrograms(regimen: Regimen) -> None:
    text = f"{regimen_name(regimen)} {schedule_text(regimen)}"
    assert "mcg" not in text and " ug" not in text
