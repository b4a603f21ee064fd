"""Cards: CDS Hooks 2.0 shape for every rule and profile, suggestions, drafts and details."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cds_b12.clinical.codes import OVERRIDE_REASON_SYSTEM
from cds_b12.clinical.profiles import UK, US, Profile
from cds_b12.clinical.recommendation import (
    Indicator,
    Kind,
    LabOrder,
    Recommendation,
    Urgency,
    Variant,
)
from cds_b12.clinical.record import DataNote, Medication, MedSource, Product
from cds_b12.clinical.sources import SOURCES
from cds_b12.render import RenderError, load_card_library, render_cards
from cds_b12.render.cards import SUMMARY_MAX_CHARS, fit_summary
from cds_b12.render.wording import DEFAULT_CARDS_DIR, CardLibrary, fill

from .render_support import (
    AS_OF,
    PATIENT,
    PROFILES,
    all_drafts,
    lab_draft,
    medication_draft,
    validate_fhir,
    walk,
)
from .rule_facts import RULES, facts_for
from .rule_specs import SPECS, VARIANTS, make_rec, make_variant

ACTION_TYPES = {"create", "update", "delete"}


def render_one(rec: Recommendation, profile: Profile, **kwargs: object) -> dict:
    args: dict = {"profile": profile, "as_of": AS_OF, "patient_id": PATIENT}
    args.update(kwargs)
    cards = render_cards([rec], **args)
    assert len(cards) == 1
    return cards[0]


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
    values = {**rec.facts, "profile": profile.name}
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
    raw = fill(library.card(rule, profile.name, variant).summary, rec.facts, rule)
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


def test_regimen_suggestion_orders_the_regimen_and_the_labs() -> None:
    rec = make_rec("R2-start-standard-loading", UK)
    card = render_one(rec, UK)
    (first,) = card["suggestions"]
    assert first["isRecommended"] is True
    assert first["label"] == "Order hydroxocobalamin 1 mg IM loading course"
    types = [(a["type"], a["resource"]["resourceType"]) for a in first["actions"]]
    assert types == [("create", "MedicationRequest")] + [("create", "ServiceRequest")] * len(
        rec.labs
    )
    med = first["actions"][0]["resource"]
    assert med["dosageInstruction"][0]["timing"]["repeat"]["frequency"] == 3


def test_alternative_is_a_second_unrecommended_suggestion() -> None:
    rec = make_rec("R2-start-standard-loading", US)
    suggestions = render_one(rec, US)["suggestions"]
    assert len(suggestions) == 2
    assert "isRecommended" not in suggestions[1]
    assert suggestions[1]["label"].startswith("Prescribe cyanocobalamin 1000 micrograms by mouth")
    codes = [
        a["resource"]["medicationCodeableConcept"]["coding"][0]["code"]
        for s in suggestions
        for a in s["actions"]
        if a["resource"]["resourceType"] == "MedicationRequest"
    ]
    assert codes == ["309594", "309593"]
    lab_counts = [
        sum(a["resource"]["resourceType"] == "ServiceRequest" for a in s["actions"])
        for s in suggestions
    ]
    assert lab_counts == [len(rec.labs)] * 2


def test_update_of_draft_keeps_the_draft_id() -> None:
    rec = make_rec("R9-neuro-loading-continue", UK)
    draft = medication_draft("draft-maint")
    card = render_one(rec, UK, drafts={"MedicationRequest/draft-maint": draft})
    (action,) = card["suggestions"][0]["actions"]
    assert action["type"] == "update"
    assert action["resource"]["id"] == "draft-maint"
    assert action["resource"]["requester"] == draft["requester"]
    assert action["resource"]["dosageInstruction"][0]["timing"]["repeat"] == {
        "frequency": 1,
        "period": 2,
        "periodUnit": "d",
    }
    assert "draft-maint" in action["description"]


def test_draft_not_sent_means_create() -> None:
    rec = make_rec("R9-neuro-loading-continue", UK)
    (action,) = render_one(rec, UK, drafts={})["suggestions"][0]["actions"]
    assert action["type"] == "create"


def test_alternative_also_updates_the_draft() -> None:
    """Two exclusive suggestions on one draft must not leave the draft plus a new order."""
    rec = make_rec("R10-start-maintenance", UK, draft_id="MedicationRequest/draft-maint")
    card = render_one(rec, UK, drafts=all_drafts())
    meds = [
        a
        for s in card["suggestions"]
        for a in s["actions"]
        if a.get("resource", {}).get("resourceType") == "MedicationRequest"
    ]
    assert [(a["type"], a["resource"]["id"]) for a in meds] == [
        ("update", "draft-maint"),
        ("update", "draft-maint"),
    ]


def test_delete_uses_resource_id_only() -> None:
    rec = make_rec("R15-b12-order-on-maintenance", UK)
    card = render_one(rec, UK, drafts={"ServiceRequest/draft-b12": lab_draft()})
    (suggestion,) = card["suggestions"]
    assert suggestion["label"] == "Remove the B12 test order"
    assert suggestion["isRecommended"] is True
    (action,) = suggestion["actions"]
    assert action["type"] == "delete"
    assert action["resourceId"] == "ServiceRequest/draft-b12"
    assert "resource" not in action
    assert card["selectionBehavior"] == "at-most-one"


def test_delete_names_the_drafts_own_id() -> None:
    """The reader may shorten a long id in ``draft_id``; the EHR needs its real one."""
    rec = make_rec("R15-b12-order-on-maintenance", UK, draft_id="ServiceRequest/abc…")
    card = render_one(rec, UK, drafts={"ServiceRequest/abc…": lab_draft("abcdef")})
    assert card["suggestions"][0]["actions"][0]["resourceId"] == "ServiceRequest/abcdef"


def test_order_advice_without_the_draft_has_no_suggestions() -> None:
    card = render_one(make_rec("R15-b12-order-on-maintenance", US), US)
    assert "suggestions" not in card and "selectionBehavior" not in card


def test_order_advice_on_a_medication_draft_never_deletes_it() -> None:
    """R20: folic acid stays ordered; the card adds B12 and folate tests."""
    rec = make_rec("R20-folate-without-b12", US)
    card = render_one(rec, US, drafts=all_drafts())
    (suggestion,) = card["suggestions"]
    assert suggestion["label"] == "Order serum B12 and folate now"
    assert {a["type"] for a in suggestion["actions"]} == {"create"}


def test_contraindicated_product_without_substitute_offers_removal() -> None:
    rec = make_rec(
        "R21-cyanocobalamin-contraindicated",
        US,
        with_regimen=False,
        facts={
            **facts_for("R21-cyanocobalamin-contraindicated"),
            "product": Medication(
                MedSource.REQUEST, Product.B12_INJECTION, "MedicationRequest/d", "draft"
            ),
        },
    )
    card = render_one(rec, US, drafts=all_drafts())
    (suggestion,) = card["suggestions"]
    assert suggestion["label"] == "Remove the B12 injection order"
    assert suggestion["actions"] == [
        {
            "type": "delete",
            "description": suggestion["actions"][0]["description"],
            "resourceId": "MedicationRequest/draft-cyano",
        }
    ]


def test_contraindicated_product_with_substitute_updates_the_draft() -> None:
    rec = make_rec("R21-cyanocobalamin-contraindicated", US)
    card = render_one(rec, US, drafts=all_drafts())
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    assert action["type"] == "update" and action["resource"]["id"] == "draft-cyano"
    assert action["resource"]["medicationCodeableConcept"]["coding"][0]["code"] == "317106"
    assert suggestion["label"] == "Change the order to hydroxocobalamin 1 mg IM"


def test_labs_only_suggestion() -> None:
    rec = make_rec("R5-indeterminate-order-mma", US)
    (suggestion,) = render_one(rec, US)["suggestions"]
    assert suggestion["label"] == "Order MMA (and homocysteine)"
    assert [a["resource"]["code"]["coding"][0]["code"] for a in suggestion["actions"]] == [
        "13964-2",
        "13965-9",
    ]


def test_lab_priority_follows_the_urgency() -> None:
    rec = make_rec("R17-metformin-screening", US, urgency=Urgency.STAT)
    actions = render_one(rec, US)["suggestions"][0]["actions"]
    assert {a["resource"]["priority"] for a in actions} == {"stat"}


def test_no_regimen_no_labs_means_no_suggestions() -> None:
    rec = make_rec("R11-maintenance-overdue", UK, with_regimen=False)
    card = render_one(rec, UK)
    assert "suggestions" not in card and "selectionBehavior" not in card
    assert "**Plan:**" not in card["detail"]


def test_without_a_patient_no_invalid_orders_are_offered() -> None:
    """R4 MedicationRequest/ServiceRequest.subject is 1..1; a draft update keeps its own."""
    card = render_one(make_rec("R2-start-standard-loading", UK), UK, patient_id=None)
    assert "suggestions" not in card
    rec = make_rec("R9-neuro-loading-continue", UK, labs=(LabOrder("CBC", AS_OF),))
    card = render_one(rec, UK, patient_id=None, drafts=all_drafts())
    (suggestion,) = card["suggestions"]
    assert [a["type"] for a in suggestion["actions"]] == ["update"]


def test_every_card_of_a_call_ends_with_the_same_data_quality_notes() -> None:
    """Worded once per call: the second card's block is the first's, the more-count too."""
    notes = [DataNote(f"Observation/o{i}", f"unit number {i}") for i in (3, 1, 7, 1, 5, 2, 9)]
    recs = [make_rec(rule, UK) for rule in ("R1-start-neuro-loading", "R14-lab-drift")]
    cards = render_cards(recs, profile=UK, as_of=AS_OF, patient_id=PATIENT, notes=notes)
    blocks = []
    for card in cards:
        paragraphs = card["detail"].split("\n\n")
        start = next(i for i, p in enumerate(paragraphs) if p.startswith("**Data quality:**"))
        blocks.append(paragraphs[start : start + 2])
    assert blocks[0] == blocks[1]
    assert blocks[0][1].count("- ") == 6 and blocks[0][1].endswith("1 more")  # o1 once


def test_detail_sections() -> None:
    rec = make_rec(
        "R1-start-neuro-loading", UK, safety=("S8", "S6", "S8"), sources=("UK-2", "UK-3", "UK-2")
    )
    notes = [DataNote(f"Observation/o{i}", f"unit number {i}\nnot recognised") for i in range(8)]
    detail = render_one(rec, UK, notes=notes)["detail"]
    assert detail.startswith(
        "Vitamin B12 deficiency **with neurological involvement**: neuropathy or paraesthesia "
        "(since 2025-11-02), cognitive, cord or optic signs (since 2025-12-20)."
    )
    assert (
        "**Plan:** hydroxocobalamin 1 mg IM every other day until no further improvement, "
        "then every 2 months for life."
    ) in detail
    assert "reticulocytes 2026-01-22 to 2026-01-25 (response)" in detail
    assert "potassium on 2026-01-17 (48 hours after the first dose" in detail
    assert (
        "FBC, reticulocytes, folate, ferritin, IF antibody today (baseline, before dose 1);"
    ) in detail
    # the facts, then the plan and its labs, then the card's own advice
    paragraphs = detail.split("\n\n")
    assert paragraphs[1].startswith("- Serum B12:") and paragraphs[2].startswith("**Plan:**")
    assert paragraphs[3].startswith("**Labs:**")
    # S8 is in R1's own words (safety_said), so only S6 is listed, once
    assert "- Neurological signs:" not in detail
    assert detail.count("- Severe anaemia or pancytopenia: check potassium") == 1
    assert "- Observation/o4: unit number 4 not recognised" in detail
    assert "Observation/o5" not in detail and "- and 3 more" in detail
    sources = detail.rsplit("\n\n", 1)[1]
    # each source once: UK-2 is the card's own source link, so the line has only UK-3
    assert sources == f"Sources: [{SOURCES['UK-3'].label}]({SOURCES['UK-3'].url})."


def test_detail_omits_empty_sections() -> None:
    rec = make_rec("R18-acid-suppressant-screening", US, labs=())
    detail = render_one(rec, US)["detail"]
    for heading in (
        "**Plan:**",
        "**Alternative:**",
        "**Labs:**",
        "**Safety:**",
        "**Data quality:**",
    ):
        assert heading not in detail
    assert "- Acid suppressant: acid suppression (PPI or H2RA); 3.2 years of use" in detail


def test_us_profile_says_cbc_and_uk_says_fbc() -> None:
    rec = make_rec("R17-metformin-screening", UK)
    card = render_one(rec, UK)
    assert "serum B12, FBC today" in card["detail"]  # the detail's short names
    assert "Order Full blood count (FBC), due today." in str(card["suggestions"])
    us_detail = render_one(make_rec("R17-metformin-screening", US), US)["detail"]
    assert "serum B12, CBC today" in us_detail


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_clinical_wording_rules(profile: Profile) -> None:
    """The §6.2 statements that must survive any rewording."""

    def detail(rule: str) -> str:
        return render_one(make_rec(rule, profile), profile)["detail"]

    for rule in ("R4-medication-cause", "R17-metformin-screening"):
        text = detail(rule)
        assert "**Continue metformin**" in text
        assert "do not stop it because of low B12" in text
    for rule in RULES:
        assert "stop metformin" not in detail(rule).lower().replace("not stop", "")
    assert "only because the cause was reversible and has resolved" in detail("R16-consider-stop")
    for rule in ("R1-start-neuro-loading", "R6-indeterminate-neuro"):
        text = detail(rule)
        assert "same-day admission" in text and "**urgent" in text.lower()
        assert "not wait" in text.lower() or "do not delay" in text.lower()
    r13 = detail("R13-intensify-interval")
    assert "off-label" in r13 and "documented recurrence" in r13
    assert "confirmed adherence" in r13
    r15 = detail("R15-b12-order-on-maintenance")
    assert "within 2 weeks of an injection are not interpretable" in r15
    if profile is UK:
        assert "not routinely needed" in r15 and "42 days" in r15


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
    assert [c["summary"] for c in cards] == [
        load_card_library().card(rule, "UK").summary for rule in RULES
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
