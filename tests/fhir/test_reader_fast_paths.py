"""The medication and hook readers' fast paths give what their general readings give."""

from hypothesis import given, settings
from hypothesis import strategies as st

from cds_b12.clinical.codes import B12_DRUGS, B12_INGREDIENTS
from cds_b12.fhir.medications import (
    MedicationIndex,
    _identified,
    _product,
    _product_concepts,
)
from cds_b12.fhir.problems import _STATUS_CODES, _general_status_code, _status_code

from .test_fast_paths import RXNORM, RXNORM_OID, odd_values

rx_codes = st.sampled_from([*B12_DRUGS, *B12_INGREDIENTS, "6809", "1114", " 309594", "29046"])
words = st.sampled_from(
    ["Vitamin B12 1 MG/ML", "nitrous  oxide", "NITROUS OXIDE", "folic acid", "multivitamin", ""]
)
product_codings = st.fixed_dictionaries(
    {},
    optional={
        "system": st.sampled_from([RXNORM, f"{RXNORM}/", RXNORM_OID]) | odd_values,
        "code": rx_codes | odd_values,
        "display": words | odd_values,
        "extension": odd_values,
    },
)
product_concepts = st.fixed_dictionaries(
    {},
    optional={
        "coding": st.lists(product_codings | odd_values, max_size=2) | product_codings,
        "text": words | odd_values,
        "id": odd_values,
    },
)
orders = st.fixed_dictionaries(
    {"resourceType": st.just("MedicationStatement")},
    optional={"medicationCodeableConcept": product_concepts | odd_values},
)


def general_product(resource: dict) -> tuple:
    """The product as read without the per-read memo."""
    concepts, ingredient_count, unresolved = _product_concepts(resource, MedicationIndex([]))
    return (*_identified(concepts, ingredient_count), unresolved)


@st.composite
def alike_orders(draw: st.DrawFn) -> list[dict]:
    """Orders whose concepts differ from a first, usual one in a value or two, as a memo
    keyed on too little would confuse."""
    coding = {"system": RXNORM, "code": draw(rx_codes), "display": draw(words)}
    concepts = [{"coding": [coding], "text": draw(words)}]
    for _ in range(draw(st.integers(1, 4))):
        concept = dict(draw(st.sampled_from(concepts)))
        if draw(st.booleans()):
            key = draw(st.sampled_from(["system", "code", "display", "extension"]))
            concept["coding"] = [{**concept["coding"][0], key: draw(rx_codes | words | odd_values)}]
        else:
            concept[draw(st.sampled_from(["text", "id"]))] = draw(words | odd_values)
        concepts.append(concept)
    return [
        {"resourceType": "MedicationStatement", "medicationCodeableConcept": c} for c in concepts
    ]


@settings(max_examples=500)
@given(st.lists(orders, min_size=1, max_size=6) | alike_orders())
def test_a_product_read_again_is_read_as_at_first(given_orders):
    """A concept with one coding is read once per read; each later one with the same
    strings is given what it would have been read as by itself."""
    index = MedicationIndex([])
    for order in given_orders:
        assert _product(order, index) == general_product(order)


status_strings = st.sampled_from([*_STATUS_CODES, " Active", "RESOLVED", "x", ""]) | odd_values
status_codings = st.fixed_dictionaries({}, optional={"code": status_strings, "system": odd_values})
status_concepts = (
    st.fixed_dictionaries(
        {},
        optional={
            "coding": st.lists(status_codings | odd_values, max_size=2) | status_codings,
            "text": status_strings,
        },
    )
    | status_strings
)


@settings(max_examples=500)
@given(status_concepts)
def test_a_status_code_agrees_with_the_general_reading(concept):
    """One coding with a FHIR status code sent clean, the usual status, is taken as it is."""
    assert _status_code(concept) == _general_status_code(concept)
