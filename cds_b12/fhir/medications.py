"""FHIR layer: MedicationRequest/Administration/Statement → Medication. Imports cds_b12.clinical.

A product is identified by RxNorm first, then by words, because statements are often
free text (``products``); a B12 ingredient's form follows route and dose, here. Nitrous
oxide becomes a finding, not a medication. Products we do not use are ignored without a
note.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from cds_b12.clinical.record import (
    ADMINISTRATION,
    B12_THERAPY,
    REQUEST,
    STATEMENT,
    ClinicalFinding,
    Finding,
    Medication,
    MedSource,
    NoteKind,
    Product,
    Route,
)

from .accessors import (
    as_dict,
    concept_text,
    dicts,
    first_dict,
    number,
    shorten,
    string,
)
from .build import make_medication, make_quantity
from .dates import parse_date
from .products import (
    NITROUS_RX,
    ORAL_HIGH_MIN_MG,
    Match,
    dose_in_mg,
    identify,
    oral_form,
    rxnorm_codes,
    stated_form,
)
from .routes import read_route
from .skips import ENTERED_IN_ERROR, Note, Skip, StatusPolicy
from .timings import read_timing
from .units import quantity_unit
from .usual_meds import usual_medication

MEDICATION_SOURCES = {source.value: source for source in MedSource}

_STATUS = {
    MedSource.REQUEST: StatusPolicy(
        keep=frozenset({"active", "on-hold", "completed", "stopped", "unknown"}),
        noted={"entered-in-error": ENTERED_IN_ERROR, "cancelled": "skipped: order cancelled"},
        # a draft in the record is not yet a medication the patient is on
        silent=frozenset({"draft"}),
    ),
    MedSource.ADMINISTRATION: StatusPolicy(
        keep=frozenset({"completed", "in-progress", "stopped", "on-hold", "unknown"}),
        noted={"entered-in-error": ENTERED_IN_ERROR, "not-done": "skipped: dose not given"},
    ),
    MedSource.STATEMENT: StatusPolicy(
        keep=frozenset({"active", "completed", "intended", "on-hold", "stopped", "unknown"}),
        noted={"entered-in-error": ENTERED_IN_ERROR, "not-taken": "skipped: marked not taken"},
    ),
}
_ENDED = frozenset({"completed", "stopped"})


class MedicationIndex:
    """The Medication resources in the data, by ``Medication/<id>`` and by Bundle ``fullUrl``.

    Built at the first reference looked up: most records name each product in the order
    itself (``medicationCodeableConcept``), and going through every resource for none
    cost about 20 K instructions of a typical read's 2.19 M.
    """

    __slots__ = ("_by_reference", "_entries")

    def __init__(self, entries: Iterable[tuple[dict, dict | None]]) -> None:
        """``entries``: each resource with the Bundle entry holding it, if any."""
        self._entries = entries
        self._by_reference: dict[str, dict] | None = None

    def _index(self) -> dict[str, dict]:
        by_reference: dict[str, dict] = {}
        for resource, entry in self._entries:
            if resource.get("resourceType") != "Medication":
                continue
            rid = string(resource, "id")
            if rid:
                by_reference.setdefault(f"Medication/{rid}", resource)
            full_url = string(entry, "fullUrl")
            if full_url:
                by_reference.setdefault(full_url, resource)
        return by_reference

    def resolve(self, reference: str, holder: dict) -> dict | None:
        """The Medication a reference points to: contained (``#id``), bundled, or absolute URL."""
        if reference.startswith("#"):
            for contained in dicts(holder.get("contained")):
                if contained.get("resourceType") == "Medication" and string(contained, "id") in (
                    reference[1:],
                    reference,
                ):
                    return contained
            return None
        if self._by_reference is None:
            self._by_reference = self._index()
        found = self._by_reference.get(reference)
        if found is None:
            # an absolute or versioned reference to a Medication we hold by relative reference
            parts = reference.split("/_history/")[0].split("/")
            found = self._by_reference.get("/".join(parts[-2:]))
        return found


def read_medication(
    resource: dict,
    source: MedSource,
    index: MedicationIndex,
    note: Note,
    name: str,
    *,
    draft: bool = False,
) -> Medication | ClinicalFinding | None:
    """A B12 product, risk drug or folic acid; a nitrous oxide finding; or None if unused.

    ``name`` is the resource's ``label``; ``draft`` reads an order being signed: its status
    is kept whatever it is.
    """
    nitrous, match, unresolved = _product(resource, index)
    if not nitrous and match is None:
        if unresolved:
            raise Skip(f"skipped: medication '{shorten(unresolved)}' is not in the data")
        return None
    if draft:
        status = string(resource, "status") or "unknown"
    else:
        status = _STATUS[source].apply(resource, note)
    if status is None:
        return None
    if not draft and not _NOT_GIVEN_FLAGS.isdisjoint(resource):  # a set test: rarely sent
        _not_given(resource, source)
    if match is not None:
        usual = usual_medication(resource, source, match, name, status)
        if usual is not None:
            return usual
    on, start, end = _dates(resource, source)
    if match is None:
        # an administration is exposure that happened; an order or statement may have ended
        active = source is ADMINISTRATION or status not in _ENDED
        return ClinicalFinding(Finding.NITROUS_OXIDE, name, active, on or start, end)
    dosage, quantity = _dosage(resource, source)
    route_concept = dosage.get("route")
    route = read_route(route_concept)
    dose = number(quantity.get("value")) if isinstance(quantity, dict) else None
    unit = quantity_unit(quantity)
    dose_mg = dose_in_mg(dose, unit, match)
    product = match.product or _b12_form(
        match.ingredient, route, dose_mg, source, route_concept is not None, note
    )
    if on is None and source is ADMINISTRATION and product in B12_THERAPY:
        given = "effectiveDateTime" in resource or "effectivePeriod" in resource
        note(
            f"{'date not understood' if given else 'no date given'}; not counted as a dose",
            NoteKind.DECISION,
        )
    # in field order: keywords would cost a dict per call
    return make_medication(
        source,
        product,
        name,
        status,
        match.ingredient,
        string(resource, "intent") if source is REQUEST else None,  # intent
        on,
        start,
        end,
        dose_mg,
        route,
        None if source is ADMINISTRATION else read_timing(dosage.get("timing")),  # timing
        # dose_written: the dose with its unit as the order states it, so a card can quote
        # an error exactly
        make_quantity(dose, unit) if dose is not None and unit else None,
    )


_NOT_GIVEN_FLAGS = frozenset({"doNotPerform", "notGiven", "wasNotGiven", "taken", "wasNotTaken"})


def _not_given(resource: dict, source: MedSource) -> None:
    """Raises Skip for an order not to give the product (``doNotPerform``), or a dose or
    statement an older FHIR flags as not given or not taken (STU3 ``notGiven`` and
    ``taken: n``, DSTU2 ``wasNotGiven`` and ``wasNotTaken``): its status alone says
    active or completed."""
    if source is REQUEST:
        if resource.get("doNotPerform") is True:  # R4: an order that forbids it
            raise Skip("skipped: an order not to give it", NoteKind.STATUS)
    elif source is ADMINISTRATION:
        if resource.get("notGiven") is True or resource.get("wasNotGiven") is True:
            raise Skip(_STATUS[source].noted["not-done"], NoteKind.STATUS)
    elif source is STATEMENT:
        taken = string(resource, "taken")
        if resource.get("wasNotTaken") is True or (taken is not None and taken.lower() == "n"):
            raise Skip(_STATUS[source].noted["not-taken"], NoteKind.STATUS)


def _product(resource: dict, index: MedicationIndex) -> tuple[bool, Match | None, str]:
    """Whether the resource names nitrous oxide, else the product it names, and an
    unresolvable reference (``_product_concepts``).

    A concept with one coding is identified once (``_PRODUCTS``): a patient's doses name
    one product again and again, and patients the same products. Its text and coding's
    strings are all ``concept_text`` and ``rxnorm_codes`` read of it; other values are
    ignored by both, and those that cannot be a key (lists, objects) go the general way.
    """
    concept = resource.get("medicationCodeableConcept")
    if concept.__class__ is dict:
        coding = concept.get("coding")
        if coding.__class__ is list and len(coding) == 1 and coding[0].__class__ is dict:
            only = coding[0]
            key = (concept.get("text"), only.get("system"), only.get("code"), only.get("display"))
            try:
                found = _PRODUCTS.get(key)
            except TypeError:  # an unhashable value
                pass
            else:
                if found is None:
                    found = _identified([concept], 0)
                    _keep(key, found)
                return (*found, "")
    concepts, ingredient_count, unresolved = _product_concepts(resource, index)
    return (*_identified(concepts, ingredient_count), unresolved)


# (nitrous oxide, match) by a one-coding concept's strings (``_product``), kept across
# reads: every patient's orders name the same formulary's products, and identifying one
# cost some 21 K instructions, 6 times a typical call. Bounded: at most _PRODUCTS_HELD
# concepts (then it starts again), each of short strings only.
_PRODUCTS: dict[tuple, tuple[bool, Match | None]] = {}
_PRODUCTS_HELD = 4096
_LONGEST = 200  # characters


def _keep(key: tuple, found: tuple[bool, Match | None]) -> None:
    """Keeps a concept's product for later reads, if the concept's strings are short."""
    if all(value is None or (value.__class__ is str and len(value) <= _LONGEST) for value in key):
        if len(_PRODUCTS) >= _PRODUCTS_HELD:
            _PRODUCTS.clear()
        _PRODUCTS[key] = found


def _identified(concepts: list[object], ingredient_count: int) -> tuple[bool, Match | None]:
    """Whether the concepts name nitrous oxide, else the product they name (``identify``)."""
    rx_codes = rxnorm_codes(concepts)
    text = concept_text(concepts)
    if "nitrous oxide" in text or not NITROUS_RX.isdisjoint(rx_codes):
        return True, None
    return False, identify(rx_codes, text, ingredient_count)


def _product_concepts(resource: dict, index: MedicationIndex) -> tuple[list[object], int, str]:
    """The CodeableConcepts naming the product, the ingredient count, and an unresolvable reference.

    The reference is returned only when nothing else names the product.
    """
    concept = resource.get("medicationCodeableConcept")
    if isinstance(concept, dict):
        return [concept], 0, ""
    reference = as_dict(resource.get("medicationReference"))
    display = string(reference, "display")
    concepts: list[object] = [{"text": display}] if display else []
    target = string(reference, "reference")
    medication = index.resolve(target, resource) if target else None
    if medication is None:
        return concepts, 0, "" if display else (target or "")
    ingredients = dicts(medication.get("ingredient"))
    concepts.append(medication.get("code"))
    concepts.extend(ingredient.get("itemCodeableConcept") for ingredient in ingredients)
    return concepts, len(ingredients), ""


def _b12_form(
    ingredient: str | None,
    route: Route,
    dose_mg: float | None,
    source: MedSource,
    route_stated: bool,
    note: Note,
) -> Product:
    """The form of a B12 product known only by ingredient: from route and dose, else assumed
    (noted)."""
    form = stated_form(ingredient, route, dose_mg)
    if form is not None:
        return form
    # hydroxocobalamin is only injectable at B12 doses; a clinic gives cyanocobalamin 1 mg by IM
    injected = ingredient == "hydroxocobalamin" or (
        source is ADMINISTRATION
        and ingredient in ("cyanocobalamin", None)
        and dose_mg is not None
        and dose_mg >= ORAL_HIGH_MIN_MG
    )
    why = "not recognised" if route_stated else "not stated"
    note(f"route {why}; assumed {'injection' if injected else 'oral'}", NoteKind.DECISION)
    return Product.B12_INJECTION if injected else oral_form(dose_mg)


def _dosage(resource: dict, source: MedSource) -> tuple[dict, object]:
    """The (first) dosage and its dose quantity."""
    if source is ADMINISTRATION:
        dosage = as_dict(resource.get("dosage"))
        return dosage, dosage.get("dose")
    dosage = first_dict(resource.get("dosageInstruction" if source is REQUEST else "dosage"))
    # STU3-style doseQuantity directly on the dosage, as in the CDS Hooks examples (§5.4)
    dose = first_dict(dosage.get("doseAndRate")).get("doseQuantity") or dosage.get("doseQuantity")
    return dosage, dose


def _dates(resource: dict, source: MedSource) -> tuple[date | None, date | None, date | None]:
    """``on``, ``start`` and ``end`` of an order, a dose given or a statement."""
    if source is REQUEST:
        period = as_dict(as_dict(resource.get("dispenseRequest")).get("validityPeriod"))
        if not (period.get("start") or period.get("end")):
            timing = as_dict(first_dict(resource.get("dosageInstruction")).get("timing"))
            period = as_dict(as_dict(timing.get("repeat")).get("boundsPeriod"))
        on = parse_date(resource.get("authoredOn"))
        return on, parse_date(period.get("start")), parse_date(period.get("end"))
    on = parse_date(resource.get("effectiveDateTime"))
    if source is ADMINISTRATION:
        if on is None:  # the Period only when there is no dateTime: a dose has one
            effective = as_dict(resource.get("effectivePeriod"))
            on = parse_date(effective.get("start")) or parse_date(effective.get("end"))
        return on, None, None
    effective = as_dict(resource.get("effectivePeriod"))
    on = on or parse_date(effective.get("start")) or parse_date(resource.get("dateAsserted"))
    return on, parse_date(effective.get("start")), parse_date(effective.get("end"))
