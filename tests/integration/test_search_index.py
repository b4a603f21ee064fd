"""The test FHIR server's reference index changes no answer, only how long a search takes.

``server.js`` narrows a reference search (``Observation?patient=X``) to the resources that can
reference X (``tests/fhir_server/indexed-repository.js``); with ``--no-index`` it scans every
resource, as Medplum's MemoryRepository does. Loaded and written to alike, the two must give the
same bytes for every search, order, paging and totals included: the integration tests then test
the same thing as before, only faster. Versions and times, stamped per write, are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from cds_b12.hooks.prefetch import expand, templates

from ..serving import FhirTestServer, start_fhir_server
from .conftest import FIXTURES, HTTP_TIMEOUT, post_transaction, record_bundle, storable

# Every eighth fixture: patients of many kinds, few enough resources for a quick scan.
LOADED = sorted(p for p in FIXTURES.glob("*/*.json") if storable(p))[::8]
STAMPS = re.compile(r'"(versionId|lastUpdated)":"[^"]*"')


@pytest.fixture(scope="module")
def servers(tmp_path_factory, as_of) -> Iterator[tuple[FhirTestServer, FhirTestServer]]:
    logs = tmp_path_factory.mktemp("search-index")
    indexed = start_fhir_server(logs / "indexed.log")
    scanning = start_fhir_server(logs / "scanning.log", "--no-index")
    try:
        for path in LOADED:
            bundle = record_bundle(path, as_of)
            for server in (indexed, scanning):
                post_transaction(server.base, bundle, path.name)
        yield indexed, scanning
    finally:
        indexed.stop()
        scanning.stop()


def get(server: FhirTestServer, query: str) -> tuple[int, str]:
    resp = requests.get(f"{server.base}/{query}", timeout=HTTP_TIMEOUT)
    return resp.status_code, STAMPS.sub(r'"\1":""', resp.text)


def by_patient(server: FhirTestServer) -> list[list[dict]]:
    """The stored Observations grouped by their subject, patients and Observations in stored order
    (only those with several: a move or a delete then leaves each group some)."""
    found = requests.get(f"{server.base}/Observation?_count=1000", timeout=HTTP_TIMEOUT).json()
    groups: dict[str, list[dict]] = {}
    for entry in found["entry"]:
        groups.setdefault(entry["resource"]["subject"]["reference"], []).append(entry["resource"])
    return [g for g in groups.values() if len(g) > 1]


def patients(server: FhirTestServer) -> list[str]:
    found = requests.get(f"{server.base}/Patient?_count=1000", timeout=HTTP_TIMEOUT).json()
    return [e["resource"]["id"] for e in found["entry"]]


def queries(server: FhirTestServer, as_of, pids: list[str]) -> list[str]:
    """The service's prefetch searches for ``pids``, and the edge cases of the index."""
    prefetch = [
        expand(template, {"patientId": pid})
        for pid in [*pids, "nobody"]
        for template in templates(as_of).values()
    ]
    a, b = (group[0]["subject"]["reference"].split("/")[1] for group in by_patient(server)[:2])
    return [
        *prefetch,
        f"Observation?patient={b},{a}&_sort=-date",  # two buckets, merged in stored order
        f"Observation?patient={b},Patient/{a}",
        f"Observation?patient=Patient/{a}",
        f"Observation?subject=Patient/{a}&_count=2",
        f"Observation?subject={a}",  # several target types: a bare id matches none
        f"Observation?patient={a}&_count=1&_offset=1",
        f"Observation?patient={a}&_summary=count",
        f"Observation?code=http://loinc.org|2132-9&patient={a}",  # the index on a later filter
        f"Observation?patient={a}&_include=Observation:patient",
        f"Condition?subject=Patient/{a}&patient={a}",
        "Observation?patient=",  # empty: matches what references no patient
        f"Observation?patient={a},",
        f"Observation?patient:not={a}&_count=3",
        "Observation?patient:missing=true",
        f"Observation?patient.gender=female&patient={a}",  # chained: no index
        "Observation?_count=5&_sort=date",
    ]


def assert_same_answers(servers: tuple[FhirTestServer, FhirTestServer], queries: list[str]):
    indexed, scanning = servers
    for query in queries:
        assert get(indexed, query) == get(scanning, query), query


def test_every_search_is_answered_alike(servers, as_of):
    pids = patients(servers[0])
    assert len(pids) > 10
    assert_same_answers(servers, queries(servers[0], as_of, pids))


def test_searches_after_writes_are_answered_alike(servers, as_of):
    """Writes make an index stale: moved, deleted and new resources are seen at once."""
    first, second = by_patient(servers[0])[:2]
    moved = {**first[0], "subject": second[0]["subject"]}  # keeps its place among the stored
    new = {**first[1], "id": "search-index-new"}  # stored after all the others
    for server in servers:
        for resource in (moved, new):
            url = f"{server.base}/Observation/{resource['id']}"
            assert requests.put(url, json=resource, timeout=HTTP_TIMEOUT).ok
        gone = requests.delete(f"{server.base}/Observation/{second[1]['id']}", timeout=HTTP_TIMEOUT)
        assert gone.ok
    _, moved_to = get(servers[0], f"Observation?patient={second[0]['subject']['reference']}")
    assert moved["id"] in moved_to and second[1]["id"] not in moved_to
    pids = [group[0]["subject"]["reference"].split("/")[1] for group in (first, second)]
    assert_same_answers(servers, queries(servers[0], as_of, pids))
