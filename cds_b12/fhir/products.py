"""FHIR layer: the product a medication names, by RxNorm code, then by words. Imports
cds_b12.clinical.

A clinical drug fixes the form (§3.2); an ingredient leaves it to route and dose
(``stated_form``), which ``medications`` reads. Multivitamins and combination products
are never B12 therapy (§3.2 notes), and Cyanokit is recognised so that it can be
excluded (S10).
"""

from __future__ import annotations

from typing import NamedTuple

from cds_b12.clinical.codes import (
    ACID_SUPPRESSANTS,
    B12_DRUGS,
    B12_INGREDIENTS,
    CYANOKIT,
    FOLIC_ACID,
    METFORMIN,
    NITROUS_OXIDE_DRUG,
    RXNORM,
)
from cds_b12.clinical.record import Product, Route

from .accessors import codings
from .units import mass_mg, normalise_unit


class Match(NamedTuple):
    product: Product | None  # None: a B12 ingredient whose form follows route and dose
    ingredient: str | None = None
    strength_mg: float | None = None  # per mL for injectables, per unit otherwise (B12_DRUGS)


def _rxnorm(codes: frozenset[tuple[str, str]]) -> frozenset[str]:
    """The RxNorm codes of a code set, to test a product's RxNorm codes against in one step."""
    return frozenset(code for system, code in codes if system == RXNORM)


NITROUS_RX = _rxnorm(NITROUS_OXIDE_DRUG)
_CYANOKIT_RX = _rxnorm(CYANOKIT)
# built once: a NamedTuple built per medication cost more than the look-up that found it
_CYANOKIT = Match(Product.CYANOKIT, "hydroxocobalamin")
_DRUGS = {code: Match(*drug) for code, drug in B12_DRUGS.items()}

_MULTIVITAMIN_WORDS = ("multivitamin", "multiple vitamins", "b complex", "b-complex")
_B12_WORDS = (  # more specific first: "cobalamin" is part of every ingredient name
    ("hydroxocobalamin", "hydroxocobalamin"),
    ("cyanocobalamin", "cyanocobalamin"),
    ("methylcobalamin", "methylcobalamin"),
    ("mecobalamin", "methylcobalamin"),  # RxNorm's name for methylcobalamin (§3.2)
    ("vitamin b12", None),
    ("cobalamin", None),
)
_ACID_SUPPRESSANT_WORDS = (
    "omeprazole",
    "esomeprazole",
    "pantoprazole",
    "lansoprazole",
    "rabeprazole",
    "dexlansoprazole",
    "famotidine",
    "cimetidine",
    "nizatidine",
    "ranitidine",
)
_OTHER_WORDS = (
    ("metformin", Product.METFORMIN),
    *((word, Product.ACID_SUPPRESSANT) for word in _ACID_SUPPRESSANT_WORDS),
    ("folic acid", Product.FOLIC_ACID),
    ("folate", Product.FOLIC_ACID),
)
_OTHER_CODES = (
    (_rxnorm(METFORMIN), Product.METFORMIN),
    (_rxnorm(ACID_SUPPRESSANTS), Product.ACID_SUPPRESSANT),
    (_rxnorm(FOLIC_ACID), Product.FOLIC_ACID),
)


def rxnorm_codes(concepts: list[object]) -> list[str]:
    """The RxNorm codes of the CodeableConcepts naming a product, as ``codings`` reads them."""
    try:  # the usual shape: one concept, one RxNorm coding sent clean
        ((only,),) = [concept["coding"] for concept in concepts]
        code = only["code"]
        if only["system"] == RXNORM and code.__class__ is str and code and code.strip() == code:
            return [code]
    except (KeyError, TypeError, ValueError):  # another shape: read in general
        pass
    return [code for c in concepts for system, code in codings(c) if system == RXNORM]


def identify(rx_codes: list[str], text: str, ingredient_count: int) -> Match | None:
    """The product named by RxNorm codes, else by words (``concept_text``); None for one we
    do not use. ``ingredient_count``: of a referenced Medication, 0 when none."""
    if not _CYANOKIT_RX.isdisjoint(rx_codes):
        return _CYANOKIT
    for code in rx_codes:
        if code in _DRUGS:
            return _DRUGS[code]
    if "cyanokit" in text:
        return _CYANOKIT
    for word in _MULTIVITAMIN_WORDS:  # a loop, not any(): no generator to resume per word
        if word in text:
            return None
    # a combination product (more than one ingredient) is not B12 therapy (§3.2 notes)
    b12_ingredient = ingredient_count <= 1
    for code in rx_codes:
        if code in B12_INGREDIENTS:
            return Match(None, B12_INGREDIENTS[code]) if b12_ingredient else None
    for codes, product in _OTHER_CODES:
        if not codes.isdisjoint(rx_codes):
            return Match(product)
    for word, ingredient in _B12_WORDS:
        if word in text:
            return Match(None, ingredient) if b12_ingredient else None
    for word, product in _OTHER_WORDS:
        if word in text:
            return Match(product)
    return None


ORAL_HIGH_MIN_MG = 0.5  # Product.B12_ORAL_HIGH: >= 0.5 mg per dose
CYANOKIT_MIN_MG = 1000.0  # Cyanokit is 5 g; B12 therapy is at most a few mg (S10)

# Dose units that count tablets, sprays or vials of a known clinical drug.
_COUNT_UNITS = frozenset(
    {
        "1", "{tbl}", "{tablet}", "tablet", "tablets", "tab", "{capsule}", "capsule", "cap",
        "{spray}", "spray", "sprays", "{actuat}", "actuat", "actuation", "puff", "{vial}", "vial",
    }
)  # fmt: skip


def dose_in_mg(value: float | None, unit: str | None, match: Match) -> float | None:
    """The dose in mg; volumes and counts only for a clinical drug of known strength."""
    if value is None:
        return None
    dose = mass_mg(value, unit)
    if dose is not None or match.strength_mg is None or unit is None:
        return dose
    unit = normalise_unit(unit)
    injectable = match.product is Product.B12_INJECTION
    if (unit == "ml" and injectable) or (unit in _COUNT_UNITS and not injectable):
        return value * match.strength_mg
    return None


def stated_form(ingredient: str | None, route: Route, dose_mg: float | None) -> Product | None:
    """The form of a B12 product known only by ingredient, when route or dose says it;
    None when ``medications`` must assume one (and say so)."""
    if ingredient == "hydroxocobalamin" and dose_mg is not None and dose_mg >= CYANOKIT_MIN_MG:
        return Product.CYANOKIT
    if ingredient == "hydroxocobalamin" and route is Route.IV:
        return Product.CYANOKIT  # S10: IV hydroxocobalamin is the cyanide antidote
    if route in (Route.IM, Route.SC):
        return Product.B12_INJECTION
    if route is Route.NASAL:
        return Product.B12_NASAL
    if route is Route.ORAL:
        return oral_form(dose_mg)
    return None


def oral_form(dose_mg: float | None) -> Product:
    if dose_mg is None or dose_mg >= ORAL_HIGH_MIN_MG:
        return Product.B12_ORAL_HIGH
    return Product.B12_ORAL_LOW
