"""FHIR layer: the findings codes and words name, and an Observation's answer. Imports
cds_b12.clinical. The Condition, Procedure and AllergyIntolerance readers are in ``problems``.

Codes first, matched with their system (§3.3, §3.4); a resource yields several
findings only when its codes name several concepts. Words are read only when no
code matched, for concepts whose codes are unverified or usually free text (§3.3
❌ list), and yield the single most specific finding: a Leber hereditary optic
neuropathy is LEBER, not also NEURO_SEVERE or NEURO.

Words are read the way a clinician reads them (NegEx-style, per clause): a
negated mention ("not pregnant", "no numbness", "denies tingling", "B12
deficiency ruled out") names nothing; a past one ("history of paraesthesia")
names an inactive finding for episodic states; an uncertain one ("?pernicious
anaemia", "possible neuropathy", "suspected SCD") is kept only for findings
whose omission would be unsafe (neurological signs, pregnancy, Leber's, B12
allergy: S4, S5, S8, S11) and dropped for causes, which need confirming; a
relative's ("family history of pernicious anaemia") is not the patient's. FHIR's
own answers decide the same way: a refuted Condition, an ``unconfirmed`` one (as
uncertain), an Observation answered false or "absent".
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from cds_b12.clinical.codes import (
    FINDING_CODES,
    ICD10,
    ICD10CM,
    NEGATIVE_ANSWERS,
    PREGNANCY_STATUS,
    PREGNANT_VALUE,
)
from cds_b12.clinical.record import Finding

from .accessors import codings, concept_text, text

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
_IN_ORDER = tuple(Finding)  # iterating the enum itself costs a generator step per member

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
        (r"nitrous oxide|\bn2o\b|laughing gas|whippets?\b|\bnangs?\b", Finding.NITROUS_OXIDE),
        (r"paraesthesia|paresthesia|neuropathy|numbness|tingling", Finding.NEURO),
        (r"b12 deficiency|cobalamin deficiency", Finding.B12_DEFICIENCY),
        (r"pregnan", Finding.PREGNANCY),
        (r"breast-?\s?feeding|breastfed|lactating", Finding.BREASTFEEDING),
        (r"glossitis|sore tongue|smooth tongue", Finding.GLOSSITIS),
        (r"fatigue|tiredness|tired all the time|lethargy", Finding.FATIGUE),
        (
            r"chronic kidney disease|\bckd\b|renal failure|kidney failure|renal impairment"
            r"|\besrd\b|end[- ]stage renal|dialysis",
            Finding.RENAL_IMPAIRMENT,
        ),
    )
)

# Findings kept when only suspected: missing them would be unsafe (S4, S5, S8, S11).
KEPT_WHEN_UNCERTAIN = frozenset(
    {
        Finding.NEURO,
        Finding.NEURO_SEVERE,
        Finding.LEBER,
        Finding.COBALT_B12_ALLERGY,
        Finding.PREGNANCY,
    }
)
# States that end: "history of" one is an inactive finding. Surgery and chronic disease stay.
_EPISODIC = frozenset(
    {
        Finding.NEURO,
        Finding.NEURO_SEVERE,
        Finding.PREGNANCY,
        Finding.NITROUS_OXIDE,
        Finding.DIETARY_DEFICIENCY,
        Finding.B12_DEFICIENCY,
    }
)


class Assertion(StrEnum):
    """How a mention is asserted: what the words say about the concept they name."""

    PRESENT = "PRESENT"
    PAST = "PAST"
    UNCERTAIN = "UNCERTAIN"
    ABSENT = "ABSENT"


# A cue's reach ends at a clause break: "no weakness, numbness of feet" still names numbness.
_CLAUSE_BREAK = re.compile(
    r"[.;,()\[\]\n]|\b(?:but|however|although|though|except|apart from|aside from|whereas)\b"
)
# Checked first: these contain negation words but leave the concept open.
_STILL_OPEN = re.compile(
    r"\b(?:not|cannot be|can't be|cannot|can't) (?:excluded?|ruled out|rule out)\b"
    r"|\b(?:not yet|to be) (?:excluded|ruled out)\b"
)
# Negation words that do not negate the concept ("no improvement in numbness").
_PSEUDO_NEGATION = re.compile(
    r"\b(?:no|not|without) (?:improvement|change|better|worse|increase|decrease|relief|only)\b"
    r"|\bnot improved\b|\bnot resolved\b"
)
# Someone else's condition ("family history of pernicious anaemia", "mother has ...").
_OTHER_PERSON = re.compile(
    r"\b(?:family history|fh|fhx|mother|father|sister|brother|son|daughter|parent|sibling"
    r"|grandmother|grandfather|aunt|uncle|cousin)s?\b"
)
_NEGATED_BEFORE = re.compile(
    r"\b(?:no|not|non|never|none|denies|denied|denying|negative|without|absence of|absent"
    r"|free of|ruled out|rules out|excluded|excludes|nil)\b"
)
_NEGATED_AFTER = re.compile(
    r"\b(?:ruled out|excluded|absent|negative|denied|not present|not found|not seen|none)\b"
)
_UNCERTAIN = re.compile(
    r"\?|\b(?:possible|possibly|probable|probably|suspected|suspect|suspicion of|query"
    r"|queried|r/o|rule out|likely|unlikely|may have|might have|differential|presumed"
    r"|provisional|consider|considered|borderline|equivocal)\b"
)
_PAST = re.compile(
    r"\b(?:history of|h/o|hx of|past|previous|previously|prior|former|formerly|resolved"
    r"|stopped|quit|ceased|ex|in remission)\b"
)


def assertion(text: str, start: int, end: int) -> Assertion:
    """How the mention at ``text[start:end]`` is asserted within its clause."""
    before_breaks = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, start)]
    after_break = _CLAUSE_BREAK.search(text, end)
    before = text[before_breaks[-1] if before_breaks else 0 : start]
    after = text[end : after_break.start() if after_break else len(text)]
    if _OTHER_PERSON.search(before):
        # a relative's history, or a relative reporting: doubtful, so only a sign that
        # matters for safety is kept (a cause is not taken from a relative's record)
        return Assertion.UNCERTAIN
    before, after = _PSEUDO_NEGATION.sub(" ", before), _PSEUDO_NEGATION.sub(" ", after)
    clause = f"{before} {after}"
    if _STILL_OPEN.search(clause):
        return Assertion.UNCERTAIN
    if _NEGATED_BEFORE.search(before) or _NEGATED_AFTER.search(after):
        return Assertion.ABSENT
    if _UNCERTAIN.search(clause):
        return Assertion.UNCERTAIN
    if _PAST.search(clause):
        return Assertion.PAST
    return Assertion.PRESENT


def kept(finding: Finding, how: Assertion) -> bool:
    """Whether a finding asserted ``how`` is recorded at all."""
    if how is Assertion.ABSENT:
        return False
    return how is not Assertion.UNCERTAIN or finding in KEPT_WHEN_UNCERTAIN


def still_active(finding: Finding, how: Assertion) -> bool:
    """False for a past episodic state ("history of paraesthesia")."""
    return not (how is Assertion.PAST and finding in _EPISODIC)


def coded_findings(concept: object) -> list[Finding]:
    """The findings a CodeableConcept's codes name, or its words when no code matches."""
    return [finding for finding, _ in asserted_findings(concept)]


def asserted_findings(concept: object) -> tuple[tuple[Finding, Assertion], ...]:
    """Each finding a CodeableConcept names with how it is asserted; codes assert presence.

    Words are read only when no code matched, and yield at most one finding: the
    most specific one mentioned and not ruled out by its clause.
    """
    found: set[Finding] = set()
    for system, code in codings(concept):
        found.update(_BY_CODE.get(_key(system, code), ()))
    if found:
        return tuple((finding, Assertion.PRESENT) for finding in _IN_ORDER if finding in found)
    return worded_finding(concept_text((concept,)))


@lru_cache(maxsize=1024)
def worded_finding(text: str) -> tuple[tuple[Finding, Assertion], ...]:
    """The most specific finding ``text`` mentions and does not negate, with its assertion.

    Cached: trying every pattern costs about 80,000 instructions for a short text that
    names nothing, and problem lists repeat the same few texts ("Hypertension").
    """
    for pattern, finding in _WORDS:
        for match in pattern.finditer(text):
            how = assertion(text, match.start(), match.end())
            if kept(finding, how):
                return ((finding, how),)
    return ()


# What an Observation may record as a finding: symptoms, exposures, diet and pregnancy.
OBSERVED = frozenset(
    {
        Finding.NEURO,
        Finding.NEURO_SEVERE,
        Finding.NITROUS_OXIDE,
        Finding.DIETARY_DEFICIENCY,
        Finding.PREGNANCY,
        Finding.BREASTFEEDING,
        Finding.FATIGUE,
        Finding.GLOSSITIS,
    }
)
_NO_ANSWER = re.compile(
    r"(?:no|n|false|absent|negative|none|nil|not present|not detected|never|denie[sd]"
    r"|not(?!\s+(?:known|sure)))\b"  # "Not breastfeeding", but "not known" stays open
)
_OPEN_ANSWER = re.compile(r"(?:unknown|not known|unsure|not sure|uncertain|\?)")


def observation_finding(resource: dict) -> tuple[Finding, bool] | None:
    """The finding an Observation records and whether it is current; the answer decides.

    A question ("Numbness", "Nitrous oxide use") answered false, "absent", "no" or
    "negative" records nothing; an answer may itself name the finding ("Diet:
    vegan"). A measured value (a Quantity) is a result, not a finding.
    """
    code, value = resource.get("code"), resource.get("valueCodeableConcept")
    if any(pair in PREGNANCY_STATUS for pair in codings(code)):
        pregnant = any(pair in PREGNANT_VALUE for pair in codings(value))
        return (Finding.PREGNANCY, True) if pregnant else None
    answer = _answer(resource)
    if answer is Assertion.ABSENT:
        return None
    found = asserted_findings(code)
    if not found:
        words = " ".join((concept_text((value,)), text(resource.get("valueString")) or ""))
        found = worded_finding(words.lower().strip())
    for finding, how in found:
        if finding in OBSERVED:
            how = weaker(how, answer)
            if kept(finding, how):
                return finding, still_active(finding, how)
    return None


def _answer(resource: dict) -> Assertion:
    """What an Observation's value says of the question it answers."""
    if any(key.startswith("value") for key in resource) and not any(
        key in resource for key in ("valueBoolean", "valueCodeableConcept", "valueString")
    ):
        return Assertion.ABSENT  # a measurement, or a value type no finding is answered with
    flag = resource.get("valueBoolean")
    if flag is not None:
        return Assertion.PRESENT if flag is True else Assertion.ABSENT
    value = resource.get("valueCodeableConcept")
    if any(pair in NEGATIVE_ANSWERS for pair in codings(value)):
        return Assertion.ABSENT
    words = concept_text((value,)) or (text(resource.get("valueString")) or "").lower()
    if _NO_ANSWER.match(words):
        return Assertion.ABSENT
    return Assertion.UNCERTAIN if _OPEN_ANSWER.match(words) else Assertion.PRESENT


def weaker(how: Assertion, verified: Assertion) -> Assertion:
    """The weaker of the words' assertion and the record's verification status."""
    order = (Assertion.PRESENT, Assertion.PAST, Assertion.UNCERTAIN, Assertion.ABSENT)
    return max(how, verified, key=order.index)
