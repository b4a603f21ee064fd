"""FHIR layer: tolerant accessors over plain FHIR JSON. Imports the standard library only.

Every accessor returns ``None`` (or an empty value) for a missing or wrongly typed
element instead of raising, so one bad field costs one value, not the resource.
A lone object where FHIR wants an array is read as a one-element array: the
official CDS Hooks examples send ``doseAndRate`` that way (cds-hooks-2.0.md §5.4).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

_NUMBER = re.compile(
    r"\s*(<=|>=|<|>|=|≤|≥)?\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*)"
)
# FHIR Quantity.comparator codes, and how labs write them in text.
COMPARATORS = {"<": "<", "<=": "<=", ">=": ">=", ">": ">", "≤": "<=", "≥": ">=", "=": None}
_B12_SPELLING = re.compile(r"\bb[\s-]12\b")
# A code system some EHRs (and CDA conversions) name by its HL7 OID, read as its FHIR URI
# (http://hl7.org/fhir/terminologies-systems.html lists both).
_OID_SYSTEMS = {
    "urn:oid:2.16.840.1.113883.6.1": "http://loinc.org",
    "urn:oid:2.16.840.1.113883.6.96": "http://snomed.info/sct",
    "urn:oid:2.16.840.1.113883.6.88": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "urn:oid:2.16.840.1.113883.6.90": "http://hl7.org/fhir/sid/icd-10-cm",
    "urn:oid:2.16.840.1.113883.6.3": "http://hl7.org/fhir/sid/icd-10",
}
_UNIT_WORDS = re.compile(r"(?:[^\W\d_]|[/% ])*")  # letters, "/", "%" and spaces: no digits
T = TypeVar("T")


def dig(obj: object, *path: str | int) -> object:
    """Follow object keys; an integer step takes the first array element."""
    for step in path:
        if isinstance(step, int):
            if isinstance(obj, list):
                obj = obj[0] if obj else None
            elif not isinstance(obj, dict):
                return None
        elif isinstance(obj, dict):
            obj = obj.get(step)
        else:
            return None
    return obj


def first_dict(obj: object) -> dict:
    """``as_dict(dig(obj, 0))`` in one step: an array's first element, or a lone object."""
    if isinstance(obj, list):
        obj = obj[0] if obj else None
    return obj if isinstance(obj, dict) else {}


def as_dict(obj: object) -> dict:
    return obj if isinstance(obj, dict) else {}


def as_list(obj: object) -> list:
    if isinstance(obj, list):
        return obj
    return [obj] if isinstance(obj, dict) else []


def dicts(obj: object) -> list[dict]:
    """The objects of an array, skipping anything else."""
    if isinstance(obj, list):
        return [item for item in obj if isinstance(item, dict)]
    return [obj] if isinstance(obj, dict) else []


def string(obj: object, *path: str | int) -> str | None:
    """A non-blank string at ``path``, stripped."""
    value = obj.get(path[0]) if len(path) == 1 and isinstance(obj, dict) else dig(obj, *path)
    return (value.strip() or None) if isinstance(value, str) else None


def text(value: object) -> str | None:
    """``value`` stripped, if it is a non-blank string."""
    return (value.strip() or None) if isinstance(value, str) else None


def number(value: object) -> float | None:
    """A finite number from a JSON number or a numeric string such as ``"<150"``.

    Text after the number may only be a unit's letters (``"245 pg/mL"``): ``"1,250"``,
    ``"7,5"`` or ``"150-200"`` are not 1, 7 or 150, so they give None.
    """
    if value is None:  # an absent element, the commonest call
        return None
    if value.__class__ is int:  # the usual cases first
        try:
            return float(value)
        except OverflowError:
            return None
    if value.__class__ is float:
        return value if math.isfinite(value) else None
    parsed = number_and_rest(value)
    return None if parsed is None or not _UNIT_WORDS.fullmatch(parsed[1]) else parsed[0]


def number_and_rest(value: object) -> tuple[float, str] | None:
    """A finite number and the text after it (``"245 pg/mL"`` → ``(245.0, "pg/mL")``).

    A leading comparator is dropped (``"<150"`` reads as 150); ``censored_number`` keeps it.
    """
    if value.__class__ is float:  # the usual case first
        return (value, "") if math.isfinite(value) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            result = float(value)
        except OverflowError:
            return None
        return (result, "") if math.isfinite(result) else None
    if not isinstance(value, str):
        return None
    parsed = censored_number(value)
    return None if parsed is None else (parsed[1], parsed[2])


def censored_number(value: str) -> tuple[str | None, float, str] | None:
    """A numeric string's comparator (FHIR code), finite number and the text after it:
    ``"<150 pg/mL"`` → ``("<", 150.0, "pg/mL")``."""
    match = _NUMBER.fullmatch(value)
    if match is None:
        return None
    result = float(match.group(2))
    if not math.isfinite(result):
        return None
    return COMPARATORS.get(match.group(1) or "="), result, match.group(3).strip()


def codings(concept: object) -> list[tuple[str, str]]:
    """``(system, code)`` pairs of a CodeableConcept; a trailing ``/`` on the system is
    dropped, and a system named by its OID is named by its URI."""
    if not isinstance(concept, dict):
        return []
    pairs = []
    given = concept.get("coding")
    for coding in given if isinstance(given, list) else (given,):  # as_list, without its call
        if isinstance(coding, dict):
            system, code = coding.get("system"), coding.get("code")
            if isinstance(system, str) and isinstance(code, str):
                system, code = system.strip(), code.strip()
                if system and code:
                    system = system.rstrip("/")
                    if system in _OID_SYSTEMS:
                        system = _OID_SYSTEMS[system]
                    pairs.append((system, code))
    return pairs


def coded(concept: object, table: Mapping[tuple[str, str], T]) -> T | None:
    """``table``'s value for the first of ``codings(concept)`` it holds, without building the list.

    ``table``'s keys must be pairs as ``codings`` returns them (stripped, no trailing
    ``/``, URIs for OIDs): then a coding sent clean, the usual case, is looked up as it is.
    """
    try:  # the usual shape: a known code first, sent clean
        first = concept["coding"][0]
        found = table.get((first["system"], first["code"]))
    except (KeyError, IndexError, TypeError):  # another shape, or unhashable values
        found = None
    if found is not None:
        return found
    if not isinstance(concept, dict):
        return None
    coding = concept.get("coding")
    for item in coding if isinstance(coding, list) else (coding,):
        if isinstance(item, dict):
            system, code = item.get("system"), item.get("code")
            if isinstance(system, str) and isinstance(code, str):
                found = table.get((system, code))
                if found is None:
                    system, code = system.strip(), code.strip()
                    if system and code:
                        system = system.rstrip("/")
                        found = table.get((_OID_SYSTEMS.get(system, system), code))
                if found is not None:
                    return found
    return None


def concept_text(concepts: Iterable[object]) -> str:
    """Lower-cased ``text`` and ``coding.display`` of CodeableConcepts, for word matching.

    Blank and non-string parts add nothing: the words are split on whitespace anyway.
    """
    parts = []
    for concept in concepts:
        if not isinstance(concept, dict):
            continue
        value = concept.get("text")
        if isinstance(value, str):
            parts.append(value)
        given = concept.get("coding")
        for coding in given if isinstance(given, list) else (given,):
            if isinstance(coding, dict) and isinstance(value := coding.get("display"), str):
                parts.append(value)
    text = " ".join(" ".join(parts).lower().replace("’", "'").split())
    # only spaces are left between words, so the spelling needs "b 12" or "b-12"
    return _B12_SPELLING.sub("b12", text) if "b 12" in text or "b-12" in text else text


def shorten(value: str, limit: int = 40) -> str:
    """Keep notes readable when a field holds a long junk string."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def label(resource: dict) -> str:
    """``Type/id`` for notes and ``resource_id`` fields; the type alone when there is no id."""
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if not (isinstance(rtype, str) and rtype):
        rtype = "Resource"
    return f"{rtype}/{rid}" if isinstance(rid, str) and (rid := rid.strip()) else rtype
