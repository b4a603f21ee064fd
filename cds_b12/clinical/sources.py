"""Clinical core: the guideline sources that rules cite, keyed by the knowledge base's IDs.

Imports only the standard library. Each address is the canonical one of
``b12-clinical.md`` §9 (the publisher's page, a DOI, PubMed or DailyMed record),
and each label names exactly what its link opens; the pages of §8, where facts
were read, are provenance and never reach a card. Several IDs may share a page.

A rule declares what it cites with ``@cites(...)`` beside its docstring's
"Sources:" line (a test holds the two equal); a card variant that rests on other
sources than its rule's default wording declares its own (``variants={Variant.CHILD: (...)}``), so a
card never cites a source for what it does not say. ``cite`` orders those IDs for a
profile: its own country's sources first, then international ones, and the other
country's only where the profile's own cover nothing, or where the card's text names
that document (``named=``), since a card cites every source it names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar


class Region(StrEnum):
    """Whose guidance a source is: a profile cites its own first (§9 rules)."""

    UK = "UK"
    US = "US"
    INTL = "INTL"  # international or not tied to either profile's guidance


@dataclass(frozen=True, slots=True)
class Source:
    label: str
    url: str
    region: Region
    product: str | None = None  # a product monograph: the one B12 ingredient it is about


_BNF = Source(
    "BNF: hydroxocobalamin",
    "https://bnf.nice.org.uk/drugs/hydroxocobalamin/",
    Region.UK,
    "hydroxocobalamin",
)
_CKS = Source(
    "NICE CKS: anaemia, B12 and folate deficiency",
    "https://cks.nice.org.uk/topics/anaemia-b12-folate-deficiency/",
    Region.UK,
)
_NG239_RECOMMENDATIONS = Source(
    "NICE NG239 (2024): recommendations",
    "https://www.nice.org.uk/guidance/ng239/chapter/Recommendations",
    Region.UK,
)
_FDA_LABEL = Source(
    "FDA cyanocobalamin injection label (DailyMed)",
    "https://dailymed.nlm.nih.gov/dailymed/lookup.cfm?setid=7e10c47d-1036-47c1-a0ed-6929636366c2",
    Region.US,
    "cyanocobalamin",
)
_BNSSG = Source(
    "BNSSG Remedy: vitamin B12",
    "https://remedy.bnssg.icb.nhs.uk/adults/haematology/vitamin-b12",
    Region.UK,
)

SOURCES: dict[str, Source] = {
    "UK-1": _BNF,
    "UK-2": _BNF,
    "UK-3": _CKS,
    "UK-4": _CKS,
    "UK-5": Source(
        "Hydroxocobalamin 1 mg/mL SmPC (emc)",
        "https://www.medicines.org.uk/emc/medicine/31182",
        Region.UK,
        "hydroxocobalamin",
    ),
    "UK-6": Source(
        "BSH 2014 guideline (Devalia et al., Br J Haematol 2014;166:496)",
        "https://doi.org/10.1111/bjh.12959",
        Region.UK,
    ),
    "UK-8": _NG239_RECOMMENDATIONS,
    "UK-9": _NG239_RECOMMENDATIONS,
    "UK-10": Source(
        "NICE NG239 (2024): rationale and impact",
        "https://www.nice.org.uk/guidance/ng239/chapter/rationale-and-impact",
        Region.UK,
    ),
    "US-1": _FDA_LABEL,
    "US-2": _FDA_LABEL,
    "US-3": Source(
        "Stabler SP, Vitamin B12 deficiency, N Engl J Med 2013;368:149-60",
        "https://doi.org/10.1056/NEJMcp1113996",
        Region.US,
    ),
    "US-4": Source(
        "BMJ Best Practice: vitamin B12 deficiency",
        "https://bestpractice.bmj.com/topics/en-gb/822",
        Region.INTL,
    ),
    "US-5": Source(
        "Langan & Goodbred, Am Fam Physician 2017;96:384 (PubMed)",
        "https://pubmed.ncbi.nlm.nih.gov/28925645/",
        Region.US,
    ),
    "US-6": Source(
        "Patel & McGuirk, Am Fam Physician 2025;112:294 (PubMed search for the article)",
        "https://pubmed.ncbi.nlm.nih.gov/?term=%22Vitamin+B12+Deficiency%3A+Common+Questions+and+Answers%22+Patel+McGuirk",
        Region.US,
    ),
    # §1.2 US-7: the Cochrane review's DOI, from its page at the publisher (§8).
    "US-7": Source(
        "Wang et al., Cochrane review: oral versus intramuscular B12, 2018",
        "https://doi.org/10.1002/14651858.CD004655.pub3",
        Region.INTL,
    ),
    "SP-1": Source(
        "ASMBS micronutrient update 2016 (Parrott et al., Surg Obes Relat Dis 2017)",
        "https://doi.org/10.1016/j.soard.2016.12.018",
        Region.US,
    ),
    "SP-4": Source(
        "ADA Standards of Care in Diabetes",
        "https://professional.diabetes.org/standards-of-care",
        Region.US,
    ),
    "SP-5": Source(
        "MHRA Drug Safety Update 2022: metformin and reduced vitamin B12 levels",
        "https://www.gov.uk/drug-safety-update/metformin-and-reduced-vitamin-b12-levels-new-advice-for-monitoring-patients-at-risk",
        Region.UK,
    ),
    "SP-6": Source(
        "Lam et al., JAMA 2013;310:2435", "https://doi.org/10.1001/jama.2013.280490", Region.INTL
    ),
    "SP-7": Source(
        "NHS Lothian RefHelp: vitamin B12 deficiency",
        "https://apps.nhslothian.scot/refhelp/vitamin-b12-deficiency",
        Region.UK,
    ),
    "SP-8": _BNSSG,
    "SP-9": _NG239_RECOMMENDATIONS,
    "LAB-2.8": Source(
        "Mayo Clinic Laboratories test catalog (search: vitamin B12)",
        "https://www.mayocliniclabs.com/test-catalog",
        Region.INTL,
    ),
    "LAB-UK-2.8": _BNSSG,
    "WHO-2.6": Source(
        "WHO: haemoglobin concentrations for the diagnosis of anaemia (2011)",
        "https://www.who.int/publications/i/item/WHO-NMH-NHD-MNM-11.1",
        Region.INTL,
    ),
    "LABEL-S3": _FDA_LABEL,
    "LABEL-S4": _FDA_LABEL,
}

# Rule ID -> the source IDs it cites, filled by ``@cites`` as the rule modules load.
RULE_SOURCES: dict[str, tuple[str, ...]] = {}
# (rule ID, card variant) -> the source IDs that variant cites instead of its rule's.
VARIANT_SOURCES: dict[tuple[str, str], tuple[str, ...]] = {}
# (rule ID, card variant, "" for the rule's own card) -> the IDs among its sources that
# its text names, cited in either profile even when they are the other country's.
NAMED_SOURCES: dict[tuple[str, str], tuple[str, ...]] = {}

F = TypeVar("F", bound=Callable)


def cites(
    *ids: str,
    variants: dict[str, tuple[str, ...]] | None = None,
    named: dict[str, tuple[str, ...]] | None = None,
) -> Callable[[F], F]:
    """Declare the sources of the rule below; its name gives the rule ID (style §2).
    ``variants`` maps a card variant (a ``Variant``) to its own sources, when it rests on
    others; ``named`` maps a card variant ("" for the rule's own card) to the sources its
    text names. Both key by ``Variant``, as the Recommendation that looks them up does."""
    variants = variants or {}

    def register(rule: F) -> F:
        name = rule.__name__
        rule_id = name[0].upper() + name[1:].replace("_", "-")
        every = (*ids, *(sid for own in variants.values() for sid in own))
        unknown = [sid for sid in every if sid not in SOURCES]
        if unknown or not ids or not all(variants.values()):
            raise ValueError(f"{rule_id}: unknown or missing source IDs {unknown}")
        uncited = [
            sid
            for variant, said in (named or {}).items()
            for sid in said
            if sid not in variants.get(variant, ids)
        ]
        if uncited:
            raise ValueError(f"{rule_id}: named source IDs {uncited} not among its sources")
        RULE_SOURCES[rule_id] = ids
        for variant, own in variants.items():
            VARIANT_SOURCES[rule_id, variant] = own
        for variant, said in (named or {}).items():
            NAMED_SOURCES[rule_id, variant] = said
        return rule

    return register


def cite(ids: Iterable[str], region: Region, named: Iterable[str] = ()) -> tuple[str, ...]:
    """``ids`` for a profile of ``region``: its own first, then international, in the
    order given; the other country's only when none of the profile's own is among them,
    or when the card's text ``named`` it (a card cites every source it names)."""
    ids = tuple(dict.fromkeys(ids))
    own = tuple(sid for sid in ids if SOURCES[sid].region is region)
    shared = tuple(sid for sid in ids if SOURCES[sid].region is Region.INTL)
    other = tuple(sid for sid in ids if sid not in own and sid not in shared)
    return own + shared + (tuple(sid for sid in other if sid in named) if own else other)


def for_products(
    ids: Iterable[str], products: frozenset[str], named: Iterable[str] = ()
) -> tuple[str, ...]:
    """``ids`` less the monographs of a B12 product the card does not order (§9: a label
    names what its link opens; the BNF's hydroxocobalamin page is no source for a
    cyanocobalamin order), unless the card's text ``named`` it. All of ``ids`` when the
    card orders no product, or when nothing else would be left."""
    ids, named = tuple(ids), tuple(named)
    if not products:
        return ids
    kept = tuple(sid for sid in ids if SOURCES[sid].product in (None, *products) or sid in named)
    return kept or ids


@functools.cache
def rule_sources(
    rule: str,
    region: Region,
    variant: str | None = None,
    products: frozenset[str] = frozenset(),
) -> tuple[str, ...]:
    """``cite`` of the sources declared for ``rule`` (or its card ``variant``) that are
    about the B12 ``products`` the card orders (``for_products``), found once per rule,
    region, variant and products (every Recommendation carries them)."""
    card = rule, variant or ""
    named = NAMED_SOURCES.get(card, ())
    declared = for_products(VARIANT_SOURCES.get(card, RULE_SOURCES[rule]), products, named)
    return cite(declared, region, named)
