"""Clinical core: one response's recommendations made consistent with each other and the orders.

Imports only ``cds_b12.clinical``. Runs after the safety rails, so it sees the
regimens the rails left. The team rule it enforces: one plan per B12 order, each
lab suggested once per response with one timing, and a suggestion that changes an
order updates that order instead of adding a second one (issue 11 §2-§3):

- a card proposing a B12 regimen on an order hook changes the B12 draft being
  ordered (``draft_id``), so accepting it leaves one order, not two;
- a card correcting the order (R21 product, R28 dose, R29 intensity) carries the
  schedule a treatment card proposes, not the draft's, and the treatment card
  leaves the order to it;
- on patient-view, a card that changes the current B12 order ends it (``replaces``);
- a missed dose (R11, R12) with the schedule still ordered offers that one dose today;
- a test suggested by several cards stays on the most urgent card only, at the
  earliest window any of them gave, and a test due now that a lab draft already
  orders is not suggested again.
"""

from __future__ import annotations

from dataclasses import replace

from .assess import Assessment
from .recommendation import Kind, LabOrder, Recommendation, Urgency, Variant
from .record import DraftOrder, Finding, Medication, MedSource
from .regimens import (
    HYDROXOCOBALAMIN_INJ,
    SAME_DOSE_TOLERANCE_MG,
    Regimen,
    single_dose,
    with_drug,
)
from .rules.orders import product_regimen
from .safety import TREATMENT_KINDS
from .sources import rule_sources

# treatment cards, and the cards that correct or advise on a B12 order
_TREATMENT = TREATMENT_KINDS | {Kind.CHANGE_PRODUCT, Kind.CORRECT_ORDER, Kind.ORDER_ADVICE}
# On patient-view these change the regimen of the current order rather than add a course:
# a shorter interval, another product, or loading again (a relapse, an interrupted course,
# oral therapy failing), after which maintenance is ordered afresh (R10).
_CHANGES_CURRENT = frozenset(
    {Kind.INTENSIFY, Kind.CHANGE_PRODUCT, Kind.CONTINUE_LOADING, Kind.START_LOADING}
)
_URGENCY = (Urgency.ROUTINE, Urgency.URGENT, Urgency.STAT)
_CORRECTING = frozenset({Kind.CHANGE_PRODUCT, Kind.CORRECT_ORDER})
OVER_TREATMENT = "R29-over-treatment"
# Whose regimen a response's one plan is: a treatment card's, then a dose or intensity
# correction's, then a product change's (False: not a correcting card).
_PLAN_SOURCE = (False, Kind.CORRECT_ORDER, Kind.CHANGE_PRODUCT)


def reconcile(recs: tuple[Recommendation, ...], a: Assessment) -> tuple[Recommendation, ...]:
    """``recs`` (most urgent first) with one plan per order and each lab once."""
    recs = _one_plan(_no_contradiction(tuple(_railed(r, a) for r in recs)))
    draft = b12_draft(a)
    if draft is not None:  # the order being placed is the dose: it is changed, not added to
        recs = tuple(_on_draft(r, draft) for r in recs)
    else:
        recs = tuple(_dose_now(r, a) for r in recs)
    if draft is None and a.order is not None and a.order.source is MedSource.REQUEST:
        recs = tuple(_ending_current(r, a.order.resource_id) for r in recs)
    return _labs_once(_not_drafted(recs, a))


def _not_drafted(recs: tuple[Recommendation, ...], a: Assessment) -> tuple[Recommendation, ...]:
    """A test due now that is already being ordered (a lab draft) is not suggested again;
    a card advising against that draft (R15) removes it instead."""
    drafted = {d.lab.value for d in a.record.drafts if d.lab is not None}
    if not drafted:
        return recs
    return tuple(
        r.with_changes(labs=kept)
        if (kept := tuple(x for x in r.labs if x.test not in drafted or x.due_from > a.as_of))
        != r.labs
        else r
        for r in recs
    )


def b12_draft(a: Assessment) -> DraftOrder | None:
    """The B12 MedicationRequest being ordered (order-select / order-sign), if any."""
    return next(
        (
            d
            for d in a.record.drafts
            if d.resource_type == "MedicationRequest"
            and d.medication is not None
            and d.medication.is_b12_therapy
        ),
        None,
    )


def _railed(r: Recommendation, a: Assessment) -> Recommendation:
    """A card whose product a rail withheld (S5) or swapped (S4) leads with what to do now;
    with a cobalt or B12 allergy a dose card (R11, R12) is withheld too, though it named no
    product for the rail to take away."""
    if r.variant is not None or r.kind not in _TREATMENT:
        return r
    withheld = r.safety_withheld or (_allergic(a) and r.kind is Kind.GIVE_DOSE)
    if withheld and r.regimen is None:
        return r.with_changes(variant=Variant.WITHHELD)
    if "S4" in r.safety and r.regimen is not None:
        return r.with_changes(variant=Variant.SWAPPED)
    return r


def _dose_now(r: Recommendation, a: Assessment) -> Recommendation:
    """A missed dose with the schedule still ordered: the one dose, today, as its suggestion
    (one click), of the current order's product; the current order keeps running."""
    order = a.order
    if r.kind is not Kind.GIVE_DOSE or r.regimen is not None or _allergic(a):
        return r
    if order is None or not order.is_injection:
        return r
    regimen = product_regimen(order, a.profile)
    if a.has(Finding.LEBER):  # S4: never cyanocobalamin in Leber's disease
        regimen = with_drug(regimen, HYDROXOCOBALAMIN_INJ)
    # the dose is of the current order's product: cite that product's monographs (§9)
    products = frozenset({regimen.drug.ingredient})
    sources = rule_sources(r.rule, a.profile.citation_region, r.variant, products)
    return r.with_changes(regimen=single_dose(regimen), start_on=a.as_of, sources=sources)


def _allergic(a: Assessment) -> bool:
    """S5: a cobalt or B12 allergy is recorded; no B12 product is offered."""
    return a.has(Finding.COBALT_B12_ALLERGY)


def _no_contradiction(recs: tuple[Recommendation, ...]) -> tuple[Recommendation, ...]:
    """An over-treatment card (R29) says the draft is more than the record supports; beside a
    card that proposes a treatment (intensifying, loading), it would contradict it: dropped."""
    treating = any(r.regimen is not None and r.kind not in _CORRECTING for r in recs)
    if not treating:
        return recs
    return tuple(r for r in recs if r.rule != OVER_TREATMENT)


def _one_plan(recs: tuple[Recommendation, ...]) -> tuple[Recommendation, ...]:
    """One regimen per response when a card corrects the order (R21, R28, R29).

    The plan is the treatment card's (the schedule the patient needs), else a dose or
    intensity correction's, else the product change's; the first correcting card carries
    the order, and every other card shows the same plan and leaves the order to it
    (``plan_on``): one plan, one order.
    """
    proposals = [r for r in recs if r.regimen is not None]
    correcting = [r for r in proposals if r.kind in _CORRECTING]
    if not correcting or len(proposals) < 2:
        return recs
    source = min(proposals, key=lambda r: _PLAN_SOURCE.index(r.kind in _CORRECTING and r.kind))
    carrier = correcting[0]
    adopted = {
        id(carrier): carrier.with_changes(
            regimen=source.regimen,
            alternative=source.alternative,
            start_on=source.start_on,
        )
    }
    for r in proposals:
        if r is not carrier:
            adopted[id(r)] = r.with_changes(
                regimen=source.regimen, alternative=None, plan_on=carrier.rule
            )
    return tuple(adopted.get(id(r), r) for r in recs)


def _on_draft(r: Recommendation, draft: DraftOrder) -> Recommendation:
    """A B12 regimen proposed while a B12 draft is being ordered changes that draft; when
    the draft already orders it, the draft is the order (``plan_on`` names it)."""
    if r.regimen is None or r.draft_id or r.plan_on or r.kind not in _TREATMENT:
        return r
    if draft.medication is not None and _orders(draft.medication, r.regimen):
        return r.with_changes(draft_id=draft.resource_id, plan_on=draft.resource_id)
    return r.with_changes(draft_id=draft.resource_id)


def _orders(m: Medication, regimen: Regimen) -> bool:
    """Whether order ``m`` is ``regimen`` as written: the same ingredient, route kind, dose
    and one step's timing (only a one-step regimen can be matched from one dosage)."""
    t = m.timing
    if t is None or m.dose_mg is None or len(regimen.steps) != 1:
        return False
    step = regimen.steps[0]
    bounded = step.count is not None or step.duration is not None
    return (
        m.ingredient == regimen.drug.ingredient
        and m.is_injection == regimen.is_injection
        and abs(m.dose_mg - regimen.dose_mg) < SAME_DOSE_TOLERANCE_MG
        and (t.frequency, t.period, t.period_max, t.period_unit)
        == (step.frequency, step.period, step.period_max, step.period_unit)
        and t.bounded == bounded
    )


def _ending_current(r: Recommendation, order_id: str) -> Recommendation:
    """On patient-view, a changed regimen for the current order ends that order; so does
    a product change with no substitute (S5 allergy: the order is stopped)."""
    withdrawn = r.kind is Kind.CHANGE_PRODUCT and r.regimen is None
    if r.plan_on or r.kind not in _CHANGES_CURRENT or r.replaces:
        return r
    if r.regimen is None and not withdrawn:
        return r
    return r.with_changes(replaces=order_id)


def _labs_once(recs: tuple[Recommendation, ...]) -> tuple[Recommendation, ...]:
    """Each test once per response: on the most urgent card that suggests it (``_lab_owner``;
    the first such card on a further tie), at the earliest window any card gave it."""
    kept: list[list[LabOrder]] = [[] for _ in recs]
    placed: list[tuple[int, LabOrder]] = []  # (card, lab) of every lab kept so far
    for i in sorted(range(len(recs)), key=lambda i: _lab_owner(recs[i])):
        for lab in recs[i].labs:
            same = next((k for k, (_, other) in enumerate(placed) if _same(lab, other)), None)
            if same is None:
                placed.append((i, lab))
                kept[i].append(lab)
                continue
            card, other = placed[same]
            if lab.due_from < other.due_from:
                earlier = replace(other, due_from=lab.due_from, due_to=lab.due_to)
                kept[card][kept[card].index(other)] = earlier
                placed[same] = (card, earlier)
    return tuple(
        r if tuple(kept[i]) == r.labs else r.with_changes(labs=tuple(kept[i]))
        for i, r in enumerate(recs)
    )


def _lab_owner(r: Recommendation) -> tuple[int, bool]:
    """Which card keeps a shared test: the most urgent, and on a tie the urgent-assessment
    card (R7), whose checks they are, before a treatment card a rail added them to (S6)."""
    return -_URGENCY.index(r.urgency), r.kind is not Kind.URGENT_ASSESSMENT


def _same(a: LabOrder, b: LabOrder) -> bool:
    """The same test for the same reason, or at overlapping times."""
    if a.test != b.test:
        return False
    if a.note is not None and a.note == b.note:
        return True
    return a.due_from <= (b.due_to or b.due_from) and b.due_from <= (a.due_to or a.due_from)
