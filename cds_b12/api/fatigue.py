"""Alert-fatigue control on the request path: the caller's site settings
(``fatigue/sites.py``: rules switched off, indicators, hold periods), then one history
query per hook call, then the cards ``fatigue.policy`` holds back are taken out of the
response, and each card shown says when the same rule's card was dismissed before, and why.

The held cards are named in the response's ``extension`` (``HELD_EXTENSION``: rule, why,
until), so a developer (and the preview) can see what was not shown; an EHR ignores it. If
the store cannot be read, every card is shown (a warning is logged): advice matters more
than its history.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from ..auth.verify import Caller
from ..fatigue.fingerprint import Fingerprint, fingerprints
from ..fatigue.policy import Dismissal, Hold, decide, dismissals, is_critical
from ..hooks.request import HookCall
from ..hooks.response import HookResult
from ..render.escape import Markup
from ..store.history import history
from .runtime import Runtime

log = logging.getLogger("cds_b12.fatigue")
HELD_EXTENSION = "cds-b12.held"


@dataclass(frozen=True, slots=True)
class Shown:
    """What a call shows, what it held back, and the facts' hash of every card it made."""

    cards: list[tuple[str, dict]]  # (rule id, card)
    held: list[Hold] = field(default_factory=list)
    fingerprints: Mapping[str, Fingerprint] = field(default_factory=dict)


def hold_back(
    rt: Runtime,
    call: HookCall,
    caller: Caller | None,
    result: HookResult,
    patient_key: str,
) -> Shown:
    """The caller's site settings first (rules switched off, indicators), then the holds."""
    rules = [rec.rule for rec in result.evaluation.recommendations]
    cards = list(zip(rules, result.body["cards"], strict=True))
    if not cards:
        return Shown(cards)
    issuer, tenant = (caller.issuer.iss, caller.tenant) if caller else (None, None)
    site = rt.sites.site(tenant, issuer)
    facts = fingerprints(result.evaluation)
    off = [Hold(r, "off", None) for r, c in cards if site.switched_off(r, c["indicator"])]
    cards = [(r, c) for r, c in cards if not site.switched_off(r, c["indicator"])]
    if not cards:
        return Shown(cards, off, facts)
    for rule, card in cards:
        card["indicator"] = site.indicator(rule, card["indicator"])
    policy = site.policy
    now = datetime.now(UTC)
    encounter = encounter_of(call)
    try:
        past = history(
            rt.db,
            patient_key=patient_key,
            issuer=issuer,
            tenant=tenant,
            hook_instance=call.hook_instance,
            encounter=encounter,
            since=now - policy.lookback,
        )
    except SQLAlchemyError as exc:
        log.warning(
            "card history not read; every card shown",
            extra={"fields": {"error": type(exc).__name__}},
        )
        return Shown(cards, off, facts)
    shown, held = [], off
    for rule, card in cards:
        hold = decide(
            rule,
            facts[rule],
            critical=is_critical(rule, card["indicator"]),
            now=now,
            hook_instance=call.hook_instance,
            encounter=encounter,
            past=past,
            policy=policy,
        )
        if hold is not None:
            held.append(hold)
            continue
        before = dismissals(rule, past)
        if before:
            card["detail"] = f"{card['detail']}\n\n{_dismissed(rt, call, card, before)}"
        shown.append((rule, card))
    return Shown(shown, held, facts)


def encounter_of(call: HookCall) -> str | None:
    value = call.context.get("encounterId")
    return value if isinstance(value, str) and value else None


def held_extension(held: Sequence[Hold]) -> dict:
    return {
        HELD_EXTENSION: [
            {
                "rule": h.rule,
                "why": h.why,
                **({"reason": h.reason} if h.reason else {}),
                **({"until": h.until.isoformat()} if h.until else {}),
            }
            for h in held
        ]
    }


def _dismissed(rt: Runtime, call: HookCall, card: dict, before: Sequence[Dismissal]) -> str:
    profile = (call.profile or rt.profile.name).lower()
    displays = {r["code"]: r["display"] for r in card.get("overrideReasons", [])}
    none = rt.cards.text("sections", "dismissed_no_reason", profile, {})
    items = [
        rt.cards.text(
            "sections",
            "dismissed_item",
            profile,
            {
                "date": d.on.date().isoformat(),
                "reason": displays.get(d.reason, d.reason) if d.reason else none,
            },
        )
        for d in before
    ]
    return rt.cards.text(
        "sections", "dismissed", profile, {"dismissals": Markup.joined("; ", items)}
    )
