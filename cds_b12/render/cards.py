"""Render layer: Recommendation → CDS Hooks 2.0 card JSON, with FHIR resources as suggestions.

Imports only the standard library and ``cds_b12.clinical`` (never flask or
requests): the API layer serialises what this returns. Every sentence comes
from ``cards/`` (see ``wording.py``) except the schedule phrasing, which is
built from the regimen's numbers (``schedule.py``). Output follows the CDS
Hooks 2.0 card rules (spec §card, §suggestion, §action): summary under 140
characters, a source label, override reasons with a display, suggestions only
with ``selectionBehavior``, lower-case action types, and no null or empty value
anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import cast

from cds_b12.clinical.codes import OVERRIDE_REASON_SYSTEM
from cds_b12.clinical.profiles import Profile
from cds_b12.clinical.recommendation import Indicator, LabNote, LabOrder, Recommendation
from cds_b12.clinical.record import Note
from cds_b12.clinical.regimens import Regimen
from cds_b12.clinical.safety import SAFETY_SOURCES, safety_sources
from cds_b12.clinical.sources import SOURCES, Source

from .clean import prune
from .data_quality import DataQuality, in_priority
from .errors import RenderError
from .escape import Markup
from .facts import FactValues, FactWords
from .ids import new_id as random_id
from .resources import order_words
from .schedule import regimen_name, schedule_text
from .suggestions import Suggester, for_life
from .thresholds import ProfileValues
from .wording import CardLibrary, CardWording, load_card_library

SUMMARY_MAX_CHARS = 139  # CDS Hooks 2.0: "<140 characters"
SELECTION_BEHAVIOR = "at-most-one"  # the suggestions on a card are alternatives


def render_cards(
    recs: Sequence[Recommendation],
    *,
    profile: Profile,
    as_of: date,
    patient_id: str | None,
    notes: Sequence[Note] = (),
    drafts: Mapping[str, dict] | None = None,
    orders: Mapping[str, dict] | None = None,
    library: CardLibrary | None = None,
    new_id: Callable[[], str] = random_id,
    suggestions: bool = True,
) -> list[dict]:
    """One CDS Hooks card per recommendation, in the order given.

    ``drafts`` maps "MedicationRequest/x" / "ServiceRequest/y" to the draft
    orders of an order-select/order-sign request, so a suggestion can update
    or delete them; ``orders`` maps "MedicationRequest/x" to current orders as
    received, so a suggestion that replaces one can end it (``Recommendation.replaces``).
    ``notes`` (data-quality notes) are shown on every card, those the decisions rest on
    first (``data_quality.in_priority``). ``suggestions=False`` leaves
    the suggestions out and nothing else (recall's worklist shows none; building them is
    about a sixth of a typical patient's reading, assessing and rendering).
    Raises ``RenderError`` for wording or data the renderer cannot honour.
    """
    renderer = _Renderer(
        profile=profile,
        as_of=as_of,
        patient_id=patient_id,
        notes=in_priority(notes),
        drafts=dict(drafts or {}),
        orders=dict(orders or {}),
        library=library or load_card_library(),
        new_id=new_id,
        suggest=suggestions,
    )
    return [renderer.card(rec) for rec in recs]


def note_lines(
    notes: Sequence[Note], *, profile: Profile, library: CardLibrary | None = None
) -> list[tuple[str, str]]:
    """``(resource, message)`` of each data-quality note, worded and ordered as the cards
    word and list them."""
    words = FactWords(library or load_card_library(), profile.name)
    return [words.note(note) for note in in_priority(notes)]


def fit_summary(summary: str) -> str:
    """``summary`` cut at a word to the spec limit; the wording tests keep this a no-op."""
    summary = " ".join(summary.split())
    if not summary:
        raise RenderError("card summary is empty")
    if len(summary) <= SUMMARY_MAX_CHARS:
        return summary
    cut = summary[: SUMMARY_MAX_CHARS - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _facts_first(detail: str) -> tuple[str, str]:
    """A card's own detail split after its list of the patient's facts (its first bullet
    list, else its first paragraph): the plan goes there, before the advice (issue 11 §4)."""
    paragraphs = detail.split("\n\n")
    cut = next((i + 1 for i, p in enumerate(paragraphs) if p.startswith("- ")), 1)
    return "\n\n".join(paragraphs[:cut]), "\n\n".join(paragraphs[cut:])


def _same_window(labs: Iterable[LabOrder]) -> list[list[LabOrder]]:
    """Labs grouped by (window, note) in first-seen order, so baseline tests read as one line."""
    groups: dict[tuple[object, ...], list[LabOrder]] = {}
    for lab in labs:
        groups.setdefault((lab.due_from, lab.due_to, lab.note), []).append(lab)
    return list(groups.values())


class _Renderer:
    """The per-request context every card shares, and the helpers built on it: built with
    it rather than on first use, as ``functools.cached_property`` takes a lock for each (the
    four of them and a frozen dataclass's ``__init__`` were some 4% of a typical card)."""

    __slots__ = (
        "as_of",
        "data_quality",
        "library",
        "new_id",
        "profile",
        "profile_values",
        "suggest",
        "suggester",
        "words",
    )

    def __init__(
        self,
        *,
        profile: Profile,
        as_of: date,
        patient_id: str | None,
        notes: tuple[Note, ...],
        drafts: Mapping[str, dict],
        orders: Mapping[str, dict],
        library: CardLibrary,
        new_id: Callable[[], str],
        suggest: bool = True,
    ) -> None:
        self.profile = profile
        self.as_of = as_of
        self.library = library
        self.new_id = new_id
        self.suggest = suggest
        self.words = FactWords(library, profile.name)
        self.profile_values = ProfileValues(profile, self.words)
        self.data_quality = DataQuality(notes, self.words, library, profile.name)
        self.suggester = Suggester(
            profile,
            as_of,
            patient_id,
            drafts,
            orders,
            library,
            new_id,
            self._lab_window,
            self._lab_note,
        )

    def card(self, rec: Recommendation) -> dict:
        wording = base = self.library.card(rec.rule, self.profile.name)
        values = self._values(rec)
        if rec.variant is not None:
            # A variant's summary may quote the card's own: "Leber's disease recorded: {summary}"
            wording = self.library.card(rec.rule, self.profile.name, rec.variant)
            values = self._values(rec, summary=base.fill("summary", values, sentences=False))
        summary = wording.fill("summary", values)
        card: dict = {
            "uuid": self.new_id(),
            "summary": fit_summary(summary),
            "indicator": Indicator(rec.indicator).value,
            "detail": self._detail(rec, wording, values),
            "source": self._card_source(rec, wording),
        }

        def label(key: str) -> str:
            return wording.fill(key, values)

        suggestions = self.suggester.suggestions(rec, label) if self.suggest else []
        if suggestions:
            card["suggestions"] = suggestions
            card["selectionBehavior"] = SELECTION_BEHAVIOR
        card["overrideReasons"] = [
            {"system": OVERRIDE_REASON_SYSTEM, "code": r.code, "display": r.display}
            for r in wording.override_reasons
        ]
        return cast(dict, prune(card))

    # -- wording -----------------------------------------------------------

    def _values(self, rec: Recommendation, **more: Markup) -> FactValues:
        """Placeholders: the rule's facts, worded on use, plus the automatic ones
        (see cards/README.md)."""
        # The catalogue's words and the profile's name are the service's own: no escaping.
        extra = {"profile": Markup(self.profile.name), **more}
        if rec.regimen is not None:
            extra["regimen"] = Markup(regimen_name(rec.regimen))
            extra["schedule"] = Markup(self._schedule(rec, rec.regimen))
        if rec.alternative is not None:
            extra["alternative"] = Markup(regimen_name(rec.alternative))
        return FactValues(rec.facts, self.words, extra, self.profile_values)

    def _schedule(self, rec: Recommendation, regimen: Regimen) -> str:
        return schedule_text(regimen, for_life=for_life(rec))

    def _section(self, key: str, **values: object) -> str:
        return self.library.text("sections", key, self.profile.name, values)

    def _detail(self, rec: Recommendation, wording: CardWording, values: FactValues) -> str:
        text = wording.fill("detail", values).strip()
        head, tail = _facts_first(text)
        blocks = [head]
        if rec.regimen is not None:
            # §7.7: a step below the labelled interval is an option, never the plan
            plan = "plan_judged" if rec.judged else "plan"
            blocks.append(self._section(plan, schedule=values["schedule"]))  # see _values
            blocks.append(self._order_change(rec))
        if rec.alternative is not None:
            schedule = Markup(self._schedule(rec, rec.alternative))
            blocks.append(self._section("alternative", schedule=schedule))
        if rec.labs:
            items = Markup.joined("; ", (self._lab_item(g) for g in _same_window(rec.labs)))
            blocks.append(self._section("labs", labs=items))
        blocks.append(tail)
        shown = [sid for sid in _unique(rec.safety) if sid not in wording.safety_said]
        if shown:
            lines = [self.library.safety_text(sid, self.profile.name, values) for sid in shown]
            blocks.append(self._list(self._section("safety"), lines))
        notes = self.data_quality.lines(text)
        if notes:
            blocks.append(self._list(self._section("data_quality"), notes))
        p = self.profile
        key = ("sources", rec.rule, rec.variant, p.name, p.citation_region, rec.sources, *shown)
        blocks.append(self.library.composed(key, lambda: self._sources(rec, wording, shown)))
        return "\n\n".join(block for block in blocks if block)

    def _sources(self, rec: Recommendation, wording: CardWording, shown: Sequence[str]) -> str:
        """The "Sources:" line: the rule's sources, then those of the safety lines shown;
        each source once: not the card's own source link, and a page several source IDs
        cite (UK-1 and UK-2 are both the BNF) only once. No patient's value decides it, so
        the library keeps it (``CardLibrary.composed``)."""
        card_source = self._card_source(rec, wording)
        cited = [*rec.sources, *(s for sid in shown for s in self._safety_sources(rec, sid))]
        sources = dict.fromkeys(self._source(rec, sid) for sid in cited)
        links = [
            self._section("source_link", label=Markup(s.label), url=Markup(s.url))
            for s in sources
            if (s.label, s.url) != (card_source["label"], card_source["url"])
        ]
        return self._section("sources", sources=Markup.joined("; ", links)) if links else ""

    def _order_change(self, rec: Recommendation) -> str:
        """Which order accepting the plan changes: the draft it updates, the current order it
        ends, or the card that orders it (one order per plan)."""
        if rec.plan_on and rec.plan_on == rec.draft_id:
            draft = self.suggester.draft(rec, "MedicationRequest")
            return self._section("plan_drafted", order=order_words(draft) if draft else "")
        if rec.plan_on:
            return self._section("plan_on")
        draft = self.suggester.draft(rec, "MedicationRequest")
        if draft is not None:
            return self._section("changes_draft", draft=rec.draft_id, order=order_words(draft))
        current = self.suggester.replaced(rec)
        if current is not None:
            return self._section("ends_order", order=order_words(current), draft=rec.replaces)
        return ""

    @staticmethod
    def _list(heading: str, items: Sequence[str]) -> str:
        """A GitHub-Markdown bullet list under a heading line."""
        return heading + "\n\n" + "\n".join(f"- {item}" for item in items)

    def _lab_window(self, lab: LabOrder) -> str:
        if lab.due_to is None and lab.due_from == self.as_of:
            return self._section("lab_today")
        if lab.due_to is None:
            return self._section("lab_date", date=lab.due_from.isoformat())
        return self._section(
            "lab_window", start=lab.due_from.isoformat(), end=lab.due_to.isoformat()
        )

    def _lab_item(self, group: Sequence[LabOrder]) -> str:
        """Tests due in the same window for the same reason, as one item; a test due "now"
        is due today, and the window already says so ("FBC today", not "FBC today (now)")."""
        lab = group[0]
        name = Markup.joined(
            ", ", (self.library.lab_name(g.test, self.profile.name, short=True) for g in group)
        )
        window = self._lab_window(lab)
        if lab.note and lab.note is not LabNote.NOW:
            note = self._lab_note(lab.note)
            return self._section("lab_item_note", lab=name, window=window, note=note)
        return self._section("lab_item", lab=name, window=window)

    def _lab_note(self, note: LabNote) -> Markup:
        return self.library.lab_note(note, self.profile.name, self.profile_values)

    def _source(self, rec: Recommendation, sid: str) -> Source:
        if sid not in SOURCES:
            raise RenderError(f"{rec.rule}: unknown source ID {sid!r} (not in sources.SOURCES)")
        return SOURCES[sid]

    def _safety_sources(self, rec: Recommendation, sid: str) -> tuple[str, ...]:
        if sid not in SAFETY_SOURCES:
            raise RenderError(f"{rec.rule}: safety rule {sid!r} has no SAFETY_SOURCES entry")
        return safety_sources(sid, self.profile.citation_region)

    def _card_source(self, rec: Recommendation, wording: CardWording) -> dict:
        source = wording.source
        if source is None:
            if not rec.sources:
                raise RenderError(f"{rec.rule}: no source IDs and no [source] in {wording.file}")
            source = self._source(rec, rec.sources[0])
        return {"label": source.label, "url": source.url}
