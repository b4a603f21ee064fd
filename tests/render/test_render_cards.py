"""Cards: CDS Hooks 2.0 shape for every rule, variant and profile, field order, ids, and
the errors rendering raises.

Every rule's card is rendered with long facts, with and without its regimen, so a card
file that breaks the spec or overflows the summary fails here, not in an EHR.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cds_b12.clinical.codes import OVERRIDE_REASON_SYSTEM
from cds_b12.clinical.profiles import UK, US, Profile
from cds_b12.clinical.recommendation import Indicator, Kind, Variant
from cds_b12.clinical.record import DataNote
from cds_b12.clinical.sources import SOURCES
from cds_b12.render import RenderError, load_card_library, render_cards
from cds_b12.render.cards import SUMMARY_MAX_CHARS, fit_summary
from cds_b12.render.wording import DEFAULT_CARDS_DIR, CardLibrary, fill

from .render_support import (
    AS_OF,
    PATIENT,
    PROFILES,
    all_drafts,
    render_one,
    shared_values,
    validate_fhir,
    walk,
)
from .rule_facts import RULES
from .rule_specs import SPECS, VARIANTS, make_rec, make_variant

ACTION_TYPES = {"create", "update", "delete"}


def assert_spec_card(card: dict) -> None:
    """CDS Hooks 2.0 §card/§suggestion/§action rules, plus the [LM] invariants."""
    for path, value in walk(card):
        assert value is not None, f"null at {path}"
        assert value not in ("", [], {}), f"empty value at {path}"
        if isinstance(value, str):
            assert "{" not in value and "}" not in value, f"leftover brace at {path}: {value}"
    assert isinstance(card["uuid"], str)
    assert 0 < len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"] and card["source"]["url"].startswith("http")
    assert card["overrideReasons"]
    for reason in card["overrideReasons"]:
        assert reason["system"] == OVERRIDE_REASON_SYSTEM and reason["code"] and reason["display"]
    assert ("suggestions" in card) == ("selectionBehavior" in card)
    if "suggestions" in card:
        assert card["selectionBehavior"] == "at-most-one"
        assert sum(bool(s.get("isRecommended")) for s in card["suggestions"]) <= 1
        for suggestion in card["suggestions"]:
            assert suggestion["uuid"] and suggestion["label"] and suggestion["actions"]
            for action in suggestion["actions"]:
                assert action["type"] in ACTION_TYPES and action["description"]
                if action["type"] == "delete":
                    assert set(action) == {"type", "description", "resourceId"}
                    assert action["resourceId"].count("/") == 1
                else:
                    validate_fhir(action["resource"])
    assert "mcg" not in card["detail"] and " ug " not in card["detail"]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
@pytest.mark.parametrize("with_regimen", [True, False], ids=["regimen", "no-regimen"])
def test_every_card_renders_to_spec(
    rule: str, profile: Profile, with_regimen: bool, library: CardLibrary
) -> None:
    """Full, long facts; with the regimen and with it withheld (as S5 does)."""
    rec = make_rec(rule, profile, with_regimen=with_regimen, safety=("S1", "S6", "S7", "S8", "S13"))
    notes = [DataNote(f"Observation/obs-{i}", "unit 'pmol/L' converted") for i in range(3)]
    card = render_one(rec, profile, drafts=all_drafts(), notes=notes, library=library)
    assert_spec_card(card)
    assert card["indicator"] == rec.indicator.value
    # The summary fits without the safety-net truncation.
    values = {**rec.facts, **shared_values(library, profile.name)}
    raw = fill(library.card(rule, profile.name).summary, values, rule)
    assert len(raw) <= SUMMARY_MAX_CHARS and card["summary"] == raw


@pytest.mark.parametrize("case", VARIANTS, ids=lambda c: f"{c[0]}-{c[1].value}")
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_every_card_variant_renders_to_spec(
    case: tuple[str, Variant], profile: Profile, library: CardLibrary
) -> None:
    rule, variant = case
    rec = make_variant(rule, variant, profile)
    card = render_one(rec, profile, drafts=all_drafts(), library=library)
    assert_spec_card(card)
    values = {**rec.facts, **shared_values(library, profile.name)}
    raw = fill(library.card(rule, profile.name, variant).summary, values, rule)
    assert len(raw) <= SUMMARY_MAX_CHARS and card["summary"] == raw
    assert card["summary"] != library.card(rule, profile.name).summary


def test_every_variant_in_the_cards_has_a_case(library: CardLibrary) -> None:
    found = {(rule, v) for rule in library.rules() for v in library.variants(rule)}
    assert found == {(rule, v.value) for rule, v in VARIANTS}


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_card_fields_in_order(profile: Profile, new_id: Callable[[], str]) -> None:
    rec = make_rec("R2-start-standard-loading", profile)
    card = render_one(rec, profile, new_id=new_id)
    assert list(card) == [
        "uuid",
        "summary",
        "indicator",
        "detail",
        "source",
        "suggestions",
        "selectionBehavior",
        "overrideReasons",
    ]
    assert card["uuid"] == "id-1"
    assert card["source"] == {"label": SOURCES["UK-1"].label, "url": SOURCES["UK-1"].url}
    assert [r["code"] for r in card["overrideReasons"]] == [
        "patient-declined",
        "already-addressed",
        "clinical-judgement",
        "specialist-managing",
    ]


def test_unknown_source_id_raises() -> None:
    rec = make_rec("R18-acid-suppressant-screening", US, sources=("US-5", "XX-1"))
    with pytest.raises(RenderError, match="XX-1"):
        render_one(rec, US)


def test_unknown_safety_id_raises() -> None:
    rec = make_rec("R18-acid-suppressant-screening", US, safety=("S99",))
    with pytest.raises(RenderError, match="S99"):
        render_one(rec, US)


def test_card_source_and_override_reasons_from_the_card_file(tmp_path: Path) -> None:
    import shutil

    cards = tmp_path / "cards"
    shutil.copytree(DEFAULT_CARDS_DIR, cards)
    path = cards / "R18-acid-suppressant-screening.toml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + (
            '\n[us.source]\nlabel = "Local PPI guideline"\nurl = "https://example.org/ppi"\n'
            '\n[[us.override_reasons]]\ncode = "ppi-stopped"\ndisplay = "PPI already stopped"\n'
        ),
        encoding="utf-8",
    )
    library = load_card_library(cards)
    card = render_one(make_rec("R18-acid-suppressant-screening", US), US, library=library)
    assert card["source"] == {"label": "Local PPI guideline", "url": "https://example.org/ppi"}
    assert card["overrideReasons"] == [
        {"system": OVERRIDE_REASON_SYSTEM, "code": "ppi-stopped", "display": "PPI already stopped"}
    ]
    uk_card = render_one(make_rec("R18-acid-suppressant-screening", UK), UK, library=library)
    assert uk_card["source"]["label"] == SOURCES["US-5"].label
    assert len(uk_card["overrideReasons"]) == 4


def test_ids_are_unique_and_come_from_new_id(new_id: Callable[[], str]) -> None:
    recs = [make_rec(rule, UK) for rule in RULES]
    cards = render_cards(
        recs, profile=UK, as_of=AS_OF, patient_id=PATIENT, drafts=all_drafts(), new_id=new_id
    )
    ids = [
        v
        for card in cards
        for path, v in walk(card)
        if path.endswith((".uuid", "resource.id")) and "draft" not in str(v)
    ]
    assert ids and len(ids) == len(set(ids))
    assert all(i.startswith("id-") for i in ids)
    library = load_card_library()
    assert [c["summary"] for c in cards] == [
        fill(library.card(rule, "UK").summary, shared_values(library, "UK"), rule) for rule in RULES
    ]


def test_default_ids_are_uuid4() -> None:
    import uuid

    card = render_one(make_rec("R18-acid-suppressant-screening", US), US)
    assert uuid.UUID(card["uuid"]).version == 4


def test_empty_input_gives_no_cards() -> None:
    assert render_cards([], profile=UK, as_of=AS_OF, patient_id=PATIENT) == []


def test_fit_summary_is_a_safety_net() -> None:
    long = "Start " + "word " * 60
    fitted = fit_summary(long)
    assert len(fitted) <= SUMMARY_MAX_CHARS and fitted.endswith("…")
    with pytest.raises(RenderError):
        fit_summary("   ")


def test_spec_indicator_mapping() -> None:
    for indicator in Indicator:
        rec = make_rec("R14-lab-drift", UK, indicator=indicator)
        assert render_one(rec, UK)["indicator"] == indicator.value


def test_the_rule_specs_cover_every_kind() -> None:
    """So each suggestion branch (create, update, delete, labs) is exercised above."""
    kinds = {spec.kind for spec in SPECS.values()} | {
        c["kind"] for c in VARIANTS.values() if "kind" in c
    }
    assert kinds == set(Kind)


@pytest.mark.parametrize("profile", [UK, US], ids=["UK", "US"])
def test_r29_does_not_ask_for_an_mma_whose_normal_result_is_on_the_card(profile) -> None:
    card = render_one(make_variant("R29-over-treatment", Variant.CONFIRM_FIRST, profile), profile)
    assert "normal MMA on file" in card["detail"] and "test MMA" not in card["detail"]
    asked = render_one(
        make_variant("R29-over-treatment", Variant.CONFIRM_FIRST_NO_MMA, profile), profile
    )
    assert "test MMA" in asked["detail"]
