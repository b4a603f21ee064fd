"""FHIR layer: Condition, Procedure, AllergyIntolerance → findings. Imports cds_b12.clinical.

The codes and words of each are read by ``findings``; here the record's own status
decides: a refuted Condition names nothing, an ``unconfirmed`` one is uncertain, one
entered in error is skipped with a note, and a resolved one is not active.
"""

from __future__ import annotations

import re
from datetime import date

from cds_b12.clinical.codes import B12_ALLERGY_SUBSTANCES, B12_INGREDIENTS, RXNORM
from cds_b12.clinical.record import ClinicalFinding, Finding, NoteKind

from .accessors import codings, concept_text, dicts, label
from .build import make_finding
from .dates import parse_date
from .findings import (
    Assertion,
    asserted_findings,
    assertion,
    coded_findings,
    kept,
    still_active,
    weaker,
)
from .onsets import Born, choice_date
from .skips import ENTERED_IN_ERROR, Note, Skip, StatusPolicy

_ALLERGY_WORDS = re.compile(r"cobalt|cobalamin|vitamin b12")  # also cyano-/hydroxocobalamin

_ACTIVE_CONDITION = frozenset({"active", "recurrence", "relapse"})
_RECURRED = frozenset({"recurrence", "relapse"})  # come back: a recurrence on treatment
_INACTIVE_ALLERGY = frozenset({"inactive", "resolved"})

PROCEDURE_STATUS = StatusPolicy(
    keep=frozenset({"completed", "in-progress", "unknown"}),
    noted={"entered-in-error": ENTERED_IN_ERROR},
    silent=frozenset({"not-done", "preparation", "on-hold", "stopped"}),
)


def read_condition(resource: dict, note: Note, born: Born) -> list[ClinicalFinding]:
    """Findings of a Condition; refuted ones are dropped, entered-in-error ones noted, and
    unconfirmed ones read as uncertain."""
    found = asserted_findings(resource.get("code"))
    if not found:
        return []
    verified = _verification(resource)
    found = [(f, weaker(how, verified)) for f, how in found if kept(f, weaker(how, verified))]
    if not found:
        return []
    clinical = _status_code(resource.get("clinicalStatus"))
    if clinical is None:
        # con-4: an abated condition is not active even when clinicalStatus is missing
        active = not any(
            str(key).startswith("abatement") and value not in (None, False)
            for key, value in resource.items()
        )
    else:
        active = clinical in _ACTIVE_CONDITION
    on = _when(resource, "onset", note, born, recorded=True)
    resolved_on = _when(resource, "abatement", note, born, end_first=True)
    returned = clinical in _RECURRED
    return [
        make_finding(f, label(resource), active and still_active(f, how), on, resolved_on, returned)
        for f, how in found
    ]


def read_procedure(resource: dict, note: Note, born: Born) -> list[ClinicalFinding]:
    """Findings of a Procedure done or under way ("history of" one was still done)."""
    found = coded_findings(resource.get("code"))
    if not found or PROCEDURE_STATUS.apply(resource, note) is None:
        return []
    on = _when(resource, "performed", note, born)
    return [make_finding(f, label(resource), True, on) for f in found]


def read_allergy(resource: dict, note: Note, born: Born) -> list[ClinicalFinding]:
    """A cobalt or B12 allergy, by RxNorm B12 ingredient, SNOMED CT cobalamin substance, or
    words. Cobalt, and any other SNOMED (or dm+d) code, is read by its display or text."""
    concepts = [resource.get("code")]
    concepts.extend(reaction.get("substance") for reaction in dicts(resource.get("reaction")))
    coded = any(
        (system == RXNORM and code in B12_INGREDIENTS) or (system, code) in B12_ALLERGY_SUBSTANCES
        for concept in concepts
        for system, code in codings(concept)
    )
    if not (coded or _worded_allergy(concept_text(concepts))):
        return []
    if _verification(resource) is Assertion.ABSENT:
        return []
    active = _status_code(resource.get("clinicalStatus")) not in _INACTIVE_ALLERGY
    on = _when(resource, "onset", note, born, recorded=True)
    return [make_finding(Finding.COBALT_B12_ALLERGY, label(resource), active, on)]


def _when(
    resource: dict,
    element: str,
    note: Note,
    born: Born,
    *,
    end_first: bool = False,
    recorded: bool = False,
) -> date | None:
    """The date ``element``[x] gives, else (with ``recorded``) the recorded date. One given
    that gives no date ("childhood", an age without a birth date) is said, not dropped."""
    on, given = choice_date(resource, element, born, end_first=end_first)
    if on is not None:
        return on
    on = parse_date(resource.get("recordedDate")) if recorded else None
    if given:
        used = "no date used" if on is None else "used the recorded date"
        note(f"{element} date not understood; {used}")
    return on


def _worded_allergy(text: str) -> bool:
    """A B12 or cobalt allergy named and not negated ("no known allergy to cobalt" is none)."""
    return any(
        assertion(text, m.start(), m.end()) is not Assertion.ABSENT
        for m in _ALLERGY_WORDS.finditer(text)
    )


_UNCONFIRMED = frozenset({"unconfirmed", "provisional", "differential"})


def _verification(resource: dict) -> Assertion:
    """A record's verificationStatus as an assertion; raises Skip for one entered in error."""
    verification = _status_code(resource.get("verificationStatus"))
    if verification == "entered-in-error":
        raise Skip(ENTERED_IN_ERROR, NoteKind.STATUS)
    if verification == "refuted":
        return Assertion.ABSENT
    return Assertion.UNCERTAIN if verification in _UNCONFIRMED else Assertion.PRESENT


# Every clinicalStatus and verificationStatus code of a Condition or an AllergyIntolerance.
_STATUS_CODES = frozenset(
    {
        *_ACTIVE_CONDITION,
        *_INACTIVE_ALLERGY,
        "remission",
        *_UNCONFIRMED,
        "confirmed",
        "refuted",
        "entered-in-error",
    }
)


def _status_code(concept: object) -> str | None:
    """The code of a status CodeableConcept; a bare code string is accepted (STU3 style).

    Of several codings the one with a FHIR status code decides, wherever it stands: an
    EHR sends its own code beside HL7's, often first. Without a code, a text that is one
    in words ("Resolved", "Entered in error") is read as it.
    """
    try:  # the usual shape: one coding, with a FHIR status code sent clean
        (only,) = concept["coding"]  # type: ignore[index]
        if only["code"] in _STATUS_CODES:
            return only["code"]
    except (KeyError, TypeError, ValueError):  # another shape: read in general
        pass
    return _general_status_code(concept)


def _general_status_code(concept: object) -> str | None:
    """``_status_code`` of any shape, without the shortcut for one clean coding."""
    if not isinstance(concept, dict):
        return concept.strip().lower() if isinstance(concept, str) else None
    codes = [
        code.strip().lower()
        for coding in dicts(concept.get("coding"))
        if isinstance(code := coding.get("code"), str)
    ]
    if not codes:
        words = concept.get("text")
        code = "-".join(words.lower().split()) if isinstance(words, str) else None
        return code if code in _STATUS_CODES else None
    return next((code for code in codes if code in _STATUS_CODES), codes[0])
