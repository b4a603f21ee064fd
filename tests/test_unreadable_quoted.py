"""Every lab value a card quotes follows one rule: the current readable result, naming newer
ones that could not be read; with none readable, the unreadable ones on file; "none on
file" only when the record holds no result of it at all (a value that cannot be trusted is
said, never silently dropped)."""

from __future__ import annotations

import pytest

from cds_b12.clinical import get_profile
from cds_b12.hooks.response import respond

from .scenarios import AS_OF as SCENARIO_AS_OF
from .scenarios import scenarios
from .test_untrusted_values_respond import AS_OF, bundle, observation

HB, MMA, B12, WBC, PLATELETS = "718-7", "13964-2", "2132-9", "6690-2", "777-3"


def cards(data: object, profile: str) -> list[dict]:
    return respond(data, profile=get_profile(profile), as_of=AS_OF).body["cards"]


def card(data: object, profile: str, summary: str) -> str:
    (found,) = [c for c in cards(data, profile) if summary in c["summary"]]
    return found["detail"]


def line(detail: str, start: str) -> str:
    return next(row for row in detail.splitlines() if row.startswith(start))


def low_b12_with(*extra: dict) -> dict:
    data = bundle('{"value": 150, "unit": "pg/mL"}')
    data["entry"] += list(extra)
    return data


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_a_loading_card_names_the_only_hb_on_file_that_cannot_be_read(profile):
    """The card said "Hb: none on file" over an Hb with no unit."""
    data = low_b12_with(observation("hb", HB, "2025-12-20", {"value": 12.4}))
    hb = line(card(data, profile, "Start B12 loading"), "- Hb:")
    assert hb.startswith("- Hb: Hb of 2025-12-20: no unit given; MCV:")


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_a_loading_card_names_an_old_hb_that_cannot_be_read_when_it_is_the_only_one(profile):
    """Too old to be current, but on file: never "none on file"."""
    data = low_b12_with(observation("hb", HB, "2023-06-01", {"value": 12.4}))
    hb = line(card(data, profile, "Start B12 loading"), "- Hb:")
    assert hb.startswith("- Hb: Hb of 2023-06-01: no unit given; MCV:")


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_a_loading_card_names_the_only_mma_on_file_that_cannot_be_read(profile):
    """{markers} said nothing of an MMA with no unit, as if none were on file."""
    data = low_b12_with(observation("mma", MMA, "2025-12-20", {"value": 0.6}))
    b12 = line(card(data, profile, "Start B12 loading"), "- Serum B12:")
    assert b12.endswith("on 2025-12-20; MMA: MMA of 2025-12-20: no unit given")


def severe_anaemia(b12: dict, *extra: dict) -> dict:
    data = bundle("{}")
    data["entry"] = [data["entry"][0], data["entry"][2]]  # the patient and the MCV
    data["entry"] += [
        observation("b12", B12, "2025-12-20", b12),
        observation("hb", HB, "2025-12-20", {"value": 6.5, "unit": "g/dL"}),
        *extra,
    ]
    return data


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_a_severe_anaemia_card_names_the_only_b12_on_file_that_cannot_be_read(profile):
    detail = card(severe_anaemia({"value": 150}), profile, "same-day assessment")
    assert line(detail, "- Serum B12:") == "- Serum B12: B12 of 2025-12-20: no unit given"


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_a_severe_anaemia_card_names_counts_that_cannot_be_read_or_are_too_old(profile):
    """White cells and platelets were quoted only when current and readable: a count with
    no unit, or one too old to count, read "none on file"."""
    data = severe_anaemia(
        {"value": 150, "unit": "pg/mL"},
        observation("wbc", WBC, "2025-12-20", {"value": 3.1}),
        observation("plt", PLATELETS, "2024-06-01", {"value": 90, "unit": "10^9/L"}),
    )
    counts = line(card(data, profile, "same-day assessment"), "- White cells:")
    assert counts.startswith("- White cells: white cell count of 2025-12-20: no unit given;")
    assert counts.endswith(
        "neutrophils: none on file; platelets: 90 10^9/L on 2024-06-01, more than 12 months"
        " old, so it does not count"
    )


def interrupted_course() -> tuple[list[dict], dict]:
    """The R26 fixture's record (its B12 before the first dose is also the latest one)."""
    (scenario,) = [
        s
        for s in scenarios()
        if s.path.name == "three-of-six-fires.json"
        and s.path.parent.name.startswith("R26")
        and s.profile == "uk"
    ]
    resources, _ = scenario.data()
    (b12,) = [r for r in resources if r.get("code", {}).get("text") == "Vitamin B12"]
    return resources, b12


def interrupted_card(resources: list[dict], profile: str) -> str:
    result = respond(resources, profile=get_profile(profile), as_of=SCENARIO_AS_OF)
    (found,) = [c for c in result.body["cards"] if "stopped part-way" in c["summary"]]
    return found["detail"]


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_an_interrupted_course_card_says_the_b12_before_it_once_when_it_is_the_latest(profile):
    """R26 quoted the same B12 twice, as the one before the first dose and as the latest."""
    resources, b12 = interrupted_course()
    on = b12["effectiveDateTime"][:10]
    detail = interrupted_card(resources, profile)
    assert detail.count(f" on {on}") == 1
    assert f"- B12 before the first dose: 110 pg/mL on {on}\n" in detail


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_an_interrupted_course_card_names_a_b12_before_it_that_cannot_be_read(profile):
    """R26 said "no result before the first dose" over a B12 with no unit drawn then."""
    resources, b12 = interrupted_course()
    del b12["valueQuantity"]["unit"], b12["valueQuantity"]["code"]
    on = b12["effectiveDateTime"][:10]
    detail = interrupted_card(resources, profile)
    said = f"- B12 before the first dose: B12 of {on}: no unit given\n"
    assert said in detail
    assert detail.count(f"B12 of {on}: no unit given") == 1


def fixture(rule: str, name: str) -> list[dict]:
    (scenario,) = [
        s
        for s in scenarios()
        if s.path.name == name and s.path.parent.name.startswith(rule) and s.profile == "uk"
    ]
    return scenario.data()[0]


def unitless(id_: str, loinc: str, value: float) -> dict:
    """A result of today with no unit: it cannot be read."""
    return observation(id_, loinc, SCENARIO_AS_OF.isoformat(), {"value": value})["resource"]


def detail_of(resources: list[dict], profile: str, summary: str) -> str:
    result = respond(resources, profile=get_profile(profile), as_of=SCENARIO_AS_OF)
    (found,) = [c for c in result.body["cards"] if summary in c["summary"]]
    return found["detail"]


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_a_screening_card_names_a_b12_on_file_that_cannot_be_read(profile):
    """R17 said "Last B12 test: none on file" over a B12 with no unit."""
    resources = [*fixture("R17", "metformin-no-b12-fires.json"), unitless("b12", B12, 150)]
    detail = detail_of(resources, profile, "long-term metformin")
    on = SCENARIO_AS_OF.isoformat()
    assert line(detail, "- Last B12 test:") == f"- Last B12 test: B12 of {on}: no unit given"


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_a_poor_response_card_names_a_newer_retic_that_cannot_be_read(profile):
    """R8 quoted the older reticulocyte count with no word of a newer one with no unit."""
    resources = [*fixture("R8", "no-retic-rise-fires.json"), unitless("retic", "17849-1", 1.1)]
    retic = line(detail_of(resources, profile, "poor response"), "- Reticulocytes:")
    on = SCENARIO_AS_OF.isoformat()
    assert "(this card rests on it until the newer one is checked: it could not be read" in retic
    assert f"of {on}: no unit given)" in retic


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_a_confounded_marker_card_names_a_newer_folate_that_cannot_be_read(profile):
    """R24 explained the homocysteine by the older low folate with no word of a newer folate
    with no unit."""
    resources = [
        *fixture("R24", "raised-homocysteine-low-folate-fires.json"),
        unitless("folate", "2284-8", 9.0),
    ]
    detail = detail_of(resources, profile, "another likely cause")
    on = SCENARIO_AS_OF.isoformat()
    assert (
        "with a low folate: 2.1 ng/mL on 2026-11-05 (this card rests on it until the newer one"
        f" is checked: it could not be read, folate of {on}: no unit given)" in detail
    )


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_a_folate_card_names_a_newer_b12_that_cannot_be_read(profile):
    """R20 quoted the older B12 alone as the one on file, over a newer B12 with no unit."""
    resources = [
        *fixture("R20", "active-folate-neuro-fires.json"),
        unitless("b12", B12, 150),
    ]
    detail = detail_of(resources, profile, "Check B12 before or with folic acid")
    on = SCENARIO_AS_OF.isoformat()
    assert line(detail, "- Serum B12:") == f"- Serum B12: B12 of {on}: no unit given"


R25 = "a result on file could not be read"


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_the_unreadable_result_card_never_says_none_on_file_over_the_mma_it_lists(profile):
    """R25 listed an MMA with no unit as unreadable, then "MMA: none on file" below it."""
    data = low_b12_with(observation("mma", MMA, "2025-12-20", {"value": 0.6}))
    detail = card(data, profile, R25)
    assert "MMA of 2025-12-20: no unit given" in detail
    assert line(detail, "- Readable results:").endswith("; MMA: none readable")


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_the_unreadable_result_card_never_says_none_on_file_over_the_hb_it_lists(profile):
    data = low_b12_with(observation("hb", HB, "2025-12-20", {"value": 12.4}))
    detail = card(data, profile, R25)
    assert "Hb of 2025-12-20: no unit given" in detail
    assert line(detail, "- Hb:").startswith("- Hb: none readable; MCV:")


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_the_unreadable_result_card_says_none_on_file_only_for_a_test_not_in_the_record(profile):
    """An old unreadable Hb is on file too (not R25's subject, but not "none on file");
    no MMA at all is "none on file"."""
    data = low_b12_with(
        observation("b12-new", B12, "2025-12-28", {"value": 150}),
        observation("hb", HB, "2023-06-01", {"value": 12.4}),
    )
    detail = card(data, profile, R25)
    assert line(detail, "- Readable results:").endswith("; MMA: none on file")
    assert line(detail, "- Hb:").startswith("- Hb: none readable; MCV:")
