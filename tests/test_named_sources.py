"""Every source a card's wording names is among the sources that card cites, for every
rule and card variant, and every safety line a card can show, in both profiles
(b12-clinical.md §9: a card cites what its text says, and its text names only what it
cites)."""

from __future__ import annotations

import re

import pytest

from cds_b12.clinical import get_profile
from cds_b12.clinical.safety import REGION_SAFETY_SOURCES, SAFETY_SOURCES, safety_sources
from cds_b12.clinical.sources import SOURCES, rule_sources
from cds_b12.render import load_card_library
from cds_b12.render.wording_checks import PROFILE_TABLES

from .render.render_support import shared_values
from .render.rule_specs import VARIANTS

# How card text names a source -> a part of the §9 labels it names (sources.SOURCES).
NAMES = {
    r"\bFDA label\b": "FDA cyanocobalamin injection label",
    r"\bSmPC\b": "SmPC",
    r"\bNG239\b": "NICE NG239",
    r"\bCKS\b": "NICE CKS",
    r"\bBNF\b": "BNF",
    r"\bBSH\b": "BSH 2014",
    r"\bStabler\b": "Stabler",
    r"\bBMJ\b": "BMJ Best Practice",
    r"\bAFP 2017\b": "Am Fam Physician 2017",
    r"\bAFP 2025\b": "Am Fam Physician 2025",
    r"\bAFP\b(?! 20)": "Am Fam Physician",
    r"\bCochrane\b": "Cochrane",
    r"\bASMBS\b": "ASMBS",
    r"\bADA\b": "ADA Standards",
    r"\bMHRA\b": "MHRA",
    r"\bLothian\b": "NHS Lothian",
    r"\bBNSSG\b": "BNSSG",
    r"\bMayo\b": "Mayo Clinic",
    r"\bWHO\b": "WHO:",
}
FIELDS = (
    "summary",
    "detail",
    "suggestion_label",
    "alternative_label",
    "labs_label",
    "remove_label",
)


def _cases() -> list[tuple[str, str | None, str]]:
    library = load_card_library()
    variants = {(rule, None) for rule in library.rules()}
    variants |= {(rule, v) for rule in library.rules() for v in library.variants(rule)}
    variants |= {(rule, str(v)) for rule, v in VARIANTS}
    return [(r, v, p) for r, v in sorted(variants, key=str) for p in ("UK", "US")]


def named(text: str) -> set[str]:
    """The label parts of the sources ``text`` names."""
    return {label for pattern, label in NAMES.items() if re.search(pattern, text)}


def _uncited(text: str, cited: list[str]) -> set[str]:
    """The names in ``text`` that none of the ``cited`` labels contains."""
    return {name for name in named(text) if not any(name in label for label in cited)}


def test_every_name_matches_a_source_label():
    labels = [s.label for s in SOURCES.values()]
    for label in NAMES.values():
        assert any(label in full for full in labels), label


@pytest.mark.parametrize(("rule", "variant", "profile"), _cases(), ids=str)
def test_a_card_cites_every_source_its_text_names(rule, variant, profile):
    wording = load_card_library().card(rule, profile, variant)
    text = " ".join(getattr(wording, field) for field in FIELDS)
    region = get_profile(profile.lower()).citation_region
    cited = [SOURCES[sid].label for sid in rule_sources(rule, region, variant)]
    if wording.source is not None:
        cited.append(wording.source.label)
    missing = _uncited(text, cited)
    assert not missing, (missing, cited)


@pytest.mark.parametrize(("sid", "profile"), [(s, p) for s in SAFETY_SOURCES for p in ("UK", "US")])
def test_a_safety_line_cites_every_source_its_text_names(sid, profile):
    library = load_card_library()
    text = library.safety_text(sid, profile, shared_values(library, profile))
    region = get_profile(profile.lower()).citation_region
    cited = [SOURCES[s].label for s in safety_sources(sid, region)]
    assert not _uncited(text, cited), (sid, profile, cited)


def test_every_safety_line_declares_its_sources_and_nothing_else_does():
    """A profile's own sources for a line go with that profile's own wording of it."""
    safety = load_card_library().safety
    lines = {sid for sid in safety if sid not in PROFILE_TABLES}
    assert lines == set(SAFETY_SOURCES), lines ^ set(SAFETY_SOURCES)
    for region, own in REGION_SAFETY_SOURCES.items():
        assert set(own) <= set(safety[region.lower()]), (region, own)
