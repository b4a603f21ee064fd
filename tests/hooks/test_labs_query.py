"""The labs search names every code the reader reads: each result's own, and each panel's
whose components it reads, since FHIR's ``code`` search never matches a component's code."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

from cds_b12.clinical.codes import LOINC
from cds_b12.hooks.prefetch import expand, templates

# The longest patient id FHIR allows (64 characters), so the filled query is its longest.
CONTEXT = {"patientId": "p" * 64}


def labs_query() -> str:
    filled = expand(templates(date(2026, 1, 1))["labs"], CONTEXT)
    assert filled is not None
    return filled


def searched_codes() -> list[str]:
    (codes,) = parse_qs(urlsplit(labs_query()).query)["code"]
    return codes.split(",")


def test_the_labs_search_names_the_panels_whose_components_are_read():
    panels = {"58410-2", "57021-8", "24360-0", "96805-7"}  # CBC, CBC + diff, Hb/Hct, B12 + folate
    assert {f"{LOINC}|{code}" for code in panels} <= set(searched_codes())


def test_the_labs_search_names_each_code_once_and_stays_short():
    """Under 2,000 characters, the request-line size every common server and proxy takes
    (judgement): a longer search risks a 414 from the EHR's FHIR server."""
    codes = searched_codes()
    assert len(codes) == len(set(codes))
    assert len(labs_query()) < 2000
