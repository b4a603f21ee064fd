"""Clinical core: what every rule shares: ``recommend`` and the facts any card may quote.

Imports only the standard library and ``cds_b12.clinical``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Container
from datetime import date, timedelta
from operator import attrgetter

from ..assess import PHASE_MAINTENANCE, Assessment
from ..bands import B12_KINDS
from ..facts import (
    BeforeUnreadable,
    Fact,
    Findings,
    NoneReadable,
    OnFile,
    Unreadables,
    Unused,
    build_cause_fact,
    build_interval,
    build_last_dose,
    build_markers,
    build_on_file,
)
from ..profiles import Profile
from ..recommendation import (
    Indicator,
    Kind,
    LabOrder,
    Recommendation,
    Urgency,
    Variant,
    build_recommendation,
)
from ..record import Lab, LabKind, Medication, UnreadableResult
from ..regimens import Regimen
from ..sources import rule_sources

_ON = attrgetter("on")


def _products(
    regimen: Regimen | None, alternative: Regimen | None, facts: dict[str, Fact]
) -> frozenset[str]:
    """The B12 ingredients of a card that orders one: its plan's, its alternative's and the
    order it changes (``product``), so it cites those products' monographs only
    (``for_products``). None for a card that orders no product."""
    ordered = [r.drug.ingredient for r in (regimen, alternative) if r is not None]
    product = facts.get("product")
    if ordered and isinstance(product, Medication) and product.ingredient:
        ordered.append(product.ingredient)
    return frozenset(ordered)


# The analytes whose result alone can decide a card (B12 band, functional marker, R7),
# and the test that repeats each one.
REPEAT_TEST = {
    LabKind.B12: "B12",
    LabKind.HOLOTC: "HOLOTC",
    LabKind.MMA: "MMA",
    LabKind.HCY: "HCY",
    LabKind.HB: "CBC",
}


def unread_results(
    a: Assessment,
    p: Profile,
    kinds: Container[LabKind] = REPEAT_TEST,
    *,
    before: date | None = None,
) -> tuple[UnreadableResult, ...]:
    """Current unreadable results of ``kinds`` (the deciding analytes) with no readable one
    as new; with ``before`` (a course's first dose), those before that day, current then.

    Total and active B12 count as one analyte: either result reads the B12 status.
    """

    def same(kind: LabKind) -> tuple[LabKind, ...]:
        return B12_KINDS if kind in B12_KINDS else (kind,)

    at = a.as_of if before is None else before
    last = a.as_of if before is None else before - timedelta(days=1)
    found = []
    for u in a.unreadable:  # the reader's, then those outside the plausible limits
        if u.kind not in kinds or u.on > last or (at - u.on).days > p.current_lab_days:
            continue
        if not any(lab.kind in same(u.kind) and u.on <= lab.on <= last for lab in a.labs):
            found.append(u)
    return tuple(sorted(found, key=lambda u: (u.on, u.resource)))


_COUNTS = (LabKind.HB, LabKind.WBC, LabKind.NEUTROPHILS, LabKind.PLATELETS)  # S9's


def severity_open(a: Assessment, p: Profile) -> bool:
    """A blood count newer than the one assessed could not be read (R25), so severe
    anaemia or pancytopenia is not ruled out: an Hb always; a white cell, neutrophil or
    platelet count with anaemia (pancytopenia needs a low Hb). An Hb "75 g/dL" was 7.5.
    R2-R4 then choose injections, and S6/S9 say their advice as a condition."""
    unread = {u.kind for u in unread_results(a, p, _COUNTS)}
    return LabKind.HB in unread or (a.is_anaemic and bool(unread))


def common_facts(a: Assessment) -> dict[str, Fact]:
    """The facts any card may quote (cards/README.md lists them)."""
    review = (
        a.profile.pregnancy_review_days if a.pregnant or a.breastfeeding else a.profile.review_days
    )
    last_dose = None
    if a.last_dose is not None and a.days_since_last_dose is not None:
        last_dose = build_last_dose(a.last_dose, a.days_since_last_dose)
    mma = said(a, a.mma, (LabKind.MMA,))
    hcy = said(a, a.hcy, (LabKind.HCY,))
    return {
        "as_of": a.as_of,
        "b12": said(a, a.b12, B12_KINDS),
        "hb": said(a, a.hb, (LabKind.HB,)),
        "mcv": said(a, a.mcv, (LabKind.MCV,)),
        "mma": mma,
        "hcy": hcy,
        "markers": build_markers(tuple(m for m in (mma, hcy) if m is not None)),
        "cause": build_cause_fact(a.cause, Findings.of(a.cause_findings)),
        "neuro": Findings.of(a.neuro_findings),
        "last_dose": last_dose,
        "interval": build_interval(a.interval_days) if a.interval_days is not None else None,
        "review_date": a.as_of + timedelta(days=review),
    }


def before_unreadable(
    a: Assessment, lab: Lab | None, kinds: Container[LabKind], *, before: date | None = None
) -> BeforeUnreadable | None:
    """``lab`` (the current result of ``kinds``) when a newer one of those kinds on file
    could not be read (R25's reasons, or outside the plausible limits). Most records have
    no unreadable result: then nothing is searched."""
    if lab is None or not a.unreadable:
        return None
    unread = unread_results(a, a.profile, kinds, before=before)
    newer = tuple(u for u in unread if u.on > lab.on)
    return BeforeUnreadable(lab, Unreadables(newer)) if newer else None


def said(
    a: Assessment, lab: Lab | None, kinds: tuple[LabKind, ...], *, before: date | None = None
) -> Lab | OnFile | BeforeUnreadable | Unreadables | None:
    """How a card quotes a result of ``kinds``, one rule for every lab value: ``lab`` (the
    one the card rests on), naming newer ones that could not be read; with no ``lab``, the
    current ones that could not be read, else the latest on file and why it does not count
    (``on_file``; with ``before``, a course's first dose, only results before it). None
    ("none on file") only when the record holds none: never over an untrusted value."""
    if lab is not None:
        return before_unreadable(a, lab, kinds, before=before) or lab
    unread = unread_results(a, a.profile, kinds, before=before) if a.unreadable else ()
    if unread:
        return Unreadables(unread)
    if before is not None:
        return None
    return on_file(a, kinds) or _unreadable_on_file(a, kinds)


def current(
    a: Assessment, lab: Lab | None, kinds: tuple[LabKind, ...]
) -> Lab | OnFile | NoneReadable | None:
    """``lab``, else the latest readable result of ``kinds`` on file and why it does not
    count, else the unreadable ones on file as "none readable": R25's plain quote (the
    unreadable ones are its own subject, listed once). None only with none on file."""
    if found := lab or on_file(a, kinds):
        return found
    unread = _unreadable_on_file(a, kinds)
    return NoneReadable(unread) if unread else None


def _unreadable_on_file(a: Assessment, kinds: tuple[LabKind, ...]) -> Unreadables | None:
    """The results of ``kinds`` on file that could not be read, oldest first: ``said``'s
    when none is current, ``current``'s (R25) when none is readable."""
    if not a.unreadable:
        return None
    old = sorted(
        (u for u in a.unreadable if u.kind in kinds and u.on <= a.as_of),
        key=lambda u: (u.on, u.resource),
    )
    return Unreadables(tuple(old)) if old else None


def latest_on_file(a: Assessment, *kinds: LabKind) -> Lab | None:
    """The newest result of any of ``kinds`` in the record up to today, however old (of
    several on that day, the first the record lists).

    Found from each kind's newest (``Assessment.by_kind``) and the results of that day
    alone: ``a.labs`` is a stable sort, so that day's results are in the record's order,
    and so are one kind's (the first of its newest day is found in them)."""
    if len(kinds) == 1:
        results = a.by_kind.get(kinds[0])
        return results[bisect_left(results, results[-1].on, key=_ON)] if results else None
    newest = [results[-1].on for kind in kinds if (results := a.by_kind.get(kind))]
    if not newest:
        return None
    day = max(newest)
    return next(lab for lab in a.labs[bisect_left(a.labs, day, key=_ON) :] if lab.kind in kinds)


def on_file(a: Assessment, kinds: tuple[LabKind, ...]) -> Lab | OnFile | None:
    """The latest result of ``kinds`` in the record, when the card rests on none: set aside
    as a B12 taken soon after an injection (S2), or older than the profile's current-result
    limit (issue 11 §5); plain when current (R8's retic before the response day)."""
    latest = latest_on_file(a, *kinds)
    if latest is None:
        return None
    if latest in a.ignored_b12:
        return build_on_file(latest, Unused.AFTER_DOSE, a.profile.post_injection_b12_invalid_days)
    if (a.as_of - latest.on).days <= a.profile.current_lab_days:
        return latest
    return build_on_file(latest, Unused.TOO_OLD, a.profile.current_lab_days)


def next_dose_on(a: Assessment, regimen: Regimen) -> date | None:
    """The first dose of ``regimen`` after the last dose given, at its own interval; today
    when that is already past."""
    if a.last_dose is None:
        return None
    due = a.last_dose + timedelta(days=round(regimen.steps[0].interval_days))
    return max(due, a.as_of)


def recommend(
    a: Assessment,
    rule: str,
    indicator: Indicator,
    kind: Kind,
    *,
    urgency: Urgency = Urgency.ROUTINE,
    regimen: Regimen | None = None,
    alternative: Regimen | None = None,
    labs: tuple[LabOrder, ...] = (),
    draft_id: str | None = None,
    start_on: date | None = None,
    overdue_since: date | None = None,
    variant: Variant | None = None,
    lifelong: bool | None = None,
    judged: bool = False,
    **facts: Fact,
) -> Recommendation:
    """A Recommendation with the common facts merged under the rule's own, citing the
    rule's (or its card variant's) declared sources in the profile's order
    (``sources.cite``).

    A regimen suggested while a maintenance schedule runs starts when its first dose falls
    due after the last one (``next_dose_on``), unless the rule dates it: the card's order
    and the timeline's planned dose are then the same day (issue 11 §5)."""
    if regimen is not None and start_on is None and a.phase is PHASE_MAINTENANCE:
        start_on = next_dose_on(a, regimen)
    return build_recommendation(
        rule=rule,
        indicator=indicator,
        kind=kind,
        urgency=urgency,
        sources=rule_sources(
            rule, a.profile.citation_region, variant, _products(regimen, alternative, facts)
        ),
        regimen=regimen,
        alternative=alternative,
        labs=labs,
        facts={**common_facts(a), **facts},
        draft_id=draft_id,
        start_on=start_on,
        overdue_since=overdue_since,
        variant=variant,
        lifelong=a.is_irreversible if lifelong is None else lifelong,
        judged=judged,
    )
