"""FHIR layer: a lab coded only locally that names one of our analytes. Imports cds_b12.clinical.

Its value is never read (a local code says nothing of specimen or method, and a guess
could decide a card); the clinician is told, so it is not dropped in silence. Matching
is by words, conservative: a label that also names another test of the same words (B12
binding capacity, intrinsic factor antibodies, HbA1c, MCH, red cell folate, a urine
test) is not ours and is left alone.
"""

from __future__ import annotations

import re

from cds_b12.clinical.codes import LOINC, SNOMED

from .accessors import as_dict, codings, concept_text, first_dict, shorten, string, text

_ANALYTE_WORDS = re.compile(
    r"\bb12\b|cobalamin|methylmalonic|homocyst|\bha?emoglobin\b|\bhg?b\b|\bmcv\b"
    r"|mean (?:cell|corpuscular) volume|\bfolate\b|\bfolic acid\b|\bpotassium\b"
)
_OTHER_TESTS = re.compile(
    r"binding|antibod|intrinsic|absorption|urine|\ba1c\b|glyc|\bmchc?\b|mean (?:cell|corpuscular)"
    r" ha?emoglobin|red (?:blood )?cell folate|\brbc folate|erythrocyte folate|electrophoresis"
    r"|fetal|variant|\bplasma free\b"
)
_KNOWN_SYSTEMS = frozenset({LOINC, SNOMED})


def local_lab_label(resource: dict) -> str | None:
    """The label of an Observation coded only in local systems whose words name one of
    our analytes, else None."""
    concept = resource.get("code")
    if any(system in _KNOWN_SYSTEMS for system, _ in codings(concept)):
        return None  # a LOINC or SNOMED code we do not use: another test
    words = concept_text([concept])
    if not _ANALYTE_WORDS.search(words) or _OTHER_TESTS.search(words):
        return None
    given = as_dict(concept)
    return text(given.get("text")) or string(first_dict(given.get("coding")), "display")


def local_lab_note(label: str) -> str:
    """The clinician's note for a lab that names an analyte but is coded only locally."""
    return (
        f"a result labelled '{shorten(label)}' is coded only locally and was not read;"
        " map it to LOINC"
    )
