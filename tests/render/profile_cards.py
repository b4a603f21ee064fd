"""Every card the bundled fixtures give, in each profile, rendered once per test session.

A plain module with a unique name (not conftest) so test modules can import it.
"""

from __future__ import annotations

import functools

from cds_b12.clinical import get_profile
from cds_b12.clinical.recommendation import Recommendation
from cds_b12.hooks.response import respond

from ..scenarios import AS_OF, scenarios


@functools.cache
def fixture_rec_cards() -> tuple[tuple[str, str, Recommendation, dict], ...]:
    """``(scenario id, profile name, recommendation, card)`` for every fixture card."""
    out = []
    for s in scenarios():
        resources, drafts = s.data()
        result = respond(
            resources, profile=get_profile(s.profile), as_of=AS_OF, draft_orders=drafts
        )
        recs = result.evaluation.recommendations
        out.extend(
            (s.id, s.profile.upper(), rec, card)
            for rec, card in zip(recs, result.body["cards"], strict=True)
        )
    return tuple(out)


@functools.cache
def fixture_rule_cards() -> tuple[tuple[str, str, str, dict], ...]:
    """``(scenario id, profile name, rule, card)`` for every card of every fixture patient."""
    return tuple(
        (where, profile, rec.rule, card) for where, profile, rec, card in fixture_rec_cards()
    )


def fixture_cards() -> tuple[tuple[str, str, dict], ...]:
    """``(scenario id, profile name, card)`` for every card of every fixture patient."""
    return tuple((where, profile, card) for where, profile, _rule, card in fixture_rule_cards())
