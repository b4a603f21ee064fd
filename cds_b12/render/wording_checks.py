"""Render layer: the checks a card wording file must pass when it is loaded.

Unknown keys, malformed or unknown placeholders, stray braces, override reasons without a
display, missing default tables: each is a ``RenderError`` naming the file and the field,
so a wording mistake fails at start or in a test instead of reaching a clinician.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cds_b12.clinical.codes import ORDERABLE_LABS
from cds_b12.clinical.recommendation import LabNote

from .errors import RenderError
from .placeholders import (
    ACTION_PLACEHOLDERS,
    CALENDAR_PLACEHOLDERS,
    FACT_PLACEHOLDERS,
    LAB_NOTE_PLACEHOLDERS,
    NAME_TABLES,
    SECTION_PLACEHOLDERS,
    UNNAMED,
)

PROFILE_TABLES = ("uk", "us")

LABEL_KEYS = (
    "suggestion_label",
    "judged_label",
    "alternative_label",
    "labs_label",
    "remove_label",
)
TEXT_KEYS = ("summary", "detail", *LABEL_KEYS)
# ``safety_said``: the safety rules (S-IDs) the card's own text already says; its Safety
# list leaves them out, so a clinician reads each qualifier once (issue 11 §4).
_PROFILE_KEYS = frozenset({*TEXT_KEYS, "source", "override_reasons", "safety_said"})
_VARIANT_KEYS = frozenset({*_PROFILE_KEYS, *PROFILE_TABLES})
_CARD_KEYS = frozenset({"rule", "variants", *_PROFILE_KEYS, *PROFILE_TABLES})

_DEFAULT_TABLES = (
    "override_reasons",
    "labels",
    "sections",
    "actions",
    "lab_names",
    "lab_short_names",
    "lab_notes",
    "facts",
    *NAME_TABLES,
    "absent",
    "calendar",
    "variants",  # default [variants.<name>] for cards whose own file has none
)
_SAFETY_ID = re.compile(r"^S[0-9]+(?:-[a-z]+)*$")  # S11, or qualified: S6-low-baseline
_FORMATTER = string.Formatter()


def placeholders(template: str, where: str = "template") -> list[str]:
    """Placeholder names in ``template``, in order; raises on malformed braces."""
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise RenderError(f"{where}: malformed braces ({exc})") from exc
    names = []
    for literal, field, spec, conversion in parsed:
        if "{" in literal or "}" in literal:
            raise RenderError(f"{where}: literal braces are not allowed ('{{{{' or '}}}}')")
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise RenderError(f"{where}: placeholder {{{field}}} must be a plain {{name}}")
        names.append(field)
    return names


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RenderError(f"{where}: must be a non-empty string")
    placeholders(value, where)
    return value


def check_card(raw: Mapping[str, Any], path: Path) -> None:
    name = f"cards/{path.name}"
    unknown = set(raw) - _CARD_KEYS
    if unknown:
        raise RenderError(f"{name}: unknown keys {sorted(unknown)}")
    if raw.get("rule") != path.stem:
        raise RenderError(f"{name}: rule = {raw.get('rule')!r} must equal the file name")
    for key in ("summary", "detail"):
        _text(raw.get(key), f"{name} {key}")
    _check_texts(raw, name)
    _check_profile_tables(raw, name)
    variants = raw.get("variants", {})
    if not isinstance(variants, dict):
        raise RenderError(f"{name} [variants]: must be a table of tables")
    for variant, table in variants.items():
        where = f"{name} [variants.{variant}]"
        if not isinstance(table, dict):
            raise RenderError(f"{where}: must be a table")
        unknown = set(table) - _VARIANT_KEYS
        if unknown:
            raise RenderError(f"{where}: unknown keys {sorted(unknown)}")
        _check_texts(table, where)
        _check_profile_tables(table, where)


def _check_profile_tables(raw: Mapping[str, Any], name: str) -> None:
    for profile in PROFILE_TABLES:
        table = raw.get(profile, {})
        if not isinstance(table, dict):
            raise RenderError(f"{name} [{profile}]: must be a table")
        unknown = set(table) - _PROFILE_KEYS
        if unknown:
            raise RenderError(f"{name} [{profile}]: unknown keys {sorted(unknown)}")
        _check_texts(table, f"{name} [{profile}]")


def _check_texts(raw: Mapping[str, Any], where: str) -> None:
    for key in TEXT_KEYS:
        if key in raw:
            _text(raw[key], f"{where} {key}")
    if "source" in raw:
        source = raw["source"]
        if not isinstance(source, dict) or set(source) != {"label", "url"}:
            raise RenderError(f"{where} [source]: needs exactly label and url")
        _text(source["label"], f"{where} source.label")
        if not str(source["url"]).startswith(("https://", "http://")):
            raise RenderError(f"{where} source.url: must be an absolute URL")
    if "override_reasons" in raw:
        _check_reasons(raw["override_reasons"], where)
    said = raw.get("safety_said", [])
    if not isinstance(said, list) or not all(
        isinstance(sid, str) and _SAFETY_ID.match(sid) for sid in said
    ):
        raise RenderError(f"{where} safety_said: must be a list of safety rule IDs (S1, S8, ...)")


def _check_reasons(reasons: object, where: str) -> None:
    if not isinstance(reasons, list) or not reasons:
        raise RenderError(f"{where} override_reasons: must be a non-empty array of tables")
    for i, reason in enumerate(reasons):
        # CDS Hooks 2.0: every overrideReasons Coding MUST have a display.
        if not isinstance(reason, dict) or set(reason) != {"code", "display"}:
            raise RenderError(f"{where} override_reasons[{i}]: needs exactly code and display")
        _text(reason["code"], f"{where} override_reasons[{i}].code")
        _text(reason["display"], f"{where} override_reasons[{i}].display")


def check_defaults(raw: Mapping[str, Any], where: str) -> None:
    unknown = set(raw) - {*_DEFAULT_TABLES, *PROFILE_TABLES}
    if unknown:
        raise RenderError(f"{where}: unknown keys {sorted(unknown)}")
    for table in _DEFAULT_TABLES:
        if table not in raw:
            raise RenderError(f"{where}: missing [{table}]")
    _check_reasons(raw["override_reasons"], where)
    _check_default_tables(raw, where, complete=True)
    for profile in PROFILE_TABLES:
        overrides = raw.get(profile, {})
        unknown = set(overrides) - (set(_DEFAULT_TABLES) - {"override_reasons"})
        if unknown:
            raise RenderError(f"{where} [{profile}]: unknown keys {sorted(unknown)}")
        _check_default_tables(overrides, f"{where} [{profile}]", complete=False)


def _check_default_tables(raw: Mapping[str, Any], where: str, *, complete: bool) -> None:
    for variant, texts in raw.get("variants", {}).items():
        # a default variant holds card texts only; a summary may quote the card's {summary}
        if not isinstance(texts, dict) or not texts or set(texts) - set(TEXT_KEYS):
            raise RenderError(f"{where} [variants.{variant}]: only {', '.join(TEXT_KEYS)}")
        _check_texts(texts, f"{where} [variants.{variant}]")
    expected: dict[str, Mapping[str, frozenset[str]] | None] = {
        "labels": {
            **{key: frozenset({"regimen", "alternative", "profile"}) for key in LABEL_KEYS},
            "timeline_label": frozenset(),  # the card link to the timeline; not per card
        },
        "sections": SECTION_PLACEHOLDERS,
        "actions": ACTION_PLACEHOLDERS,
        "calendar": CALENDAR_PLACEHOLDERS,
        "lab_names": None,
        "lab_short_names": None,
        "lab_notes": {
            note.value: LAB_NOTE_PLACEHOLDERS.get(note.value, frozenset()) for note in LabNote
        },
        "facts": FACT_PLACEHOLDERS,
        **{
            table: {m.name: frozenset() for m in enum if m.name not in UNNAMED.get(enum, ())}
            for table, enum in NAME_TABLES.items()
        },
        "absent": None,
    }
    for table, allowed in expected.items():
        entries = raw.get(table, {})
        if not isinstance(entries, dict):
            raise RenderError(f"{where} [{table}]: must be a table")
        if table in ("lab_names", "lab_short_names") and set(entries) - set(ORDERABLE_LABS):
            bad = sorted(set(entries) - set(ORDERABLE_LABS))
            raise RenderError(f"{where} [{table}]: not in codes.ORDERABLE_LABS: {bad}")
        if allowed is None:
            for key, value in entries.items():
                _text(value, f"{where} {table}.{key}")
            continue
        if complete and set(allowed) - set(entries):
            raise RenderError(f"{where} [{table}]: missing {sorted(set(allowed) - set(entries))}")
        for key, value in entries.items():
            if key not in allowed:
                raise RenderError(f"{where} [{table}]: unknown key {key!r}")
            names = set(placeholders(_text(value, f"{where} {table}.{key}")))
            unknown = names - allowed[key]
            if unknown:
                raise RenderError(
                    f"{where} {table}.{key}: unknown placeholders {sorted(unknown)} "
                    f"(allowed: {sorted(allowed[key])})"
                )


def check_safety(raw: Mapping[str, Any], where: str) -> None:
    for key, value in raw.items():
        if key in PROFILE_TABLES:
            if not isinstance(value, dict):
                raise RenderError(f"{where} [{key}]: must be a table")
            for sid, text in value.items():
                if not _SAFETY_ID.match(sid) or sid not in raw:
                    raise RenderError(f"{where} [{key}] {sid}: needs a base {sid} entry")
                _text(text, f"{where} [{key}] {sid}")
            continue
        if not _SAFETY_ID.match(key):
            raise RenderError(f"{where}: {key!r} is not a safety rule ID (S1, S2, ...)")
        _text(value, f"{where} {key}")
