"""``/metrics`` from a real two-worker ``cds-b12 serve``: every worker's counts are added up,
and a killed worker's counts stay in the totals.

prometheus-client's multiprocess mode only works if its directory is set before the
library is first imported; a wrong import order makes each worker report only its own
counts, which is exactly what this test would see.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import requests

from ..api.support import scenario_named, scenario_request
from ..api.test_metrics import samples, value
from ..serving import ServeProcess, service_env
from ..store.support import accepted, overridden

CALLS = 40
FEEDBACK = 10


def writers(directory: Path, master: int) -> set[int]:
    """The workers that wrote metrics: the files are named after their process ids."""
    return {int(p.stem.rsplit("_", 1)[1]) for p in directory.glob("counter_*.db")} - {master}


def post_new_connection(server: ServeProcess, path: str, body: object) -> requests.Response:
    """One call on a connection of its own, so that both workers take a share."""
    return requests.post(
        f"{server.base}{path}", json=body, headers={"Connection": "close"}, timeout=30
    )


def scrape(server: ServeProcess) -> dict:
    response = requests.get(f"{server.base}/metrics", timeout=10)
    assert response.status_code == 200
    return samples(response.text)


def test_counts_add_up_across_workers_and_survive_a_killed_worker(tmp_path):
    data = tmp_path / "data"
    server = ServeProcess(service_env(data), tmp_path / "serve.log", workers=2).start()
    metrics_dir = data / "prometheus"
    try:
        service, body = scenario_request(scenario_named("R1-start-neuro-loading"))
        calls = "cds_b12_hook_calls_total"
        assert value(scrape(server), calls, service=service, status="200") == 0
        cards = []
        for _ in range(CALLS):
            response = post_new_connection(server, f"/cds-services/{service}", body)
            assert response.status_code == 200
            cards.append(response.json()["cards"][0])
        for _ in range(3):
            assert post_new_connection(server, f"/cds-services/{service}", {}).status_code == 400
        half = FEEDBACK // 2
        entries = [accepted(c["uuid"], c["suggestions"][0]["uuid"]) for c in cards[:half]]
        entries += [overridden(c["uuid"], code="not-ours") for c in cards[half:FEEDBACK]]
        for entry in entries:
            path = f"/cds-services/{service}/feedback"
            assert post_new_connection(server, path, {"feedback": [entry]}).status_code == 200

        assert server.proc is not None
        master = server.proc.pid
        assert len(writers(metrics_dir, master)) == 2, "one worker took every call"
        got = scrape(server)
        for _ in range(4):  # the same totals, whichever worker answers the scrape
            assert _counters(scrape(server)) == _counters(got)
        assert value(got, calls, service=service, status="200") == CALLS
        assert value(got, calls, service=service, status="400") == 3
        assert value(got, "cds_b12_hook_call_duration_seconds_count", service=service) == CALLS + 3
        issued = sum(v for (n, _), v in got.items() if n == "cds_b12_cards_issued_total")
        assert issued == CALLS
        rule = "R1-start-neuro-loading"
        assert value(got, "cds_b12_cards_issued_total", rule=rule, indicator="critical") == CALLS
        fb = "cds_b12_feedback_entries_total"
        assert value(got, fb, outcome="accepted", reason="none") == half
        assert value(got, fb, outcome="overridden", reason="other") == half

        # a worker killed outright: gunicorn starts another, its counts stay in the totals
        victim = min(writers(metrics_dir, master))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (metrics_dir / f"gauge_livesum_{victim}.db").exists():
            time.sleep(0.1)
        assert not (metrics_dir / f"gauge_livesum_{victim}.db").exists(), (
            "mark_process_dead not run"
        )
        for _ in range(5):
            assert post_new_connection(server, f"/cds-services/{service}", body).status_code == 200
        after = scrape(server)
        assert value(after, calls, service=service, status="200") == CALLS + 5
        deadline = time.monotonic() + 10  # the writers commit off the request path
        while value(after, "cds_b12_audit_queue_depth") and time.monotonic() < deadline:
            time.sleep(0.1)
            after = scrape(server)
        assert value(after, "cds_b12_audit_queue_depth") == 0  # drained, dead worker dropped
    finally:
        server.kill()


def _counters(got: dict) -> dict:
    return {k: v for k, v in got.items() if k[0].endswith(("_total", "_count", "_bucket"))}
