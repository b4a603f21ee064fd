"""Prefetch templates: what the service asks the EHR for, and how a template becomes a query.

Templates use only CDS Hooks 2.0 tokens (``{{context.patientId}}``) and the
query subset the spec recommends (read, type search, reference and token
parameters, ``ge`` dates, ``_count``, ``_sort``), so that clients honour them.
2.0 has no date arithmetic in tokens, so the date window is written into the
template when discovery is served; a client that caches discovery then sends a
wider window, never a narrower one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from urllib.parse import quote

from ..clinical.codes import FINDING_CODES, LAB_CODES, LOINC, PREGNANCY_STATUS, RESULT_PANELS
from ..fhir.findings import OBSERVED

# Labs and injections older than this do not change any rule's answer: the
# rules look back at most two years (R14 drift, R12 missed doses) (judgement).
LOOKBACK_DAYS = 3 * 365
PAGE_SIZE = 200

# Results, the panels whose components are results (a `code` search never matches a
# component), and the coded findings an Observation may record (symptoms, pregnancy,
# breastfeeding): a finding recorded only as an Observation must reach the rules too.
_LAB_CODES = ",".join(
    f"{system}|{code}"
    for system, code in sorted(
        set().union(
            *LAB_CODES.values(),
            {(LOINC, code) for code, _ in RESULT_PANELS.values()},
            PREGNANCY_STATUS,
            *(FINDING_CODES[f] for f in OBSERVED),
        )
    )
)


@dataclass(frozen=True, slots=True)
class PrefetchQuery:
    key: str
    template: str  # with {since} for the date window, filled by templates()
    required: bool  # without it the service cannot answer: 412
    what: str  # how a clinician would name the data, for data-quality notes

    @property
    def resource_type(self) -> str:
        return self.template.split("?", 1)[0].split("/", 1)[0]


QUERIES: tuple[PrefetchQuery, ...] = (
    PrefetchQuery("patient", "Patient/{{context.patientId}}", True, "the patient record"),
    PrefetchQuery(
        "labs",
        "Observation?patient={{context.patientId}}&code="
        + _LAB_CODES
        + "&date=ge{since}&_sort=-date&_count="
        + str(PAGE_SIZE),
        True,
        "laboratory results",
    ),
    PrefetchQuery(
        "medicationRequests",
        f"MedicationRequest?patient={{{{context.patientId}}}}&_count={PAGE_SIZE}",
        False,
        "medication orders",
    ),
    PrefetchQuery(
        "medicationAdministrations",
        "MedicationAdministration?patient={{context.patientId}}&effective-time=ge{since}"
        f"&_count={PAGE_SIZE}",
        False,
        "injection history (administrations)",
    ),
    PrefetchQuery(
        "medicationStatements",
        f"MedicationStatement?patient={{{{context.patientId}}}}&_count={PAGE_SIZE}",
        False,
        "medication statements",
    ),
    PrefetchQuery(
        "conditions",
        f"Condition?patient={{{{context.patientId}}}}&_count={PAGE_SIZE}",
        False,
        "conditions",
    ),
    PrefetchQuery(
        "procedures",
        f"Procedure?patient={{{{context.patientId}}}}&_count={PAGE_SIZE}",
        False,
        "procedures",
    ),
    PrefetchQuery(
        "allergies",
        f"AllergyIntolerance?patient={{{{context.patientId}}}}&_count={PAGE_SIZE}",
        False,
        "allergies",
    ),
)
QUERY_BY_KEY = {q.key: q for q in QUERIES}


def templates(as_of: date) -> dict[str, str]:
    """The discovery ``prefetch`` object, with the date window counted back from ``as_of``;
    a dict of the caller's own."""
    return dict(_filled(as_of))


@lru_cache(maxsize=4)
def _filled(as_of: date) -> dict[str, str]:
    """Filled once a day: every hook call asks (to fetch what its prefetch lacks), and the
    replacing was some 30 K instructions of a call."""
    since = (as_of - timedelta(days=LOOKBACK_DAYS)).isoformat()
    return {q.key: q.template.replace("{since}", since) for q in QUERIES}


_TOKEN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}


def expand(template: str, context: Mapping[str, object]) -> str | None:
    """Fill a template's tokens as a 2.0 client would; None when a token cannot be filled.

    Only root-level primitive context fields and the four user tokens are
    tokens (spec §Prefetch tokens). Values are percent-encoded, so a patient
    id cannot smuggle extra query parameters or path segments.
    """
    unresolved = False

    def fill(match: re.Match[str]) -> str:
        nonlocal unresolved
        name = match.group(1)
        value: object = None
        if name.startswith("context."):
            value = context.get(name.removeprefix("context."))
        elif name in _USER_TOKENS:
            kind, _, ident = str(context.get("userId") or "").partition("/")
            value = ident if kind == _USER_TOKENS[name] else None
        if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
            unresolved = True
            return ""
        return quote(str(value), safe="")

    url = _TOKEN.sub(fill, template)
    return None if unresolved else url
