"""Benchmark patients, built deterministically in code as FHIR R4 JSON.

Shapes follow the bundles in ``fhir_fixtures/`` (a Patient with US Core style
identifiers, labs with LOINC and UCUM, RxNorm medications, IM route in SNOMED CT)
and every date is counted back from ``as_of``, so the patients never go stale.

- ``typical``: 20 Observations, 5 MedicationRequests, 10 MedicationAdministrations,
  3 Conditions; pernicious anaemia on monthly cyanocobalamin, last dose 45 days ago.
- ``heavy``: 500 Observations and 100 MedicationAdministrations over nine years,
  with more orders and problems; the same clinical picture.
- ``order-sign``: the typical record plus a draft bundle of 3 orders (cyanocobalamin
  injection, folic acid, a serum B12 test).

The resources themselves are built in ``resources.py`` and ``medications.py``; this
module puts them together per size and makes the hook requests from them.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable
from datetime import date, timedelta

from cds_b12.hooks.example_request import example_request

from .medications import administrations, draft_orders, medication_requests
from .resources import CONDITIONS, condition, observations, patient

SIZES = ("typical", "heavy", "order-sign")


def record(size: str, as_of: date) -> list[dict]:
    """The patient's record (no drafts) for ``typical`` or ``heavy``."""
    rng = random.Random(f"cds-b12-benchmark-{size}")
    if size == "heavy":
        counts = {"obs": 500, "span": 9 * 365, "medrx": 20, "admin": 100, "cond": 10}
    else:
        counts = {"obs": 20, "span": 3 * 365, "medrx": 5, "admin": 10, "cond": 3}
    conditions = [
        condition(n + 1, code, display, text, as_of - timedelta(days=ago))
        for n, (code, display, text, ago) in enumerate(CONDITIONS[: counts["cond"]])
    ]
    return [
        patient(),
        *conditions,
        *observations(counts["obs"], as_of, counts["span"], rng),
        *medication_requests(counts["medrx"], as_of),
        *administrations(counts["admin"], as_of),
    ]


def hook_request(size: str, as_of: date) -> dict:
    """The CDS Hooks request an EHR would send for ``size``, with every prefetch key filled."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; one of {', '.join(SIZES)}")
    if size == "order-sign":
        body = example_request(
            record("typical", as_of), hook="order-sign", drafts=draft_orders(as_of)
        )
    else:
        body = example_request(record(size, as_of), hook="patient-view")
    body["hookInstance"] = f"00000000-0000-4000-8000-{SIZES.index(size):012d}"
    return body


_HOOK_INSTANCE = re.compile(rb'"hookInstance"\s*:\s*"[^"]*"')
_PATIENT_ID = re.compile(rb'"patientId"\s*:\s*"([^"]+)"')
PATIENT_POOL = 1000  # patients the calls go round, as an EHR's calls come from many


def fresh_calls(raw: bytes, patients: int = PATIENT_POOL) -> Callable[[], bytes]:
    """The request ``raw`` again at each call, with a hookInstance of its own and one of
    ``patients`` patients in turn (the same record under another id).

    An EHR sends a new hookInstance with every hook call, for many patients. The same
    instance every time would have the service hold its cards back as already shown in
    that call (alert-fatigue control), and one patient called tens of thousands of
    times would give that patient a card history no real patient has.
    ``benchmarks/wrk/*.lua`` do the same for wrk.
    """
    instance = _HOOK_INSTANCE.search(raw)
    patient = _PATIENT_ID.search(raw)
    if instance is None or patient is None:
        return lambda: raw
    pid = patient.group(1)
    before = raw[: instance.start()].split(pid)
    after = raw[instance.end() :].split(pid)
    base = f'"hookInstance": "{random.getrandbits(32):08x}-0000-4000-8000-'.encode()
    counter = itertools.count(1)

    def call() -> bytes:
        n = next(counter)
        new_pid = b"%s-%04d" % (pid, n % patients)
        return b'%s%s%012x"%s' % (new_pid.join(before), base, n, new_pid.join(after))

    return call


def service_path(size: str) -> str:
    return (
        "/cds-services/b12-order-sign" if size == "order-sign" else "/cds-services/b12-patient-view"
    )


def transaction(resources: list[dict]) -> dict:
    """A transaction Bundle that PUTs each resource, to load a FHIR server."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for r in resources
        ],
    }
