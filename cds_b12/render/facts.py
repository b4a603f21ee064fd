"""Render layer: the typed facts of a Recommendation, worded from ``cards/_defaults.toml``.

Imports only the standard library and ``cds_b12.clinical``. The core passes
dates, counts, lab results and small records (``clinical.facts``); this module
turns each into the words a card quotes, using the [facts], [finding_names],
[product_names], [cause_names], [analyte_names], [route_words] and [absent]
tables (each with its ``[uk.*]``/``[us.*]`` overrides). A fact of a type it does
not know, or plain text, raises ``RenderError``: the core must not send prose.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from enum import Enum
from types import MappingProxyType

from cds_b12.clinical.facts import (
    AdultLimit,
    Agents,
    BeforeUnreadable,
    CauseFact,
    Confoundings,
    DailyDose,
    DietCorrected,
    Fact,
    Findings,
    Interval,
    LabTrend,
    LastDose,
    Latest,
    Markers,
    NoneReadable,
    OnFile,
    Ordered,
    Stopped,
    Trends,
    Unreadables,
    Years,
)
from cds_b12.clinical.markers import Confounded
from cds_b12.clinical.record import (
    DAYS_PER_UNIT,
    DataNote,
    IgnoredResult,
    Lab,
    LabKind,
    Medication,
    Note,
    Route,
    UndecidedResult,
    UnreadableResult,
)

from .errors import RenderError
from .escape import Markup
from .placeholders import NAME_TABLES
from .schedule import number
from .wording import CardLibrary

_WEEK = DAYS_PER_UNIT["wk"]
_COMPARATOR_SIGNS = {"<": "<", "<=": "≤", ">=": "≥", ">": ">"}
_MONTH = DAYS_PER_UNIT["mo"]
_YEAR = DAYS_PER_UNIT["a"]
# the table naming each enum, found once rather than by a search for every fact
_TABLE_OF: dict[type, str] = {e: t for t, e in reversed(list(NAME_TABLES.items()))}


def _kind(marker: Lab | OnFile | BeforeUnreadable | Unreadables) -> LabKind:
    """The analyte a marker quotes: its result's, or the first that could not be read."""
    if isinstance(marker, Unreadables):
        return marker.items[0].kind
    return (marker if isinstance(marker, Lab) else marker.lab).kind


def _round(value: float) -> float:
    """A converted value to the precision a lab reports: 257.45 -> 257, 0.5534 -> 0.553."""
    if abs(value) >= 100:
        return float(round(value))
    return float(f"{value:.3g}")


class FactWords:
    """Words for the facts of one profile's cards."""

    def __init__(self, library: CardLibrary, profile: str) -> None:
        self.library = library
        self.profile = profile

    def _phrase(self, key: str, **values: object) -> str:
        return self.library.text("facts", key, self.profile, values)

    def _name(self, member: Enum) -> Markup:
        table = _TABLE_OF.get(type(member)) or next(
            t for t, enum in NAME_TABLES.items() if isinstance(member, enum)
        )
        return self.library.name(table, member, self.profile)

    def _name_in(self, table: str, member: Enum) -> Markup:
        return self.library.name(table, member, self.profile)

    def word(self, name: str, value: Fact) -> str:
        """The words for fact ``name``; ``None`` or an empty list reads as [absent].<name>."""
        if value is None or (isinstance(value, Findings | Trends) and not value.items):
            absent = self.library.table("absent", self.profile).get(name)
            if absent is None:
                raise RenderError(f"fact {name!r} is not on file and [absent] has no {name!r}")
            return Markup(absent)
        if isinstance(value, Enum):
            return self._name(value)
        if isinstance(value, str | bool):
            raise RenderError(f"fact {name!r} is {type(value).__name__}: pass a typed fact")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, int | float):
            return number(value)
        if isinstance(value, Lab):
            return self.lab(value)
        if isinstance(value, Findings):
            return self.findings(value)
        if isinstance(value, CauseFact):
            if value.findings.items:
                return self.findings(value.findings)
            return self._name(value.cause)
        if isinstance(value, LastDose):
            return self._phrase("last_dose", date=value.on.isoformat(), days=value.days_ago)
        if isinstance(value, Interval):
            if value.max_days is not None and value.max_days != value.days:
                return self.interval_range(value.days, value.max_days)
            return self.interval(value.days)
        if isinstance(value, Trends):
            sep = self._phrase("trend_separator")
            return Markup.joined(sep, (self.trend(t) for t in value.items))
        if isinstance(value, Stopped):
            product = self._name(value.product)
            return self._phrase("stopped", product=product, date=value.on.isoformat())
        if isinstance(value, DietCorrected):
            return self._phrase("diet_corrected", date=value.on.isoformat())
        if isinstance(value, Years):
            return f"{value.days / _YEAR:.1f}".rstrip("0").rstrip(".")
        if isinstance(value, DailyDose):
            return self._phrase("daily_dose", mg=number(value.mg))
        if isinstance(value, Agents):
            names = [self._name(p) for p in value.products]
            if value.nitrous_oxide:
                names.append(self._phrase("nitrous_oxide"))
            return Markup.joined(self._phrase("and_separator"), names)
        if isinstance(value, Medication):
            return self.medication(value)
        if isinstance(value, OnFile):
            return self._phrase(
                f"on_file_{value.why.value.lower()}",
                lab=self.lab(value.lab),
                span=self.span(value.limit_days),
                days=value.limit_days,
            )
        if isinstance(value, Ordered):
            key = "ordered_draft" if value.draft else "ordered_current"
            return self._phrase(key, medication=self.medication(value.medication))
        if isinstance(value, Markers):  # none on file: nothing said (see Markers)
            return Markup.joined(
                "",
                (
                    self._phrase(
                        "marker",
                        analyte=self._name(_kind(m)),
                        result=self.word(name, m),
                    )
                    for m in value.items
                ),
            )
        if isinstance(value, Confoundings):
            return Markup.joined(
                self._phrase("list_separator"), map(self.confounded, value.items, value.results)
            )
        if isinstance(value, BeforeUnreadable):
            return self._phrase(
                "before_unreadable",
                lab=self.lab(value.lab),
                unreadable=self.word(name, value.unread),
            )
        if isinstance(value, Latest):  # None: said with the B12 before the first dose
            if value.result is None:
                return Markup("")
            return self._phrase("latest", result=self.word(name, value.result))
        if isinstance(value, AdultLimit):
            unit = self.unit(value.lab.kind)
            return self._phrase(
                "adult_limit", lab=self.lab(value.lab), below=number(value.below), unit=unit
            )
        if isinstance(value, NoneReadable):  # R25 lists them: said once, there
            return self._phrase("none_readable")
        if isinstance(value, Unreadables):
            return Markup.joined(
                self._phrase("list_separator"), (self.unreadable(u) for u in value.items)
            )
        raise RenderError(f"fact {name!r}: no wording for {type(value).__name__}")

    def unreadable(self, u: UnreadableResult) -> str:
        """R25 and the data-quality note: "Hb of 2026-11-30: no unit given"; an implausible
        one quotes the value as the lab reported it ("75 g/dL is outside ...")."""
        analyte, on = self._name(u.kind), u.on.isoformat()
        if u.lab is None:
            return self._phrase(
                "unreadable_result", analyte=analyte, date=on, reason=self._name(u.reason)
            )
        value, unit = self._as_reported(u.lab)
        return self._phrase("implausible_result", analyte=analyte, date=on, value=value, unit=unit)

    def _as_reported(self, lab: Lab) -> tuple[str, str]:
        """The value and unit as the lab sent them, else as the rules hold them."""
        sign = _COMPARATOR_SIGNS.get(lab.comparator or "", "")
        if lab.reported is None:
            return sign + number(_round(lab.value)), self.unit(lab.kind)
        return sign + number(lab.reported.value), lab.reported.unit

    def lab(self, lab: Lab) -> str:
        """A result as the lab reported it, with its unit; the value in the profile's unit
        beside it only when it is a different number ("190 pmol/L (257 ng/L)")."""
        value, unit = self._as_reported(lab)
        on = lab.on.isoformat()
        if lab.reported is None:
            return self._phrase("lab", value=value, unit=unit, date=on)
        shown = _COMPARATOR_SIGNS.get(lab.comparator or "", "") + number(_round(lab.value))
        if value == shown:
            return self._phrase("lab", value=value, unit=unit, date=on)
        return self._phrase(
            "lab_converted",
            value=value,
            unit=unit,
            converted_value=shown,
            converted_unit=self.unit(lab.kind),
            date=on,
        )

    def confounded(self, c: Confounded, result: Lab | BeforeUnreadable | None) -> str:
        """R24: "A raised MMA (0.62 µmol/L on ...) with reduced kidney function: 34 ..."
        (``result``: the eGFR or folate, as ``Confoundings.results`` quotes it)."""
        shown = [self.word("confounded", result)] if result is not None else []
        if c.findings:
            shown.append(self.findings(Findings.of(c.findings)))
        return self._phrase(
            f"confounded_{c.confounder.value.lower()}",
            analyte=self._name(c.marker.kind),
            marker=self.lab(c.marker),
            evidence=Markup.joined(self._phrase("list_separator"), shown),
        )

    def unit(self, kind: LabKind) -> Markup:
        """The profile's words for the unit the rules hold ``kind`` in (US B12: pg/mL)."""
        return self._name_in("unit_names", kind)

    def findings(self, findings: Findings) -> str:
        """Oldest first; findings of the same date by name, so the order never depends on
        the order the EHR sent them in."""
        named = sorted(
            ((item.on, self._name(item.finding)) for item in findings.items),
            key=lambda pair: (pair[0] or date.max, pair[1]),
        )
        return Markup.joined(
            self._phrase("list_separator"),
            (
                self._phrase("finding_since", name=n, date=on.isoformat())
                if on
                else self._phrase("finding", name=n)
                for on, n in named
            ),
        )

    def interval(self, days: float) -> str:
        months = days / _MONTH
        if days >= 4 * _WEEK and round(months, 1) == int(months):
            count = int(months)
            return (
                self._phrase("interval_month")
                if count == 1
                else self._phrase("interval_months", count=count)
            )
        if days % _WEEK == 0:
            count = int(days // _WEEK)
            return (
                self._phrase("interval_week")
                if count == 1
                else self._phrase("interval_weeks", count=count)
            )
        return self._phrase("interval_days", count=number(days))

    def span(self, days: int) -> str:
        """A length of time: "3 months", "12 months", "2 weeks", "10 days"."""
        months = days / _MONTH
        if days >= 4 * _WEEK and abs(months - round(months)) < 0.2:  # 365 days: 12 months
            count = round(months)
            return self._phrase("span_month" if count == 1 else "span_months", count=count)
        if days % _WEEK == 0:
            count = days // _WEEK
            return self._phrase("span_week" if count == 1 else "span_weeks", count=count)
        return self._phrase("span_days", count=days)

    def steps(self, days: Iterable[float]) -> str:
        """Maintenance intervals, one step after another: "3-monthly, 2-monthly, monthly"."""
        return Markup.joined(self._phrase("list_separator"), map(self._step, days))

    def _step(self, days: float) -> str:
        months = round(days / _MONTH)
        if months >= 1 and abs(days / _MONTH - months) < 0.2:
            return self._phrase("step_month" if months == 1 else "step_months", count=months)
        return self.interval(days)

    def span_range(self, days: int, max_days: int) -> str:
        """A range of time as ``span`` words its end: "3–6 months", "2–4 weeks"."""
        for size, key in ((_MONTH, "span_months"), (_WEEK, "span_weeks")):
            low, high = round(days / size, 1), round(max_days / size, 1)
            if low >= 1 and low.is_integer() and high.is_integer():
                return self._phrase(key, count=f"{int(low)}–{int(high)}")
        return self._phrase("span_days", count=f"{days}–{max_days}")

    def interval_range(self, days: float, max_days: float) -> str:
        """A range as the order states it (period to periodMax): "every 2–3 weeks"."""
        for size, key in ((_MONTH, "interval_months"), (_WEEK, "interval_weeks")):
            low, high = days / size, max_days / size
            if low >= 1 and low.is_integer() and high.is_integer():
                return self._phrase(key, count=f"{int(low)}–{int(high)}")
        return self._phrase("interval_days", count=f"{number(days)}–{number(max_days)}")

    def trend(self, t: LabTrend) -> str:
        """R14: the two results as the lab reported them; in the profile's unit when the lab
        reported them in two units, so the numbers compare."""
        (start, unit), (end, end_unit) = self._as_reported(t.start), self._as_reported(t.end)
        if unit != end_unit:
            start, end = number(_round(t.start.value)), number(_round(t.end.value))
            unit = self.unit(t.kind)
        return self._phrase(
            f"trend_{t.direction.value.lower()}",
            analyte=self._name(t.kind),
            start=start,
            end=end,
            unit=unit,
            since=t.start.on.isoformat(),
            until=t.end.on.isoformat(),
        )

    def medication(self, m: Medication) -> str:
        """e.g. "cyanocobalamin 1 mg IM", quoting an order back to the prescriber."""
        parts = [m.ingredient or self._name(m.product)]
        if m.dose_mg is not None:
            parts.append(self._phrase("dose_mg", dose=number(m.dose_mg)))
        if m.route is not Route.UNKNOWN:
            parts.append(self._name(m.route))
        return Markup.joined(" ", parts)

    def note(self, note: Note) -> tuple[str, str]:
        """``(resource, message)`` of a data-quality note; FHIR text in either stays plain
        text, for ``fill`` to escape."""
        if isinstance(note, IgnoredResult):
            return note.resource, self._phrase(
                "ignored_result", date=note.on.isoformat(), days=note.within_days
            )
        if isinstance(note, UndecidedResult):
            return note.resource, self._phrase(
                "undecided_result", analyte=self._name(note.kind), date=note.on.isoformat()
            )
        if isinstance(note, DataNote):
            return note.resource, note.message
        if isinstance(note, UnreadableResult):  # the assessment's own: IMPLAUSIBLE
            return note.resource, self.unreadable(note)
        raise RenderError(f"no wording for a note of type {type(note).__name__}")


class FactValues(Mapping[str, object]):
    """A card's placeholders: ``extra`` as given, each fact worded when a template uses it
    (a fact no template of this card quotes is never worded), then the ``shared`` ones
    every card may quote (the profile's values, ``thresholds.ProfileValues``)."""

    def __init__(
        self,
        facts: Mapping[str, Fact],
        words: FactWords,
        extra: Mapping[str, object],
        shared: Mapping[str, object] = MappingProxyType({}),
    ):
        self._facts = facts
        self._words = words
        self._extra = extra
        self._shared = shared

    def __getitem__(self, key: str) -> object:
        if key in self._extra:
            return self._extra[key]
        if key in self._facts:
            return self._words.word(key, self._facts[key])
        return self._shared[key]

    def __contains__(self, key: object) -> bool:
        return key in self._extra or key in self._facts or key in self._shared

    def __iter__(self) -> Iterator[str]:
        return iter({**self._shared, **self._facts, **self._extra})

    def __len__(self) -> int:
        return len({**self._shared, **self._facts, **self._extra})
