"""Numbers live in the profile, words in cards/: a threshold or interval written into a
template goes on stating the built-in value after the profile changes or a deployment
overrides it (``CDS_B12_PROFILE_OVERRIDES``), a card that says one limit while the service
uses another. So every number a template states comes from a placeholder, except the few
listed here, which are no threshold or interval of the service's."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from cds_b12.clinical.profiles import UK, US
from cds_b12.config import Settings
from cds_b12.render import render_cards
from cds_b12.render.wording import DEFAULT_CARDS_DIR

from .render_support import PATIENT
from .rule_specs import make_rec

# A number standing alone, or a range of two ("180–350", "2-3"); not part of a name such as
# B12, NG239, H2, S6 or US-6.
_NUMBER = re.compile(r"(?<![\w.–-])\d+(?:\.\d+)?(?:[–-]\d+(?:\.\d+)?)?(?![\w.]|[–-]\d)")
_PLACEHOLDER = re.compile(r"\{\w+\}")
# A citation's year after its publisher: "MHRA 2022", "MHRA (2022)", "JAMA 2013".
_CITED_YEAR = re.compile(r"(?<=[A-Z]{2} )(?:19|20)\d\d\b|(?<=[A-Z]{2} \()(?:19|20)\d\d\)")
_NOT_WORDING = {"rule", "code", "url", "safety_said"}

# (file, key) -> the numbers it may state, each with why it is no threshold of the service's.
ALLOWED: dict[tuple[str, str], tuple[str, ...]] = {
    # names: a product's strength, a unit, and the baseline lab note ("before dose 1")
    ("_defaults.toml", "product_names.CYANOKIT"): ("5",),
    ("safety.toml", "S10"): ("5",),
    ("_defaults.toml", "unit_names.EGFR"): ("1.73",),
    ("_defaults.toml", "lab_notes.baseline"): ("1",),
    # the strength of the 1 mg/mL products the volume is read in
    ("R28-order-dose-error.toml", "variants.volume.detail"): ("1",),
    # a source's regimen, quoted with its source (regimens.CATALOGUE)
    ("R10-start-maintenance.toml", "uk.detail"): ("2",),
    ("R10-start-maintenance.toml", "variants.neuro_maintenance.uk.summary"): ("2",),
    ("R10-start-maintenance.toml", "variants.neuro_maintenance.uk.detail"): ("1", "2", "2–3"),
    ("R19-bariatric-prophylaxis.toml", "uk.detail"): ("1", "2–3"),
    ("R19-bariatric-prophylaxis.toml", "us.detail"): ("1", "350–1000", "1000"),
    # what another country's guideline covers (UK-8), said of it on a US card
    ("R23-not-adult.toml", "us.detail"): ("16",),
}


def _texts(value: object, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for name, item in value.items():
            if name not in _NOT_WORDING:
                yield from _texts(item, f"{key}.{name}" if key else name)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, key)
    elif isinstance(value, str):
        yield key, value


def stated_numbers(template: str) -> list[str]:
    """The numbers ``template`` writes in itself, not from a placeholder."""
    return _NUMBER.findall(_CITED_YEAR.sub("", _PLACEHOLDER.sub("", template)))


TEMPLATES = sorted(
    (path.name, key, text)
    for path in DEFAULT_CARDS_DIR.glob("*.toml")
    for key, text in _texts(tomllib.loads(path.read_text(encoding="utf-8")))
)


@pytest.mark.parametrize(
    ("template", "numbers"),
    [
        ("Severe anaemia (Hb below 80 g/L, WHO)", ["80"]),
        ("in the indeterminate range (180–350 ng/L)", ["180–350"]),
        ("steps: 3-monthly, 2-monthly, monthly", ["3", "2"]),
        ("recheck B12 in 3–6 months", ["3–6"]),
        ("every 2-3 weeks, 1.5 mg, 1,000 micrograms", ["2-3", "1.5", "1", "000"]),
        ("FBC on {date} (week 8)", ["8"]),
        ("NICE NG239 (UK-8, US-6); B12, H2 blocker, S6, 1.73 m²", ["1.73"]),
        ("low B12 (MHRA 2022); MHRA (2022); Lam, JAMA 2013; since 2022", ["2022"]),
        ("Hb below {severe_hb_g_l} g/L, in {recheck_after_stop_span}", []),
    ],
)
def test_stated_numbers_finds_thresholds_not_names(template: str, numbers: list[str]) -> None:
    assert stated_numbers(template) == numbers


@pytest.mark.parametrize(("file", "key", "text"), TEMPLATES, ids=lambda v: str(v)[:60])
def test_no_template_writes_in_a_number(file: str, key: str, text: str) -> None:
    stated = Counter(stated_numbers(text))
    assert stated <= Counter(ALLOWED.get((file, key), ())), f"cards/{file} {key}: {stated}"


def test_every_allowed_number_is_still_there() -> None:
    """An exception outlives its wording only as a hole in the test above."""
    found = {(file, key): Counter(stated_numbers(text)) for file, key, text in TEMPLATES}
    for where, numbers in ALLOWED.items():
        assert found.get(where) == Counter(numbers), where


def _detail(rule: str, profile, variant: str | None = None) -> str:
    rec = replace(make_rec(rule, profile), variant=variant)
    (card,) = render_cards([rec], profile=profile, as_of=date(2026, 1, 15), patient_id=PATIENT)
    return card["detail"]


def test_an_overridden_value_changes_the_cards_words(tmp_path, monkeypatch) -> None:
    """R16's recheck window is a judgement value: a site that overrides it reads its own."""
    assert "recheck B12 in 3–6 months" in _detail("R16-consider-stop", UK)
    overrides = tmp_path / "overrides.toml"
    overrides.write_text("[uk]\nrecheck_after_stop_days = [60, 120]\n", encoding="utf-8")
    monkeypatch.setenv("CDS_B12_PROFILE_OVERRIDES", str(overrides))
    profile = Settings().profiles["uk"]
    detail = _detail("R16-consider-stop", profile)
    assert "recheck B12 in 2–4 months" in detail and "3–6" not in detail


@pytest.mark.parametrize(
    ("rule", "profile", "change", "said"),
    [
        ("R7-severe-anaemia", UK, {"severe_anaemia_below_g_dl": 7.0}, "Hb below 70 g/L"),
        ("R7-severe-anaemia", US, {"severe_anaemia_below_g_dl": 7.0}, "Hb below 7 g/dL"),
        ("R5-indeterminate-order-mma", UK, {"b12_indeterminate_below_ng_l": 300}, "180–300 ng/L"),
        ("R5-indeterminate-order-mma", US, {"b12_deficient_below_ng_l": 200}, "200–350 pg/mL"),
        ("R22-raised-b12", US, {"raised_b12_above_ng_l": 900}, "above 900 pg/mL"),
        ("R18-acid-suppressant-screening", UK, {"elderly_age_years": 70}, "age of 70"),
    ],
)
def test_a_changed_profile_value_is_the_one_the_card_states(rule, profile, change, said) -> None:
    assert said in _detail(rule, replace(profile, **change))


@pytest.mark.parametrize(
    ("rule", "profile", "change", "said"),
    [
        ("R1-start-neuro-loading", UK, {"potassium_recheck_days": (1, 3)}, "72 hours after"),
        ("R7-severe-anaemia", US, {"potassium_recheck_days": (1, 3)}, "72 hours after"),
        ("R10-start-maintenance", UK, {"cbc_response_days": 84}, "week 12"),
    ],
)
def test_a_lab_note_states_the_profile_value(rule, profile, change, said) -> None:
    """Why a test is due, as the detail and the order's note say it ("48 hours after the
    first dose", "week 8"), follows the profile's recheck and response days."""
    changed = replace(profile, **change)
    rec = make_rec(rule, changed)
    (card,) = render_cards([rec], profile=changed, as_of=date(2026, 1, 15), patient_id=PATIENT)
    notes = [
        note["text"]
        for suggestion in card["suggestions"]
        for action in suggestion["actions"]
        for note in action.get("resource", {}).get("note", ())
    ]
    assert said in card["detail"] and any(said in note for note in notes)
    assert "48 hours after" not in card["detail"] and "week 8" not in card["detail"]
