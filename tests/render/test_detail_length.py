"""Issue 11 §4: details a clinician reads at the point of care: the patient's facts and the
plan first, a median under 800 characters and none over 1,500 across every fixture card,
each source once and only the safety qualifiers the card's own words do not already say."""

from __future__ import annotations

import re
import statistics

from cds_b12.render import load_card_library

from .profile_cards import fixture_cards, fixture_rule_cards
from .render_support import shared_values

MEDIAN_MAX = 800
LONGEST = 1500


def test_details_are_short():
    lengths = sorted((len(card["detail"]), where) for where, _p, card in fixture_cards())
    assert statistics.median(n for n, _ in lengths) < MEDIAN_MAX, lengths
    assert not [(n, where) for n, where in lengths if n > LONGEST]


def test_the_plan_comes_right_after_the_patients_facts():
    for where, _profile, card in fixture_cards():
        paragraphs = card["detail"].split("\n\n")
        plan = next((i for i, p in enumerate(paragraphs) if p.startswith("**Plan:**")), None)
        if plan is None:
            continue
        facts = next((i for i, p in enumerate(paragraphs[:plan]) if p.startswith("- ")), 0)
        assert plan == facts + 1, (where, paragraphs[: plan + 1])


def test_each_source_once_and_no_safety_line_the_card_already_says():
    library = load_card_library()
    for where, profile, rule, card in fixture_rule_cards():
        urls = re.findall(r"\]\((https?://[^)]+)\)", card["detail"])
        assert len(urls) == len(set(urls)) and card["source"]["url"] not in urls, where
        said = library.card(rule, profile).safety_said
        for sid in said:
            sentence = library.safety_text(sid, profile, shared_values(library, profile))
            assert sentence not in card["detail"], (where, sid)


def test_a_card_names_its_plan_rather_than_pointing_below_it():
    """The plan now comes right after the facts: "the regimen is below" would point the
    wrong way, so the wording says "the Plan"."""
    found = [
        (where, m.group(0))
        for where, _profile, card in fixture_cards()
        for m in re.finditer(r"\b(?:is|plan|order) (?:below|above)\b", card["detail"], re.I)
    ]
    assert not found
