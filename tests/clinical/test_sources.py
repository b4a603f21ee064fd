"""Citations: each rule's docstring names exactly the sources its code cites, every cited
ID exists, and the profile decides which country's sources lead (b12-clinical.md §9)."""

from __future__ import annotations

import inspect
import re

import pytest

from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Variant
from cds_b12.clinical.regimens import CATALOGUE
from cds_b12.clinical.rules import RULES
from cds_b12.clinical.safety import SAFETY_SOURCES, safety_sources
from cds_b12.clinical.sources import (
    RULE_SOURCES,
    SOURCES,
    VARIANT_SOURCES,
    Region,
    cite,
    for_products,
    rule_sources,
)

SOURCE_ID = re.compile(r"\b(?:LAB-UK|LABEL|LAB|WHO|UK|US|SP)-[A-Z0-9.]*[A-Z0-9]\b")


def rule_id(function) -> str:
    """``r11_maintenance_overdue`` is the rule ``R11-maintenance-overdue`` (style §2)."""
    name = function.__name__
    return name[0].upper() + name[1:].replace("_", "-")


def docstring_sources(function) -> set[str]:
    doc = inspect.getdoc(function) or ""
    assert doc.count("Sources:") == 1, f"{function.__name__}: one 'Sources:' line"
    return set(SOURCE_ID.findall(doc.split("Sources:")[1]))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_rule_docstring_names_the_sources_its_code_cites(rule):
    rid = rule_id(rule)
    variants = {sid for (r, _), ids in VARIANT_SOURCES.items() if r == rid for sid in ids}
    assert docstring_sources(rule) == set(RULE_SOURCES[rid]) | variants


def test_every_rule_cites_and_nothing_else_does():
    assert set(RULE_SOURCES) == {rule_id(rule) for rule in RULES}


def test_every_cited_id_exists():
    cited = {sid for ids in (*RULE_SOURCES.values(), *VARIANT_SOURCES.values()) for sid in ids}
    cited |= {sid for regimen in CATALOGUE.values() for sid in regimen.sources}
    assert cited - set(SOURCES) == set()


def test_sources_of_the_same_page_share_one_label():
    by_url: dict[str, set[str]] = {}
    for source in SOURCES.values():
        by_url.setdefault(source.url, set()).add(source.label)
    assert all(len(labels) == 1 for labels in by_url.values()), by_url


@pytest.mark.parametrize(
    ("ids", "region", "expected"),
    [
        # Own country first, then international, in the rule's order within each.
        (("UK-2", "US-3", "US-4", "UK-6"), Region.US, ("US-3", "US-4")),
        (("UK-2", "US-3", "US-4", "UK-6"), Region.UK, ("UK-2", "UK-6", "US-4")),
        (("LABEL-S3", "UK-3"), Region.UK, ("UK-3",)),
        (("LABEL-S3", "UK-3"), Region.US, ("LABEL-S3",)),
        # Only the other country covers it: cited, after the international sources.
        (("UK-9", "UK-10"), Region.US, ("UK-9", "UK-10")),
        (("US-5", "SP-6"), Region.UK, ("SP-6", "US-5")),
    ],
)
def test_cite_puts_the_profiles_own_sources_first(ids, region, expected):
    assert cite(ids, region) == expected


def test_profiles_name_their_region():
    assert (US.citation_region, UK.citation_region) == (Region.US, Region.UK)


def test_a_card_variant_cites_the_sources_it_rests_on():
    # the child R7 card: the lab's flag and NG239's scope, not the WHO adult Hb cut-off
    assert rule_sources("R7-severe-anaemia", Region.UK, Variant.CHILD) == ("UK-8", "UK-5", "US-4")
    assert rule_sources("R7-severe-anaemia", Region.US, Variant.CHILD) == ("US-2", "US-4")
    # a low potassium rests on S6 (SmPC, FDA label), even once Hb is above 8: no WHO
    for low in (Variant.LOW_POTASSIUM, Variant.BASELINE_LOW_POTASSIUM):
        assert rule_sources("R7-severe-anaemia", Region.UK, low) == ("UK-5", "US-4")
        assert rule_sources("R7-severe-anaemia", Region.US, low) == ("US-2", "US-4")
    # no variant keeps the rule's own
    assert rule_sources("R7-severe-anaemia", Region.UK) == ("UK-5", "WHO-2.6", "US-4")
    # R29's confirm-first card rests on S13 (SmPC: confirm first; Mayo: treatment
    # invalidates later results), not on the dietary regimens of CKS, AFP and Stabler
    assert rule_sources("R29-over-treatment", Region.US, Variant.CONFIRM_FIRST) == (
        "LAB-2.8",
        "UK-5",
    )


def test_the_nitrous_oxide_order_card_cites_nice_in_both_profiles():
    # a normal B12 with nitrous oxide rests on NG239 (SP-9): no US source covers it, and
    # AFP 2025's MMA for a B12 of 180-350 pg/mL is not what the card says
    for region in (Region.US, Region.UK):
        assert rule_sources("R5-indeterminate-order-mma", region, Variant.NITROUS_OXIDE) == (
            "SP-9",
        )


def test_the_uk_review_date_cites_nice_ng239():
    # R10 and R26 say "review by ... (NICE NG239)" in the UK: NG239 reviews 3 months after
    # starting (UK-8); R10's neuro-maintenance card sets no review, so it does not cite it
    assert rule_sources("R10-start-maintenance", Region.UK) == ("UK-1", "UK-2", "UK-8")
    assert rule_sources("R26-interrupted-course", Region.UK) == ("UK-1", "UK-2", "UK-8", "US-4")
    neuro = rule_sources("R10-start-maintenance", Region.UK, Variant.NEURO_MAINTENANCE)
    assert neuro == ("UK-1", "UK-2")
    assert rule_sources("R10-start-maintenance", Region.US) == ("US-3",)


def test_a_card_cites_the_other_countrys_document_its_text_names():
    # R21 names the FDA label (optic atrophy, test dose) and the SmPC (Leber's licence) in
    # both profiles; its allergy card names only the FDA label; R6's nitrous-oxide card names
    # NICE NG239 in the US too. The named document follows the profile's own.
    for variant in (None, Variant.LEBER):
        assert rule_sources("R21-cyanocobalamin-contraindicated", Region.UK, variant) == (
            "UK-5",
            "LABEL-S4",
        )
        assert rule_sources("R21-cyanocobalamin-contraindicated", Region.US, variant) == (
            "LABEL-S4",
            "UK-5",
        )
    allergy = Variant.ALLERGY
    assert rule_sources("R21-cyanocobalamin-contraindicated", Region.UK, allergy) == (
        "UK-5",
        "LABEL-S4",
    )
    assert rule_sources("R21-cyanocobalamin-contraindicated", Region.US, allergy) == ("LABEL-S4",)
    nitrous = rule_sources("R6-indeterminate-neuro", Region.US, Variant.NITROUS_OXIDE)
    assert nitrous == ("US-3", "US-4", "SP-9")
    # the plain R6 card does not name NG239: the US keeps its own
    assert rule_sources("R6-indeterminate-neuro", Region.US) == ("US-3", "US-4")


def test_cite_keeps_a_named_source_of_the_other_country():
    assert cite(("LABEL-S4", "UK-5"), Region.UK, named=("LABEL-S4",)) == ("UK-5", "LABEL-S4")
    assert cite(("LABEL-S4", "UK-5"), Region.UK) == ("UK-5",)


def test_a_safety_line_cites_what_its_profiles_wording_rests_on():
    """Only the UK line for pregnancy names the SmPC (hydroxocobalamin is not for the
    anaemia of pregnancy): the US one cites NICE NG239 alone. The other country's
    documents a line names are cited too, after the profile's own and international."""
    assert safety_sources("S11", Region.UK) == ("UK-8", "UK-5")
    assert safety_sources("S11", Region.US) == ("UK-8",)
    assert safety_sources("S4", Region.UK) == ("UK-5", "LABEL-S4")
    assert safety_sources("S4", Region.US) == ("LABEL-S4",)
    assert safety_sources("S6", Region.UK) == ("UK-5",)
    assert safety_sources("S6", Region.US) == ("US-2",)
    assert safety_sources("S7", Region.US) == ("SP-6", "SP-5")
    assert safety_sources("S8", Region.US) == ("UK-6", "SP-7")
    assert all(sid in SOURCES for ids in SAFETY_SOURCES.values() for sid in ids)


def test_for_products_keeps_only_the_monographs_of_what_the_card_orders():
    cyano = frozenset({"cyanocobalamin"})
    assert for_products(("UK-1", "UK-5", "UK-3"), cyano) == ("UK-3",)
    assert for_products(("UK-1", "UK-3"), frozenset()) == ("UK-1", "UK-3")  # orders nothing
    assert for_products(("UK-5", "UK-3"), cyano, named=("UK-5",)) == ("UK-5", "UK-3")
    assert for_products(("UK-1", "UK-5"), cyano) == ("UK-1", "UK-5")  # nothing else left
