"""The same patient gives the same cards however the data arrives.

Full prefetch, no prefetch (everything fetched from the FHIR server), a partial
prefetch, ``null`` for empty searches and OperationOutcomes for failed keys must
all give the cards the CLI gives on the fixture bundle: so the prefetch templates
and the fetch fallback lose nothing the rules need. The server answers in tens of
milliseconds, so every mode runs on every scenario (no subset needed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from cds_b12.clinical import get_profile
from cds_b12.hooks.response import respond

from ..scenarios import Scenario, scenarios
from .conftest import storable
from .ehr import (
    MockEhr,
    bundle_with_outcome,
    is_empty_search,
    normalise,
    operation_outcome,
    without_note,
)

# A patient the test FHIR server can hold; the prefetch-only ones are tested in tests/api.
SCENARIOS = [s for s in scenarios() if storable(s.path)]

# Fixture entries that no prefetch query returns, and the data-quality note each adds
# to the CLI's cards (None: none). The CLI is given the bundle without them; the
# test_unqueried_* tests keep this table honest.
NOT_QUERIED: dict[str, str | None] = {
    # Not a FHIR resource type: no real server holds one.
    "FooBar/messy-mixed-units-foobar-1": "skipped: unknown resource type",
    # A local, non-LOINC lab code: the labs search asks for LOINC codes only; sent, it is
    # not read and its label asks for a LOINC mapping.
    "Observation/messy-mixed-units-obs-local-1": "a result labelled 'B12 send-out",
}

# Each mode turns the full prefetch (what an EHR would send) into what this EHR sends.
MODES: dict[str, Callable[[dict], dict | None]] = {
    "full": lambda full: full,
    "none": lambda full: None,
    "partial": lambda full: {k: full[k] for k in ("patient", "labs")},
    "empty-as-null": lambda full: {k: None if is_empty_search(v) else v for k, v in full.items()},
    "operation-outcome": lambda full: {
        **full,
        "labs": operation_outcome(),  # required: must be fetched, not a 412
        "medicationRequests": bundle_with_outcome(),
        "medicationAdministrations": operation_outcome(),
    },
}


def ref(resource: dict) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def patient_id(resources: list[dict]) -> str:
    return next(r["id"] for r in resources if r["resourceType"] == "Patient")


def cli_answer(scenario: Scenario, as_of: date) -> tuple[str, list[dict], list[dict]]:
    """(patient id, drafts, normalised cards) of the in-process path the CLI uses."""
    resources, drafts = scenario.data(as_of)
    resources = [r for r in resources if ref(r) not in NOT_QUERIED]
    result = respond(
        resources, profile=get_profile(scenario.profile), as_of=as_of, draft_orders=drafts
    )
    assert {r.rule for r in result.evaluation.recommendations} == scenario.expect
    return patient_id(resources), drafts, normalise(result.body)


@pytest.fixture(scope="module")
def prefetch_of(fhir_server, make_client) -> Callable[[str, str], dict]:
    """The full prefetch an EHR would send for a patient, fetched once per patient."""
    cache: dict[str, dict] = {}

    def get(hook: str, pid: str) -> dict:
        if pid not in cache:
            ehr = MockEhr(make_client(), fhir_server.base)
            cache[pid] = ehr.prefetch(hook, pid, fhir_server.base)
        return cache[pid]

    return get


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_every_way_of_sending_the_data_gives_the_cli_cards(
    scenario, mode, fhir_server, make_client, prefetch_of, as_of
):
    """Every mode equals the same CLI cards, notes and their order included: so full and no
    prefetch also give identical cards, with no second pair of calls to show it."""
    pid, drafts, expected = cli_answer(scenario, as_of)
    ehr = MockEhr(make_client(profile=scenario.profile), fhir_server.base)
    prefetch = MODES[mode](prefetch_of(scenario.hook, pid))

    answer = ehr.call(ehr.request(scenario.hook, pid, drafts=drafts, prefetch=prefetch))

    assert answer.status == 200, answer.body
    # the expected rules fired: the CLI's rules are scenario.expect, one card each
    assert len(answer.body["cards"]) == len(scenario.expect)
    assert normalise(answer.body) == expected  # notes too, in the same order


def test_unqueried_entries_are_not_prefetched(prefetch_of, as_of):
    seen: set[str] = set()
    for scenario in SCENARIOS:
        resources, _ = scenario.data(as_of)
        refs = {ref(r) for r in resources} & NOT_QUERIED.keys()
        if not refs:
            continue
        seen |= refs
        prefetch = prefetch_of(scenario.hook, patient_id(resources))
        fetched = {
            ref(e["resource"])
            for v in prefetch.values()
            if v.get("resourceType") == "Bundle"
            for e in v.get("entry", [])
        }
        assert not fetched & refs
    assert seen == NOT_QUERIED.keys()


def test_unqueried_entries_change_only_their_own_data_quality_notes(as_of, monkeypatch):
    """So leaving them out of the CLI comparison hides nothing else. Every note is listed
    (no "N more not shown"), so each entry's own line can be taken out."""
    monkeypatch.setattr("cds_b12.render.data_quality.MAX_DATA_NOTES", 100)
    for scenario in SCENARIOS:
        resources, drafts = scenario.data(as_of)
        refs = {ref(r) for r in resources} & NOT_QUERIED.keys()
        if not refs:
            continue
        profile = get_profile(scenario.profile)
        whole = normalise(
            respond(resources, profile=profile, as_of=as_of, draft_orders=drafts).body
        )
        cut = normalise(
            respond(
                [r for r in resources if ref(r) not in refs],
                profile=profile,
                as_of=as_of,
                draft_orders=drafts,
            ).body
        )
        for r in sorted(refs):
            for i, card in enumerate(whole):
                note = NOT_QUERIED[r]
                assert (f"{r}: {note}" in card["detail"]) if note else r not in card["detail"]
                whole[i] = without_note(card, f"{r}: ")
        assert whole == cut


def test_some_searches_are_empty_so_null_mode_means_something(prefetch_of, as_of):
    nulled = 0
    for scenario in SCENARIOS:
        resources, _ = scenario.data(as_of)
        prefetch = prefetch_of(scenario.hook, patient_id(resources))
        nulled += sum(is_empty_search(v) for v in prefetch.values())
    assert nulled > len(SCENARIOS)
