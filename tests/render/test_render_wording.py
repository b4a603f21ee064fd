"""Card wording files: complete, well-formed, and loud when a placeholder is wrong."""

from __future__ import annotations

import itertools
import re
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from cds_b12.clinical.profiles import UK, US, Profile
from cds_b12.render import RenderError, load_card_library, render_cards
from cds_b12.render.escape import Markup
from cds_b12.render.wording import (
    _SENTENCE_END,
    CARDS_DIR_ENV,
    DEFAULT_CARDS_DIR,
    LABEL_KEYS,
    CardLibrary,
    fill,
    placeholders,
    sentence_start,
)

from .render_support import PATIENT, PROFILES, shared_values
from .rule_facts import ALWAYS_FACTS, AUTOMATIC, REGIMEN_PLACEHOLDERS, RULE_FACTS, RULES
from .rule_specs import VARIANTS, make_rec

SAFETY_IDS = [
    *(f"S{i}" for i in range(1, 17)),
    "S6-low-baseline",
    "S6-low-loading",
    "S6-severity-open",
    "S9-severity-open",
    "S11-breastfeeding",
]


def test_one_card_file_per_rule(library: CardLibrary) -> None:
    assert sorted(library.rules()) == sorted(RULES)


def test_default_directory_is_the_repo_cards_folder() -> None:
    # cds_b12/cards links to it, so an installed wheel carries the same files
    assert Path(__file__).resolve().parents[2] / "cards" == DEFAULT_CARDS_DIR.resolve()
    assert (DEFAULT_CARDS_DIR / "README.md").is_file()


def test_every_safety_rule_has_wording(library: CardLibrary) -> None:
    for profile in PROFILES:
        for sid in SAFETY_IDS:
            text = library.safety_text(sid, profile.name, shared_values(library, profile.name))
            assert text.endswith(".") and len(text) < 240, sid


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_cards_use_only_the_facts_their_rule_provides(
    rule: str, profile: Profile, library: CardLibrary
) -> None:
    """A placeholder outside the promised facts would fail only for real patients."""
    wording = library.card(rule, profile.name)
    allowed = set(ALWAYS_FACTS) | set(RULE_FACTS[rule]) | AUTOMATIC
    for field in ("summary", "detail"):
        used = set(placeholders(getattr(wording, field)))
        assert used <= allowed, f"{rule} {field}: {used - allowed}"
    for field in LABEL_KEYS:
        used = set(placeholders(getattr(wording, field)))
        assert used <= allowed | REGIMEN_PLACEHOLDERS, f"{rule} {field}: {used - allowed}"


@pytest.mark.parametrize("case", VARIANTS, ids=lambda c: f"{c[0]}-{c[1].value}")
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_card_variants_use_only_the_facts_they_are_given(
    case, profile: Profile, library: CardLibrary
) -> None:
    rule, variant = case
    wording = library.card(rule, profile.name, variant)
    allowed = set(ALWAYS_FACTS) | set(RULE_FACTS[rule]) | set(VARIANTS[case].get("facts", {}))
    for field in ("summary", "detail", *LABEL_KEYS):
        used = set(placeholders(getattr(wording, field)))
        assert used <= allowed | AUTOMATIC | REGIMEN_PLACEHOLDERS, f"{rule} {field}"
    assert wording.summary.startswith(ACTION_VERBS), wording.summary


def test_a_variant_the_card_file_lacks_is_an_error(library: CardLibrary) -> None:
    with pytest.raises(RenderError, match=r"no \[variants\.nope\]"):
        library.card("R2-start-standard-loading", "UK", "nope")


ACTION_VERBS = (
    "Start ",
    "Give ",
    "Order ",
    "Check ",
    "Do not ",
    "Continue ",
    "Arrange ",
    "Shorten ",
    "Consider ",
    "Remove ",
)


@pytest.mark.parametrize("rule", RULES)
def test_summaries_lead_with_an_action(rule: str, library: CardLibrary) -> None:
    for profile in PROFILES:
        summary = library.card(rule, profile.name).summary
        assert summary.startswith(ACTION_VERBS), summary


def test_fill_replaces_and_neutralises_braces() -> None:
    assert fill("B12 {b12}.", {"b12": "90 {ng/L}"}, "t") == "B12 90 (ng/L)."


def test_fill_escapes_values_but_inserts_the_renderers_own_markup_as_it_is() -> None:
    values = {"a": "**x**", "b": Markup("**y**")}
    assert fill("{a} {b}", values, "t") == "\\*\\*x\\*\\* **y**"


def test_fill_capitalises_a_value_that_starts_a_sentence_whatever_came_before() -> None:
    values = {"a": "x.", "b": "y", "c": "z"}
    assert fill("{a} {b} {c}.", values, "t", sentences=True) == "X. Y z."
    assert fill("no. {b} - {c}\n- **{b}**", values, "t", sentences=True) == "no. Y - z\n- **Y**"


def test_a_literal_that_decides_a_sentence_start_alone_decides_it_for_any_text_before() -> None:
    """``sentence_start``, worked out once per template, against the search over the whole
    text that ``fill`` would otherwise run: every literal of up to four characters."""
    alphabet = ".!?- \n*a"
    befores = ("", "a", ".", "!", " ", "\n", "*", "\n-", ". *", "a\n")
    for size in range(5):
        for literal in map("".join, itertools.product(alphabet, repeat=size)):
            decided = sentence_start(literal)
            if decided is None:
                continue
            for before in befores:
                assert decided == bool(_SENTENCE_END.search(before + literal)), (before, literal)
    # only a literal of spaces and asterisks, or a "-" after them, is left to each fill
    assert sentence_start(": **") is False and sentence_start(".  ") is True
    assert sentence_start("- ") is None and sentence_start(" **") is None


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("B12 is {b21}", "unknown placeholder {b21}"),
        ("B12 is {b12!r}", "plain {name}"),
        ("B12 is {b12:>10}", "plain {name}"),
        ("B12 is {facts.b12}", "plain {name}"),
        ("B12 is {}", "plain {name}"),
        ("literal {{braces}}", "literal braces"),
        ("unclosed {b12", "malformed braces"),
    ],
)
def test_fill_rejects_bad_templates(template: str, message: str) -> None:
    with pytest.raises(RenderError, match=re.escape(message)):
        fill(template, {"b12": "90 ng/L"}, "cards/X.toml summary")


def _copy_cards(tmp_path: Path) -> Path:
    target = tmp_path / "cards"
    shutil.copytree(DEFAULT_CARDS_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_unknown_placeholder_raises_naming_card_and_placeholder(tmp_path: Path) -> None:
    cards = _copy_cards(tmp_path)
    _edit(cards / "R11-maintenance-overdue.toml", "Give the overdue", "Give the {dose_due}")
    library = load_card_library(cards)
    rec = make_rec("R11-maintenance-overdue", UK)
    with pytest.raises(RenderError) as caught:
        render_cards(
            [rec], profile=UK, as_of=date(2026, 1, 15), patient_id=PATIENT, library=library
        )
    assert "cards/R11-maintenance-overdue.toml" in str(caught.value)
    assert "{dose_due}" in str(caught.value)


def test_missing_fact_raises() -> None:
    rec = make_rec("R17-metformin-screening", US)
    del rec.facts["metformin_dose"]
    with pytest.raises(RenderError, match=r"\{metformin_dose\}"):
        render_cards([rec], profile=US, as_of=date(2026, 1, 15), patient_id=PATIENT)


def test_missing_card_file_raises() -> None:
    rec = replace(make_rec("R11-maintenance-overdue", UK), rule="R99-made-up")
    with pytest.raises(RenderError, match=re.escape("cards/R99-made-up.toml")):
        render_cards([rec], profile=UK, as_of=date(2026, 1, 15), patient_id=PATIENT)


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("R3-dietary-oral.toml", 'rule = "R3-dietary-oral"', 'rule = "R3"', "file name"),
        ("R3-dietary-oral.toml", "summary =", "sumary =", "unknown keys"),
        ("R3-dietary-oral.toml", "[uk]", "[uk]\nsummmary = 'x'", "unknown keys"),
        ("R3-dietary-oral.toml", "Start oral", "Start {{oral}}", "literal braces"),
        ("_defaults.toml", 'display = "Patient declined"', 'disp = "x"', "code and display"),
        (
            "_defaults.toml",
            'plan = "**Plan:** {schedule}."',
            'plan = "{regimen}"',
            "unknown placeholders",
        ),
        ("_defaults.toml", 'TSH = "TSH"', 'VITAMIN_Q = "Q"', "ORDERABLE_LABS"),
        ("safety.toml", "S1 =", "X1 =", "not a safety rule ID"),
        (
            "R3-dietary-oral.toml",
            'rule = "R3-dietary-oral"',
            'rule = "R3-dietary-oral"\nsource = { label = "x", url = "not a url" }',
            "absolute URL",
        ),
    ],
)
def test_bad_wording_fails_at_load(
    tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    cards = _copy_cards(tmp_path)
    _edit(cards / file, old, new)
    with pytest.raises(RenderError, match=re.escape(message)):
        load_card_library(cards)


def test_missing_defaults_fails_at_load(tmp_path: Path) -> None:
    cards = _copy_cards(tmp_path)
    (cards / "_defaults.toml").unlink()
    with pytest.raises(RenderError, match=re.escape("_defaults.toml")):
        load_card_library(cards)


def test_default_library_is_cached() -> None:
    assert load_card_library() is load_card_library()


def test_env_var_overrides_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cards = _copy_cards(tmp_path)
    _edit(
        cards / "R18-acid-suppressant-screening.toml",
        'summary = "Check serum B12 and CBC:',
        'summary = "Check serum B12 and CBC (local wording):',
    )
    monkeypatch.setenv(CARDS_DIR_ENV, str(cards))
    library = load_card_library()
    assert library.root == cards.resolve()
    assert library is load_card_library()
    assert "(local wording)" in library.card("R18-acid-suppressant-screening", "US").summary


def test_explicit_directory_is_read_afresh(tmp_path: Path) -> None:
    cards = _copy_cards(tmp_path)
    assert load_card_library(cards) is not load_card_library(cards)
