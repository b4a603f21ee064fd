"""Render layer: mechanical schedule phrasing built from a Regimen's numbers.

Imports only the standard library and ``cds_b12.clinical``. This is the one place
where English is assembled in Python: the phrases are derived from the same
numbers that go into ``Dosage.timing.repeat``, so what the clinician reads cannot
drift from what the order encodes. Doses are written "micrograms", never
"mcg" or "ug" (a classic tenfold/thousandfold misreading).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from cds_b12.clinical.record import Route
from cds_b12.clinical.regimens import CATALOGUE, Regimen, Step, Until, follow_on

_UNIT_WORDS: dict[str, tuple[str, str]] = {
    "h": ("hour", "hours"),
    "d": ("day", "days"),
    "wk": ("week", "weeks"),
    "mo": ("month", "months"),
    "a": ("year", "years"),
}
_EVERY_ONE = {"h": "hourly", "d": "daily", "wk": "weekly", "mo": "monthly", "a": "yearly"}
_TIMES = {2: "twice", 3: "three times", 4: "four times"}
_ROUTE_WORDS = {Route.IM: "IM", Route.SC: "SC", Route.ORAL: "by mouth", Route.NASAL: "nasally"}
_DOSE_UNITS = {"ug": ("microgram", "micrograms"), "mg": ("mg", "mg"), "g": ("g", "g")}
_UNTIL = {Until.NO_FURTHER_IMPROVEMENT: "until no further improvement"}


def number(value: float) -> str:
    """A number as a clinician writes it: 2 not 2.0, 0.5 stays 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _unit(code: str, value: float) -> str:
    singular, plural = _UNIT_WORDS.get(code, (code, code))
    return singular if value == 1 else plural


def dose_text(regimen: Regimen) -> str:
    """The dose, e.g. "1 mg" or "1000 micrograms"."""
    return _dose_words(regimen.dose, regimen.dose_unit)


@lru_cache(maxsize=64)
def _dose_words(dose: float, unit: str) -> str:
    """``dose_text`` worked out once per dose: a card names its regimen some five times
    (label, schedule, order, dosage text), and the doses in use are a handful. Equal
    numbers read the same (``number``), so 1 and 1.0 may share an entry."""
    singular, plural = _DOSE_UNITS.get(unit, (unit, unit))
    return f"{number(dose)} {singular if dose == 1 else plural}"


def regimen_name(regimen: Regimen) -> str:
    """Short name used in labels, e.g. "hydroxocobalamin 1 mg IM"."""
    route = _ROUTE_WORDS.get(regimen.route)
    parts = [regimen.drug.ingredient, dose_text(regimen)] + ([route] if route else [])
    return " ".join(parts)


def frequency_text(step: Step) -> str:
    """How often, e.g. "three times a week", "every other day", "every 2–3 months"."""
    f, p, pmax, u = step.frequency, step.period, step.period_max, step.period_unit
    span = number(p) if pmax is None else f"{number(p)}–{number(pmax)}"
    units = _unit(u, pmax if pmax is not None else p)
    if f == 1:
        if p == 1 and pmax is None and u in _EVERY_ONE:
            return _EVERY_ONE[u]
        if p == 2 and pmax is None and u == "d":
            return "every other day"
        return f"every {span} {units}"
    if p == 1 and pmax is None:
        return f"{_TIMES.get(f, f'{f} times')} a {_unit(u, 1)}"
    return f"{f} times every {span} {units}"


def step_text(step: Step, *, for_life: bool = False) -> str:
    """One step: frequency, instruction, then bounds, e.g. "weekly for 4 weeks (4 doses)"."""
    if step.count == 1 and step.duration is None and step.until is None:
        return "once"  # a single dose (a missed dose given now)
    words = [frequency_text(step)]
    if step.until is not None:
        words.append(_UNTIL[step.until])
    if step.duration is not None:
        value, unit = step.duration
        words.append(f"for {number(value)} {_unit(unit, value)}")
        if step.count is not None:
            words.append(f"({step.count} {'dose' if step.count == 1 else 'doses'})")
    elif step.count is not None:
        words.append(f"for {step.count} {'dose' if step.count == 1 else 'doses'}")
    if for_life and _is_open(step):
        words.append("for life")
    return " ".join(words)


def _is_open(step: Step) -> bool:
    return step.duration is None and step.count is None and step.until is None


def dosage_texts(regimen: Regimen) -> list[str]:
    """One patient instruction per step, with the product, for ``Dosage.text``."""
    name = regimen_name(regimen)
    last = len(regimen.steps) - 1
    return [
        f"{name} {step_text(step, for_life=regimen.lifelong and i == last)}"
        for i, step in enumerate(regimen.steps)
    ]


def order_text(regimen: Regimen) -> str:
    """What one MedicationRequest for ``regimen`` orders (its own steps, no follow-on)."""
    return _join([regimen])


def schedule_text(regimen: Regimen, *, for_life: bool = True) -> str:
    """The whole pathway, following ``regimen.then`` through the catalogue.

    E.g. UK_LOAD_STD: "hydroxocobalamin 1 mg IM three times a week for 2 weeks
    (6 doses), then every 2–3 months for life". Without ``for_life`` (a cause that is
    not irreversible, issue 11 §4) the last step stays open: "..., then every 2–3 months".
    """
    chain = _chain(regimen)
    if not for_life:
        chain = [replace(r, lifelong=False) for r in chain]
    return _join(chain)


def _chain(regimen: Regimen) -> list[Regimen]:
    """``regimen`` and what follows it; the product is carried along the chain.

    A rule may swap the product (``with_drug`` for Leber's disease, S4); the
    catalogue's follow-on regimen still names the original product, so when the
    follow-on used the same product as the catalogue version of this regimen,
    the swapped product is carried forward rather than silently switched back.
    """
    chain, seen = [regimen], {regimen.id}
    current = regimen
    while (nxt := follow_on(current)) is not None and nxt.id not in seen:
        base = CATALOGUE.get(current.id)
        if base is not None and _product(nxt) == _product(base):
            nxt = replace(
                nxt,
                drug=current.drug,
                dose=current.dose,
                dose_unit=current.dose_unit,
                route=current.route,
            )
        chain.append(nxt)
        seen.add(nxt.id)
        current = nxt
    return chain


def _product(regimen: Regimen) -> tuple[object, ...]:
    return (regimen.drug, regimen.dose, regimen.dose_unit, regimen.route)


def _join(chain: list[Regimen]) -> str:
    parts: list[str] = []
    previous: Regimen | None = None
    for regimen in chain:
        for step in regimen.steps:
            phrase = step_text(step)
            if previous is None or _product(previous) != _product(regimen):
                phrase = f"{regimen_name(regimen)} {phrase}"
            parts.append(phrase)
            previous = regimen
    last = chain[-1]
    if last.lifelong and _is_open(last.steps[-1]):
        parts[-1] += " for life"
    return ", then ".join(parts)
