"""Part 3: the FHIR fallback. With no prefetch the service fetches every key itself, in
parallel, so one hook call should take about as long as its slowest single fetch.

The typical patient is loaded into the test FHIR server (``tests/fhir_server``), which
delays every answer under ``/fault/delay=<ms>/fhir``. The hook call goes through the
Flask test client; each key's fetch is also timed alone through the service's own
FHIR client, and the slowest of those is the yardstick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import requests

from cds_b12.api import create_app
from cds_b12.config import Settings
from cds_b12.hooks.fetch import FetchError, FhirServer
from cds_b12.hooks.invoke import invoke
from cds_b12.hooks.prefetch import QUERIES, expand, templates
from cds_b12.hooks.request import parse_call
from cds_b12.hooks.services import SERVICE_BY_ID
from tests.serving import start_fhir_server

from .inprocess import BrokenPath, quiet_stderr, without_service_env
from .patients import record, transaction
from .resources import PATIENT_ID
from .stats import Timing, time_calls

SERVICE = "b12-patient-view"


@dataclass(frozen=True, slots=True)
class FallbackResult:
    delay_ms: int
    fetched: tuple[str, ...]
    cards: int
    total: Timing  # the whole hook call, with the delay on every FHIR request
    undelayed: Timing  # the same call against the same server without the delay
    single: dict[str, Timing]  # each key's fetch alone, with the delay

    @property
    def slowest(self) -> tuple[str, float]:
        key = max(self.single, key=lambda k: self.single[k].median)
        return key, self.single[key].median

    @property
    def ratio(self) -> float:
        return self.total.median / self.slowest[1]

    @property
    def serial_ms(self) -> float:
        """What fetching one key after another would cost."""
        return sum(t.median for t in self.single.values())


def _load(base: str, resources: list[dict]) -> None:
    resp = requests.post(
        base,
        json=transaction(resources),
        timeout=60,
        headers={"Content-Type": "application/fhir+json"},
    )
    resp.raise_for_status()
    statuses = [e.get("response", {}).get("status", "") for e in resp.json().get("entry", [])]
    if len(statuses) != len(resources) or not all(s.startswith("2") for s in statuses):
        raise RuntimeError(f"the test FHIR server refused part of the patient: {statuses}")


def run(
    data_dir: Path, log_dir: Path, as_of: date, *, delay_ms: int = 200, runs: int = 7
) -> FallbackResult:
    server = start_fhir_server(log_dir / "fhir-server.log")
    try:
        _load(server.base, record("typical", as_of))
        with without_service_env():
            app = create_app(Settings(data_dir=data_dir), today=lambda: as_of)
        rt = app.extensions["cds_b12"]
        client = app.test_client()
        delayed = server.fault(f"delay={delay_ms}")
        context = {"userId": "Practitioner/example", "patientId": PATIENT_ID}

        def body(fhir_server: str) -> bytes:
            return json.dumps(
                {
                    "hook": "patient-view",
                    "hookInstance": "00000000-0000-4000-8000-0000000000f0",
                    "fhirServer": fhir_server,
                    "context": context,
                }
            ).encode()

        # the path must work before it is timed: every key fetched, and cards
        once = invoke(
            parse_call(json.loads(body(delayed)), SERVICE_BY_ID[SERVICE]),
            profile=rt.profile,
            library=rt.cards,
            client=rt.client,
            as_of=as_of,
        )
        if len(once.fetched) != len(QUERIES) or not once.body["cards"]:
            raise BrokenPath(
                f"FHIR fallback: fetched {once.fetched}, {len(once.body['cards'])} cards"
            )

        def call(raw: bytes) -> None:
            resp = client.post(
                f"/cds-services/{SERVICE}", data=raw, content_type="application/json"
            )
            if resp.status_code != 200:
                raise BrokenPath(
                    f"FHIR fallback: {resp.status_code} {resp.get_data(as_text=True)[:300]}"
                )

        wanted = templates(as_of)
        target = FhirServer(delayed)
        single: dict[str, Timing] = {}
        with quiet_stderr():
            total = time_calls(lambda: call(body(delayed)), iterations=runs, warmup=1)
            undelayed = time_calls(lambda: call(body(server.base)), iterations=runs, warmup=1)
            for query in QUERIES:
                relative = expand(wanted[query.key], context)
                assert relative is not None

                def fetch(key: str = query.key, relative: str = relative) -> None:
                    got = rt.client.fetch_all(target, {key: relative})[key]
                    if isinstance(got, FetchError):
                        raise BrokenPath(f"FHIR fallback: {got.reason}")

                single[query.key] = time_calls(fetch, iterations=runs, warmup=1)
        rt.db.dispose()
        return FallbackResult(
            delay_ms, once.fetched, len(once.body["cards"]), total, undelayed, single
        )
    finally:
        server.stop()
