"""FHIR layer: Condition, Procedure, AllergyIntolerance → findings. Imports cds_b12.clinical.

Codes first, matched with their system (§3.3, §3.4); a resource yields several
findings only when its codes name several concepts. Words are read only when no
code matched, for concepts whose codes are unverified or usually free text (§3.3
❌ list), and yield the single most specific finding: a Leber hereditary optic
neuropathy is LEBER, not also NEURO_SEVERE or NEURO.
"""

from __future__ import annotations

import re

from cds_b12.clinical.codes import B12_INGREDIENTS, FINDING_CODES, ICD10, ICD10CM, RXNORM
from cds_b12.clinical.record import ClinicalFinding, Finding

from .accessors import codings, concept_text, dicts, dig, label
from .dates import parse_date
from .skips import ENTERED_IN_ERROR, Note, Skip, StatusPolicy

_ICD_SYSTEMS = frozenset({ICD10, ICD10CM})


def _key(system: str, code: str) -> tuple[str, str]:
    """ICD-10 codes match with or without the dot and in any case (EHRs send ``D510``)."""
    if system in _ICD_SYSTEMS:
        return system, code.upper().replace(".", "")
    return system, code


def _index() -> dict[tuple[str, str], set[Finding]]:
    by_code: dict[tuple[str, str], set[Finding]] = {}
    for finding, pairs in FINDING_CODES.items():
        for system, code in pairs:
            by_code.setdefault(_key(system, code), set()).add(finding)
    return by_code


_BY_CODE = _index()

# Most specific first; the first match wins.
_WORDS = tuple(
    (re.compile(pattern), finding)
    for pattern, finding in (
        (r"leber", Finding.LEBER),
        (
            r"subacute combined degeneration|dementia|optic neuropathy|optic atrophy|ataxia"
            r"|cognitive",
            Finding.NEURO_SEVERE,
        ),
        (r"pernicious an(?:a)?emia", Finding.PERNICIOUS_ANAEMIA),
        (r"autoimmune gastritis|atrophic gastritis", Finding.ATROPHIC_GASTRITIS),
        (r"sleeve gastrectomy", Finding.SLEEVE_GASTRECTOMY),
        (r"gastrectomy", Finding.GASTRECTOMY),
        (r"gastric bypass|roux-en-y|bariatric", Finding.BARIATRIC_BYPASS),
        (r"ileal resection|ileectomy|ileoc(?:a)?ecal resection", Finding.ILEAL_RESECTION),
        (r"short bowel", Finding.SHORT_BOWEL),
        (r"crohn", Finding.CROHNS),
        (r"coeliac|celiac", Finding.COELIAC),
        (r"vegan|dietary (?:vitamin )?b12 deficiency", Finding.DIETARY_DEFICIENCY),
        (r"nitrous oxide", Finding.NITROUS_OXIDE),
        (r"paraesthesia|paresthesia|neuropathy|numbness|tingling", Finding.NEURO),
        (r"b12 deficiency|cobalamin deficiency", Finding.B12_DEFICIENCY),
        (r"pregnan", Finding.PREGNANCY),
    )
)

_ALLERGY_WORDS = re.compile(r"cobalt|cobalamin|vitamin b12")  # also cyano-/hydroxocobalamin

_ACTIVE_CONDITION = frozenset({"active", "recurrence", "relapse"})
_INACTIVE_ALLERGY = frozenset({"inactive", "resolved"})

PROCEDURE_STATUS = StatusPolicy(
    keep=frozenset({"completed", "in-progress", "unknown"}),
    noted={"entered-in-error": ENTERED_IN_ERROR},
    silent=frozenset({"not-done", "preparation", "on-hold", "stopped"}),
)


def coded_findings(concept: object) -> list[Finding]:
    """The findings a CodeableConcept's codes name, or its words when no code matches."""
    found: set[Finding] = set()
    for system, code in codings(concept):
        found.update(_BY_CODE.get(_key(system, code), ()))
    if found:
        return [finding for finding in Finding if finding in found]
    text = concept_text((concept,))
    for pattern, finding in _WORDS:
        if pattern.search(text):
            return [finding]
    return []


def read_condition(resource: dict, note: Note) -> list[ClinicalFinding]:
    """Findings of a Condition; refuted ones are dropped, entered-in-error ones noted."""
    found = coded_findings(resource.get("code"))
    if not found or not _verified(resource):
        return []
    clinical = _status_code(resource.get("clinicalStatus"))
    if clinical is None:
        # con-4: an abated condition is not active even when clinicalStatus is missing
        active = not any(str(key).startswith("abatement") for key in resource)
    else:
        active = clinical in _ACTIVE_CONDITION
    on = (
        parse_date(resource.get("onsetDateTime"))
        or parse_date(dig(resource, "onsetPeriod", "start"))
        or parse_date(resource.get("recordedDate"))
    )
    resolved_on = parse_date(resource.get("abatementDateTime")) or parse_date(
        dig(resource, "abatementPeriod", "end")
    )
    return [ClinicalFinding(f, label(resource), active, on, resolved_on) for f in found]


def read_procedure(resource: dict, note: Note) -> list[ClinicalFinding]:
    """Findings of a Procedure done or under way."""
    found = coded_findings(resource.get("code"))
    if not found or PROCEDURE_STATUS.apply(resource, note) is None:
        return []
    on = parse_date(resource.get("performedDateTime")) or parse_date(
        dig(resource, "performedPeriod", "start")
    )
    return [ClinicalFinding(f, label(resource), True, on) for f in found]


def read_allergy(resource: dict, note: Note) -> list[ClinicalFinding]:
    """A cobalt or B12 allergy, by RxNorm B12 ingredient or by words."""
    concepts = [resource.get("code")]
    concepts.extend(reaction.get("substance") for reaction in dicts(resource.get("reaction")))
    coded = any(
        system == RXNORM and code in B12_INGREDIENTS
        for concept in concepts
        for system, code in codings(concept)
    )
    if not (coded or _ALLERGY_WORDS.search(concept_text(concepts))) or not _verified(resource):
        return []
    active = _status_code(resource.get("clinicalStatus")) not in _INACTIVE_ALLERGY
    on = parse_date(resource.get("onsetDateTime")) or parse_date(resource.get("recordedDate"))
    return [ClinicalFinding(Finding.COBALT_B12_ALLERGY, label(resource), active, on)]


def _verified(resource: dict) -> bool:
    """False for a refuted record; raises Skip for one entered in error."""
    verification = _status_code(resource.get("verificationStatus"))
    if verification == "entered-in-error":
        raise Skip(ENTERED_IN_ERROR)
    return verification != "refuted"


def _status_code(concept: object) -> str | None:
    """The code of a status CodeableConcept; a bare code string is accepted (STU3 style)."""
    code = concept if isinstance(concept, str) else dig(concept, "coding", 0, "code")
    return code.strip().lower() if isinstance(code, str) else None
