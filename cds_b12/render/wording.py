"""Render layer: card wording read from ``cards/*.toml`` and filled with a patient's facts.

Imports only the standard library and ``cds_b12.clinical``. Wording is data so
clinicians can change a sentence without touching Python (style guide §5).
The files are checked when loaded (unknown keys, malformed placeholders, stray
braces, override reasons without a display) and again when filled: a template
naming a placeholder that the recommendation does not provide raises
``RenderError`` naming the file, the field and the placeholder, so a wording
mistake fails a test instead of reaching a clinician as "{b12}".
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cds_b12.clinical.codes import ORDERABLE_LABS
from cds_b12.clinical.recommendation import LabNote
from cds_b12.clinical.sources import Region, Source

from .errors import RenderError
from .escape import Markup, escape
from .wording_checks import (
    LABEL_KEYS,
    PROFILE_TABLES,
    check_card,
    check_defaults,
    check_safety,
    placeholders,
)

CARDS_DIR_ENV = "CDS_B12_CARDS_DIR"
# The repository's cards/, shipped inside the package (see pyproject.toml)
DEFAULT_CARDS_DIR = Path(str(resources.files("cds_b12") / "cards"))
DEFAULTS_FILE = "_defaults.toml"
SAFETY_FILE = "safety.toml"
_FORMATTER = string.Formatter()
# Where a placeholder starts a sentence: its value then starts with a capital.
_SENTENCE_END = re.compile(r"(?:\A|[.!?]\s|\n- |\n\n)\s*\**\s*\Z")


@dataclass(frozen=True, slots=True)
class OverrideReason:
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class CardWording:
    """One rule's templates for one profile, with profile tables and defaults applied."""

    rule: str
    file: str
    profile: str
    summary: str
    detail: str
    suggestion_label: str
    judged_label: str
    alternative_label: str
    labs_label: str
    remove_label: str
    source: Source | None
    override_reasons: tuple[OverrideReason, ...]
    safety_said: frozenset[str] = frozenset()
    _templates: dict[str, Template] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def where(self, field: str) -> str:
        """Where a template came from, for error messages."""
        return f"{self.file} ({self.profile}) {field}"

    def fill(self, field: str, values: Mapping[str, object], *, sentences: bool = True) -> Markup:
        """``fill`` of the template ``field`` ("summary", "detail", a label key), worked out
        on first use."""
        found = self._templates.get(field)
        if found is None:
            found = self._templates[field] = compiled(getattr(self, field), self.where(field))
        return found.fill(values, sentences)


@dataclass(frozen=True)
class CardLibrary:
    """All wording in one ``cards/`` directory, checked at load time."""

    root: Path
    cards: Mapping[str, Mapping[str, Any]]
    defaults: Mapping[str, Any]
    safety: Mapping[str, Any]
    # Merged once, as the wording does not change while the service runs: each (table,
    # profile), each card's wording, and each _defaults.toml and safety.toml template
    # worked out.
    _tables: dict[tuple[str, str], Mapping[str, Any]] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _cards: dict[tuple[str, str, str | None], CardWording] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _texts: dict[tuple[str, str, str], Template] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _composed: dict[tuple[object, ...], str] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def rules(self) -> list[str]:
        """Rule IDs that have a card file."""
        return sorted(self.cards)

    def variants(self, rule: str) -> list[str]:
        """The names of the ``[variants.<name>]`` tables in ``rule``'s card file."""
        return sorted(self.cards.get(rule, {}).get("variants", {}))

    def card(self, rule: str, profile: str, variant: str | None = None) -> CardWording:
        """The wording for ``rule`` under ``profile`` ("UK"/"US"); a ``variant`` table
        (``Recommendation.variant``) replaces fields of the card, then its profile table."""
        found = self._cards.get((rule, profile, variant))
        if found is None:
            found = self._cards[(rule, profile, variant)] = self._card(rule, profile, variant)
        return found

    def _card(self, rule: str, profile: str, variant: str | None) -> CardWording:
        if rule not in self.cards:
            raise RenderError(f"no card wording for rule {rule!r}: expected cards/{rule}.toml")
        raw = self.cards[rule]
        merged = {**raw, **raw.get(profile.lower(), {})}
        if variant is not None:
            table = raw.get("variants", {}).get(variant) or self.table("variants", profile).get(
                variant
            )
            if table is None:
                raise RenderError(f"cards/{rule}.toml: no [variants.{variant}] table, no default")
            merged.update({k: v for k, v in table.items() if k not in PROFILE_TABLES})
            merged.update(table.get(profile.lower(), {}))
        labels = self.table("labels", profile)
        reasons = merged.get("override_reasons") or self.defaults["override_reasons"]
        source = merged.get("source")
        return CardWording(
            rule=rule,
            file=f"cards/{rule}.toml",
            profile=profile,
            summary=merged["summary"],
            detail=merged["detail"],
            **{key: merged.get(key, labels[key]) for key in LABEL_KEYS},
            # A card file's own source is the card's choice: no profile ordering applies.
            source=Source(source["label"], source["url"], Region.INTL) if source else None,
            override_reasons=tuple(OverrideReason(r["code"], r["display"]) for r in reasons),
            safety_said=frozenset(merged.get("safety_said", ())),
        )

    def composed(self, key: tuple[object, ...], compose: Callable[[], str]) -> str:
        """``compose()``, once per ``key``: for text the renderer composes from this wording
        and the code's own tables alone, no patient's value in it, ``key`` being all that
        decides it (a few per rule, so the store stays small)."""
        found = self._composed.get(key)
        if found is None:
            found = self._composed[key] = compose()
        return found

    def table(self, name: str, profile: str) -> Mapping[str, Any]:
        """A ``_defaults.toml`` table with its ``[uk.<name>]``/``[us.<name>]`` overrides."""
        found = self._tables.get((name, profile))
        if found is None:
            merged = {**self.defaults[name], **self.defaults.get(profile.lower(), {}).get(name, {})}
            found = self._tables[(name, profile)] = MappingProxyType(merged)
        return found

    def text(self, table: str, key: str, profile: str, values: Mapping[str, object]) -> Markup:
        """Fill one template from ``_defaults.toml`` (a section or action text)."""
        found = self._texts.get((table, key, profile))
        if found is None:
            template = self.table(table, profile)[key]
            where = f"cards/{DEFAULTS_FILE} {table}.{key}"
            found = self._texts[(table, key, profile)] = compiled(template, where)
        return found.fill(values)

    def lab_name(self, test: str, profile: str, *, short: bool = False) -> Markup:
        """Clinician-facing test name, falling back to the LOINC display; ``short``: the
        name a card's detail lists it by ([lab_short_names], else the order's name)."""
        name = (short and self.table("lab_short_names", profile).get(test)) or self.table(
            "lab_names", profile
        ).get(test)
        if name:
            return Markup(name)
        if test not in ORDERABLE_LABS:
            raise RenderError(f"lab test {test!r} is not in codes.ORDERABLE_LABS")
        return Markup(ORDERABLE_LABS[test][1])

    def lab_note(self, note: LabNote, profile: str, values: Mapping[str, object]) -> Markup:
        """Words for why a test is due (``LabOrder.note``); every LabNote has some, and
        ``values`` fills the profile numbers they quote ("48 hours", "week 8")."""
        return self.text("lab_notes", note.value, profile, values)

    def name(self, table: str, member: Enum, profile: str) -> Markup:
        """The words for an enum member in one of the NAME_TABLES."""
        return Markup(self.table(table, profile)[member.name])

    def safety_text(self, sid: str, profile: str, values: Mapping[str, object]) -> Markup:
        """The qualifier sentence for safety rule ``sid`` (cards/safety.toml)."""
        found = self._texts.get((SAFETY_FILE, sid, profile))
        if found is None:
            text = self.safety.get(profile.lower(), {}).get(sid) or self.safety.get(sid)
            if not text:
                raise RenderError(f"no wording for safety rule {sid!r} in cards/{SAFETY_FILE}")
            where = f"cards/{SAFETY_FILE} {sid}"
            found = self._texts[(SAFETY_FILE, sid, profile)] = compiled(text, where)
        return found.fill(values)


def fill(
    template: str, values: Mapping[str, object], where: str, *, sentences: bool = False
) -> Markup:
    """``template`` with each ``{name}`` replaced; unknown names raise ``RenderError``.

    With ``sentences`` (a card's own text), a value that starts a sentence starts
    with a capital: "{surgery} is recorded" reads "Gastric bypass surgery is recorded".

    Every value is escaped (``escape.escape``) unless it is ``Markup`` the renderer
    made from templates, so a FHIR string can never add markup to a card. Braces
    inside values become parentheses, so no brace ever reaches a card.
    """
    return compiled(template, where).fill(values, sentences)


def as_value(value: object) -> Markup:
    """A placeholder's value as ``fill`` puts it on a card: the renderer's own ``Markup``
    as it is; anything else (FHIR text) escaped, its braces made parentheses."""
    if isinstance(value, Markup):
        return value
    return escape(str(value).replace("{", "(").replace("}", ")"))


@dataclass(frozen=True, slots=True)
class Template:
    """A template worked out once (``compiled``): ``cards/`` does not change while the
    service runs, and a card fills some twenty. Each part is a literal, then the
    placeholder after it (None after the last) and whether that placeholder starts a
    sentence, where the literal alone decides (``sentence_start``)."""

    where: str
    names: tuple[str, ...]
    parts: tuple[tuple[str, str | None, bool | None], ...]
    constant: Markup | None  # the text of a template without placeholders, ready

    def fill(self, values: Mapping[str, object], sentences: bool = False) -> Markup:
        """``fill`` of this template."""
        if self.constant is not None:
            return self.constant
        out: list[str] = []
        try:
            for literal, field, starts in self.parts:
                out.append(literal)
                if field is None:
                    continue
                value = values[field]
                if type(value) is not Markup:
                    value = as_value(value)
                if sentences and (_SENTENCE_END.search("".join(out)) if starts is None else starts):
                    value = Markup(value[:1].upper() + value[1:])  # "Gastric bypass surgery ..."
                out.append(value)
        except KeyError:
            missing = [name for name in self.names if name not in values]
            if not missing:
                raise
            known = ", ".join(sorted(values))
            raise RenderError(
                f"{self.where}: unknown placeholder {{{missing[0]}}} (available: {known})"
            ) from None
        return Markup("".join(out))


def compiled(template: str, where: str) -> Template:
    """``template`` worked out, its placeholders checked (``wording_checks.placeholders``)."""
    names = tuple(placeholders(template, where))
    parts = tuple(
        (literal, field, sentence_start(literal))
        for literal, field, _, _ in _FORMATTER.parse(template)
    )
    fixed = all(field is None for _, field, _ in parts)
    constant = Markup("".join(literal for literal, _, _ in parts)) if fixed else None
    return Template(where, names, parts, constant)


def sentence_start(literal: str) -> bool | None:
    """Whether ``_SENTENCE_END`` finds a match at the end of any text ending in ``literal``;
    None when the text before the literal can change that.

    A match ends in spaces and asterisks only, after ". ", "\n- " or "\n\n"; so once the
    literal holds a character before its trailing spaces and asterisks, the match (or its
    absence) lies wholly inside the literal, unless that character is a lone "-", whose
    "\n" would come before it (": **{days}**" is decided: no search on each fill)."""
    end = len(literal)
    while end and (literal[end - 1].isspace() or literal[end - 1] == "*"):
        end -= 1
    if end == 0 or (end == 1 and literal[0] == "-"):
        return None
    return bool(_SENTENCE_END.search(literal))


def load_card_library(cards_dir: Path | None = None) -> CardLibrary:
    """Load and check the wording in ``cards_dir``.

    Default: ``$CDS_B12_CARDS_DIR`` if set, else the bundled ``cards/``;
    the default is cached per directory because wording does not change while
    the service runs. An explicit ``cards_dir`` is always read afresh.
    """
    if cards_dir is not None:
        return _load(Path(cards_dir))
    env = os.environ.get(CARDS_DIR_ENV)
    return _load_cached(Path(env).resolve() if env else DEFAULT_CARDS_DIR)


@functools.cache
def _load_cached(root: Path) -> CardLibrary:
    return _load(root)


def _load(root: Path) -> CardLibrary:
    if not root.is_dir():
        raise RenderError(f"card wording directory not found: {root}")
    cards = {}
    for path in sorted(root.glob("*.toml")):
        if path.name in (DEFAULTS_FILE, SAFETY_FILE):
            continue
        raw = _read(path)
        check_card(raw, path)
        cards[path.stem] = MappingProxyType(raw)
    defaults = _read(root / DEFAULTS_FILE)
    check_defaults(defaults, f"cards/{DEFAULTS_FILE}")
    safety = _read(root / SAFETY_FILE)
    check_safety(safety, f"cards/{SAFETY_FILE}")
    return CardLibrary(
        root, MappingProxyType(cards), MappingProxyType(defaults), MappingProxyType(safety)
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise RenderError(f"missing wording file: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RenderError(f"{path}: not valid TOML ({exc})") from exc
