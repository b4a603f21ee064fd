"""Issue 11 §4: every card reads in its profile's own language, in every part a clinician
sees, for every fixture patient and for every rule rendered with long facts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest

from cds_b12.clinical.cause import Cause
from cds_b12.clinical.facts import CauseFact, Findings
from cds_b12.clinical.profiles import UK, US
from cds_b12.render import load_card_library, render_cards
from cds_b12.render.wording import LABEL_KEYS

from .profile_cards import fixture_cards
from .render_support import AS_OF, PATIENT
from .rule_facts import RULES
from .rule_specs import make_rec

# The other profile's spellings, as patterns a card of this profile must never contain.
FOREIGN = {
    "UK": re.compile(
        r"\banemi|\bhem(?:at|og)|kalemi|normaliz|\bceliac|aluminum|\besophag|\bpediat"
        r"|judgment|\bCBC\b|\bparesthe",
        re.IGNORECASE,
    ),
    "US": re.compile(
        r"anaemi|haem|kalaemi|normalis|coeliac|aluminium|oesophag|paediat|judgement|\bFBC\b"
        r"|paraesthe",
        re.IGNORECASE,
    ),
}
# A number the wording itself gives (not a patient's result) in the other profile's unit.
FOREIGN_UNITS = {
    "UK": re.compile(r"\d\s*(?:g/dL|pg/mL)\b"),
    "US": re.compile(r"\d\s*(?:g/L|ng/L)\b"),
}
# Titles in a Sources line are the publisher's own words: a link's label is not ours.
_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)")


def clinician_texts(card: dict) -> Iterator[str]:
    """Everything on a card a clinician reads except the publishers' titles."""
    yield card["summary"]
    yield _LINK.sub("", card.get("detail", ""))
    for reason in card.get("overrideReasons", []):
        yield reason["display"]
    for suggestion in card.get("suggestions", []):
        yield suggestion["label"]
        for action in suggestion["actions"]:
            yield action["description"]
            resource = action.get("resource", {})
            yield resource.get("code", {}).get("text", "")
            yield from (n.get("text", "") for n in resource.get("note", []))
            yield from (d.get("text", "") for d in resource.get("dosageInstruction", []))


def rule_cards() -> Iterator[tuple[str, str, dict]]:
    for profile in (UK, US):
        recs = [make_rec(rule, profile) for rule in RULES]
        cards = render_cards(recs, profile=profile, as_of=AS_OF, patient_id=PATIENT)
        yield from ((rec.rule, profile.name, card) for rec, card in zip(recs, cards, strict=True))


def all_cards() -> list[tuple[str, str, dict]]:
    return [*fixture_cards(), *rule_cards()]


def test_no_card_uses_the_other_profiles_spelling():
    found = {
        (where, profile, match.group(0))
        for where, profile, card in all_cards()
        for text in clinician_texts(card)
        for match in FOREIGN[profile].finditer(text)
    }
    assert not found, sorted(found)


@pytest.mark.parametrize("profile", ["UK", "US"])
def test_the_fixture_cards_cover_the_profile(profile):
    assert sum(1 for _, p, _ in fixture_cards() if p == profile) >= 15


_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|^- |\n\n)\**([a-z])", re.MULTILINE)


def test_every_sentence_starts_with_a_capital():
    found = set()
    for where, _profile, card in all_cards():
        for text in (card["summary"], _LINK.sub("", card.get("detail", ""))):
            for match in _SENTENCE_START.finditer(text):
                found.add((where, text[match.start() : match.start() + 50]))
    assert not found, sorted(found)


def test_us_cards_give_b12_in_pg_per_ml_and_no_card_invents_decimals():
    found = set()
    for where, profile, card in all_cards():
        detail = _LINK.sub("", card.get("detail", ""))
        if profile == "US":  # ng/L only where the lab itself reported it so
            found.update((where, m.group(0)) for m in re.finditer(r"\([\d.]+ ng/L\)", detail))
        # A converted B12 is rounded as a lab reports it: "257 ng/L", never "257.45 ng/L".
        found.update((where, m.group(0)) for m in re.finditer(r"\d+\.\d+ (ng/L|pg/mL)", detail))
    assert not found, sorted(found)


@pytest.mark.parametrize("profile", [UK, US], ids=lambda p: p.name)
@pytest.mark.parametrize(
    ("cause", "lifelong"),
    [(Cause.IRREVERSIBLE_MALABSORPTION, True), (Cause.UNKNOWN, False), (Cause.MEDICATION, False)],
)
def test_for_life_only_for_an_irreversible_cause(profile, cause, lifelong):
    """Issue 11 §4: nitrous oxide (a drug cause) or an unknown cause is not "for life", in
    the plan, the alternative or the order's own instructions."""
    for rule in ("R2-start-standard-loading", "R10-start-maintenance"):
        rec = make_rec(rule, profile)
        rec = replace(
            rec,
            facts={**rec.facts, "cause": CauseFact(cause, Findings(()))},
            lifelong=cause is Cause.IRREVERSIBLE_MALABSORPTION,  # as the core reads the cause
        )
        [card] = render_cards([rec], profile=profile, as_of=AS_OF, patient_id=PATIENT)
        plan = [line for line in card["detail"].splitlines() if line.startswith("**Plan:**")]
        texts = [
            d["text"]
            for s in card["suggestions"]
            for a in s["actions"]
            for d in a.get("resource", {}).get("dosageInstruction", [])
        ]
        texts += [a["description"] for s in card["suggestions"] for a in s["actions"]]
        assert plan
        assert ("for life" in plan[0]) is lifelong
        if not lifelong:
            assert not [t for t in texts if "for life" in t]


def test_no_card_says_injections_continue_for_life_on_an_oral_plan():
    found = []
    for where, _profile, card in all_cards():
        plan = next(
            (line for line in card.get("detail", "").splitlines() if line.startswith("**Plan:**")),
            "",
        )
        if "by mouth" in plan and "injections continue for life" in card["detail"]:
            found.append(where)
    assert not found


def test_every_wording_of_every_card_is_in_its_profiles_spelling():
    """Also the variants and profile tables no fixture happens to render; a threshold the
    wording states is in the profile's unit (UK Hb in g/L, US B12 in pg/mL)."""
    library = load_card_library()
    found = []
    for rule in library.rules():
        for profile in ("UK", "US"):
            defaults = library.table("variants", profile)
            for variant in dict.fromkeys((None, *library.variants(rule), *defaults)):
                wording = library.card(rule, profile, variant)
                texts = [wording.summary, wording.detail]
                texts += [getattr(wording, key) for key in LABEL_KEYS]
                for text in texts:
                    found += [
                        (rule, profile, variant, m.group(0))
                        for pattern in (FOREIGN[profile], FOREIGN_UNITS[profile])
                        for m in pattern.finditer(_LINK.sub("", text))
                    ]
    for profile in ("UK", "US"):
        for sid in library.safety:
            if sid in ("uk", "us"):
                continue
            text = library.safety.get(profile.lower(), {}).get(sid) or library.safety[sid]
            found += [
                ("safety", profile, sid, m.group(0))
                for pattern in (FOREIGN[profile], FOREIGN_UNITS[profile])
                for m in pattern.finditer(text)
            ]
    assert not found, found


# A word said twice in a row ("check check"), one clause after another starting with the
# same verb ("check the unit; check that one"), or a test due "today (now)": the reason
# repeats the window.
_SAID_TWICE = re.compile(
    r"\b([a-z]+)\s+\1\b|\b(check|order|give|start|ask)\b[^.;()]*;\s*\2\b|\btoday \(now\)",
    re.IGNORECASE,
)


def test_no_card_says_a_word_twice():
    found = {
        (where, profile, text[max(0, m.start() - 30) : m.end() + 10])
        for where, profile, card in all_cards()
        for text in clinician_texts(card)
        for m in _SAID_TWICE.finditer(text)
    }
    assert not found, sorted(found)
