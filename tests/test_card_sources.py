"""Every link a clinician can follow from a card goes to the publisher (b12-clinical.md §9),
in every fixture patient, both profiles and every hook; and each profile cites its own
sources first."""

from __future__ import annotations

import json
import re
from functools import cache
from urllib.parse import urlsplit

import pytest

from cds_b12.clinical import get_profile
from cds_b12.clinical.sources import NAMED_SOURCES, SOURCES, Region
from cds_b12.fhir.read import collect_resources
from cds_b12.fhir.redate import redate
from cds_b12.hooks.fixtures import fixture_patients
from cds_b12.hooks.response import HOOKS, ORDER_HOOKS, respond, split_drafts
from cds_b12.render import load_card_library

from .scenarios import AS_OF

# The publishers' own hosts for the citations of b12-clinical.md §9. A mirror, summary,
# blog or library proxy (§8) is never one of them.
PUBLISHER_HOSTS = frozenset(
    {
        "bnf.nice.org.uk",
        "cks.nice.org.uk",
        "www.nice.org.uk",
        "www.medicines.org.uk",
        "doi.org",
        "dailymed.nlm.nih.gov",
        "pubmed.ncbi.nlm.nih.gov",
        "bestpractice.bmj.com",
        "professional.diabetes.org",
        "www.gov.uk",
        "apps.nhslothian.scot",
        "remedy.bnssg.icb.nhs.uk",
        "www.mayocliniclabs.com",
        "www.who.int",
    }
)
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
RUNS = [
    (patient, profile, hook)
    for patient in fixture_patients()
    for profile in ("us", "uk")
    for hook in HOOKS
]


def assert_publisher(url: str) -> None:
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.hostname in PUBLISHER_HOSTS, url


@cache
def _response(patient, profile: str, hook: str):
    resources = collect_resources(redate(json.loads(patient.path.read_text()), AS_OF))
    record, drafts = split_drafts(resources)
    return respond(
        record,
        profile=get_profile(profile),
        as_of=AS_OF,
        draft_orders=drafts if hook in ORDER_HOOKS else None,
    )


def test_every_source_goes_to_a_publisher():
    for sid, source in SOURCES.items():
        assert_publisher(source.url)
        assert source.label.strip() == source.label and source.label, sid


def test_a_card_files_own_source_goes_to_a_publisher():
    library = load_card_library()
    for rule in library.rules():
        for profile in ("UK", "US"):
            source = library.card(rule, profile).source
            if source is not None:
                assert_publisher(source.url)


@pytest.mark.parametrize(
    ("patient", "profile", "hook"), RUNS, ids=lambda v: getattr(v, "patient_id", v)
)
def test_card_links_go_to_publishers(patient, profile, hook):
    for card in _response(patient, profile, hook).body["cards"]:
        assert_publisher(card["source"]["url"])
        links = LINK.findall(card["detail"])
        sources_line = [line for line in card["detail"].split("\n") if line.startswith("Sources:")]
        assert len(sources_line) <= 1, card["detail"]
        # each source once: the card's own source link is not repeated in its Sources line
        assert all(url != card["source"]["url"] for _label, url in links), card["detail"]
        if sources_line:
            assert LINK.findall(sources_line[0]), sources_line
        for _label, url in links:
            assert_publisher(url)


@pytest.mark.parametrize(
    ("patient", "profile", "hook"), RUNS, ids=lambda v: getattr(v, "patient_id", v)
)
def test_each_profile_cites_its_own_sources_first(patient, profile, hook):
    """b12-clinical.md §9: the US cites the FDA label, AFP, Stabler, ADA first; the UK the
    BNF, NICE and the SmPC. The other country's sources come last, and only where none of
    the profile's own covers the card or where the card's text names them."""
    own = get_profile(profile).citation_region
    rank = {own: 0, Region.INTL: 1}
    for rec in _response(patient, profile, hook).evaluation.recommendations:
        regions = [SOURCES[sid].region for sid in rec.sources]
        ranks = [rank.get(region, 2) for region in regions]
        assert ranks == sorted(ranks), (rec.rule, rec.sources)
        named = NAMED_SOURCES.get((rec.rule, rec.variant or ""), ())
        unnamed = [r for sid, r in zip(rec.sources, ranks, strict=True) if sid not in named]
        assert not (0 in ranks and 2 in unnamed), (rec.rule, rec.sources)


def _cards(folder: str, profile: str) -> list[dict]:
    patient = next(p for p in fixture_patients() if p.folder == folder)
    return _response(patient, profile, patient.hook).body["cards"]


def test_us_neuro_card_leads_with_a_us_source():
    (card,) = _cards("R1-start-neuro-loading", "us")
    assert card["source"]["url"] == SOURCES["US-3"].url


def test_uk_folate_card_cites_uk_guidance_not_the_fda_label():
    (card,) = _cards("R20-folate-without-b12", "uk")
    assert urlsplit(card["source"]["url"]).hostname == "cks.nice.org.uk"
    assert "dailymed" not in card["detail"] and "FDA" not in card["detail"]


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_the_child_r7_card_cites_what_it_rests_on_not_the_adult_who_cut_off(profile):
    """Below the adult age R7 rests on the lab's own flag and paediatric advice (NICE NG239
    is for over-16s, as R23 cites), plus hypokalaemia and pancytopenia; it applies no WHO
    adult Hb cut-off, so it does not cite one."""
    patient = next(p for p in fixture_patients() if p.path.stem == "child-critical-hb-fires")
    cards = _response(patient, profile, patient.hook).body["cards"]
    (card,) = [c for c in cards if "in a child" in c["summary"]]
    urls = {card["source"]["url"], *(url for _label, url in LINK.findall(card["detail"]))}
    assert SOURCES["WHO-2.6"].url not in urls
    if profile == "uk":
        assert card["source"]["url"] == SOURCES["UK-8"].url
        assert SOURCES["UK-5"].url in urls and "FDA" not in card["detail"]
    else:
        assert card["source"]["url"] == SOURCES["US-2"].url


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_the_nitrous_oxide_homocysteine_card_cites_nice_ng239(profile):
    patient = next(p for p in fixture_patients() if p.path.stem == "nitrous-oxide-normal-b12-fires")
    (card,) = _response(patient, profile, patient.hook).body["cards"]
    assert card["source"]["url"] == SOURCES["SP-9"].url
    assert SOURCES["US-6"].url not in card["detail"]


# A product monograph is about one B12 product: its page is the source for that product's
# dose and schedule, not another's. What a card's text calls each one when it names it.
MONOGRAPHS = {
    SOURCES["UK-1"].url: ("hydroxocobalamin", ("BNF",)),
    SOURCES["UK-5"].url: ("hydroxocobalamin", ("SmPC",)),
    SOURCES["US-1"].url: ("cyanocobalamin", ("FDA label",)),
}
# RxNorm codes of the products cds-b12 orders (regimens.py), as the suggestions carry them.
ORDERED_INGREDIENT = {
    "317106": "hydroxocobalamin",
    "309594": "cyanocobalamin",
    "309593": "cyanocobalamin",
    "309595": "cyanocobalamin",
}


def _ordered_ingredients(card: dict) -> set[str]:
    return {
        ORDERED_INGREDIENT[coding["code"]]
        for suggestion in card.get("suggestions", [])
        for action in suggestion["actions"]
        if (resource := action.get("resource", {})).get("resourceType") == "MedicationRequest"
        and resource.get("status") == "draft"
        for coding in resource["medicationCodeableConcept"]["coding"]
    }


@pytest.mark.parametrize(
    ("patient", "profile", "hook"), RUNS, ids=lambda v: getattr(v, "patient_id", v)
)
def test_no_card_cites_the_monograph_of_a_product_it_does_not_order(patient, profile, hook):
    """A UK card ordering cyanocobalamin cited 'BNF: hydroxocobalamin' and the
    hydroxocobalamin SmPC: a label naming another drug than the order. A monograph of
    another product is cited only where the card's own words name it (Leber's: the FDA
    label on cyanocobalamin, on a card that changes the order to hydroxocobalamin)."""
    for card in _response(patient, profile, hook).body["cards"]:
        ordered = _ordered_ingredients(card)
        if not ordered:
            continue
        words = LINK.sub("", card["detail"])
        urls = {card["source"]["url"], *(url for _label, url in LINK.findall(card["detail"]))}
        for url in urls & MONOGRAPHS.keys():
            about, names = MONOGRAPHS[url]
            assert about in ordered or any(n in words for n in names), (card["summary"], url)
