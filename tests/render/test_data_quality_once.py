"""Each thing once on a card: a data-quality note the card's own text already says (R25
leads with the result it could not read; a card resting on an older value names the newer
one) is not listed again under "Data quality", and every other card still lists it."""

from __future__ import annotations

from cds_b12.clinical import get_profile
from cds_b12.hooks.response import respond
from cds_b12.render import note_lines
from cds_b12.render.escape import escape

from ..scenarios import AS_OF, scenarios

_HEADING = "**Data quality:**"


def _responses():
    for s in scenarios():
        resources, drafts = s.data()
        profile = get_profile(s.profile)
        result = respond(resources, profile=profile, as_of=AS_OF, draft_orders=drafts)
        notes = note_lines(list(result.evaluation.notes), profile=profile)
        # As a card holds FHIR text: escaped (see render/escape.py).
        yield s.id, result.body["cards"], [(escape(r), escape(m)) for r, m in notes]


def test_a_note_is_said_once_on_each_card():
    """Never both in the card's words and in its list; a note the card does not say is
    listed (or counted in "and N more" beyond the block's first lines)."""
    said_in_text = 0
    for where, cards, notes in _responses():
        for card in cards:
            text, _, block = card["detail"].partition(_HEADING)
            for resource, message in dict.fromkeys(notes):
                listed = f"- {resource}: {message}" in block
                said = message in text
                assert not (listed and said), (where, card["summary"], message)
                assert said or listed or "more" in block, (where, card["summary"], message)
                said_in_text += said
    assert said_in_text  # the fixtures hold cards that say a note in their own words


def test_a_card_that_says_every_note_has_no_data_quality_block():
    found = 0
    for where, cards, notes in _responses():
        for card in cards:
            text, heading, _ = card["detail"].partition(_HEADING)
            if notes and all(message in text for _r, message in notes):
                assert not heading, where
                found += 1
    assert found
