"""FHIR layer: ``Dosage.route`` → ``Route``. Imports cds_b12.clinical.

Codes first (SNOMED, HL7 v3 RouteOfAdministration), then words, because many EHRs
send the route as text only.
"""

from __future__ import annotations

import re

from cds_b12.clinical.codes import (
    ROUTE_IM,
    ROUTE_IV,
    ROUTE_NASAL,
    ROUTE_ORAL,
    ROUTE_SC,
    ROUTE_SUBLINGUAL,
)
from cds_b12.clinical.record import Route

from .accessors import coded, concept_text, dicts, dig, string

V3_ROUTE = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"

_CODED = {
    ROUTE_IM[:2]: Route.IM,
    ROUTE_ORAL[:2]: Route.ORAL,
    ROUTE_SC[:2]: Route.SC,
    ROUTE_SUBLINGUAL[:2]: Route.ORAL,
    ROUTE_NASAL[:2]: Route.NASAL,
    ROUTE_IV[:2]: Route.IV,
    (V3_ROUTE, "IM"): Route.IM,
    (V3_ROUTE, "SQ"): Route.SC,
    (V3_ROUTE, "SC"): Route.SC,
    (V3_ROUTE, "PO"): Route.ORAL,
    (V3_ROUTE, "SL"): Route.ORAL,
    (V3_ROUTE, "NASINHL"): Route.NASAL,
    (V3_ROUTE, "NASAL"): Route.NASAL,
    (V3_ROUTE, "IV"): Route.IV,
}

# Checked in order; abbreviations must stand alone as words.
_WORDS = (
    (re.compile(r"intramuscular|\bim\b"), Route.IM),
    (re.compile(r"subcutaneous|\bsubcut|\bsc\b|\bsq\b"), Route.SC),
    (re.compile(r"nasal"), Route.NASAL),
    (re.compile(r"intravenous|\biv\b"), Route.IV),
    (re.compile(r"\boral|by mouth|\bpo\b|sublingual|\bsl\b"), Route.ORAL),
)


def usual_route(concept: object) -> Route | None:
    """The route a ``Dosage.route``'s first coding names, sent clean (a known code as it
    is, the usual case); None for any other concept, which ``read_route`` reads."""
    try:
        first = concept["coding"][0]  # type: ignore[index]
        return _CODED.get((first["system"], first["code"]))
    except (KeyError, IndexError, TypeError):  # another shape, or unhashable values
        return None


def read_route(concept: object) -> Route:
    """The route of a ``Dosage.route`` CodeableConcept; UNKNOWN when absent or not recognised."""
    route = coded(concept, _CODED)
    if route is not None:
        return route
    # a route code under a local system still names the route
    codes = " ".join(string(coding, "code") or "" for coding in dicts(dig(concept, "coding")))
    text = f"{concept_text((concept,))} {codes.lower()}"
    for pattern, route in _WORDS:
        if pattern.search(text):
            return route
    return Route.UNKNOWN
