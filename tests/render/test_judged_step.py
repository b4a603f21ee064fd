"""§7.7: a maintenance step below the labelled interval is "supported only as a
clinician-judged intensification ... never default". A clinician reading a card in a few
seconds takes a "**Plan:**" line as the plan, so a judged step is shown as an option that
needs their judgement, in the detail, the summary and the suggestion label alike."""

from __future__ import annotations

from cds_b12.clinical.profiles import UK, US
from cds_b12.render import load_card_library

from .profile_cards import fixture_rec_cards
from .render_support import render_one
from .rule_specs import make_rec

OPTION = {
    "UK": "**Option (clinician's judgement; below the labelled interval):**",
    "US": "**Option (clinician's judgment; below the labeled interval):**",
}


def _judged_cards():
    return [(where, p, card) for where, p, rec, card in fixture_rec_cards() if rec.judged]


def test_the_fixtures_hold_a_judged_step():
    assert _judged_cards()  # else the tests below would pass on nothing


def test_a_judged_step_is_an_option_not_the_plan():
    for where, profile, card in _judged_cards():
        paragraphs = card["detail"].split("\n\n")
        assert not [p for p in paragraphs if p.startswith("**Plan:**")], where
        assert [p for p in paragraphs if p.startswith(OPTION[profile])], where


def test_a_judged_steps_summary_and_label_do_not_present_it_as_the_plan():
    for where, _profile, card in _judged_cards():
        assert not card["summary"].lower().startswith(("shorten", "change", "start")), where
        for suggestion in card.get("suggestions", ()):
            if any(
                a["resource"]["resourceType"] == "MedicationRequest"
                for a in suggestion["actions"]
                if "resource" in a
            ):
                assert "clinician's judg" in suggestion["label"], (where, suggestion["label"])


def test_a_labelled_step_keeps_its_plan_line():
    for profile in (UK, US):
        rec = make_rec("R10-start-maintenance", profile)
        assert not rec.judged
        assert "\n\n**Plan:**" in render_one(rec, profile)["detail"]


def test_a_judged_step_renders_as_an_option_in_both_profiles():
    regimen = make_rec("R13-intensify-interval", US).regimen
    for profile in (UK, US):
        rec = make_rec("R14-lab-drift", profile, regimen=regimen, judged=True)
        detail = render_one(rec, profile)["detail"]
        assert OPTION[profile.name] in detail and "**Plan:**" not in detail, profile.name


def test_the_us_reload_does_not_claim_the_shortest_interval():
    """879bde0: US R13 re-loads from any interval whose next step (every 2-3 weeks) is
    off-label (§7.7), even from 3-monthly: monthly is the label's shortest, not the
    service's, and not always the patient's."""
    library = load_card_library()
    us = library.card("R13-intensify-interval", "US", "reload")
    assert "shortest interval" not in us.summary and len(us.summary) < 140
    assert "no shorter maintenance step" not in us.detail
    assert "the label's shortest is monthly" in us.detail
    uk = library.card("R13-intensify-interval", "UK", "reload").summary
    assert "symptoms are back on the shortest interval" in uk
