"""Part 1: one hook call in-process, beside the JSON floor for the same request and response.

Three timings per patient size, each over the same request bytes:

- ``service``: a POST through Flask's test client, the whole HTTP code path minus the
  socket: JSON parse, request validation, gather + evaluate + render, handing the audit
  row to the writer thread, the request log line, jsonify;
- ``evaluate``: ``json.loads`` + ``parse_call`` + ``invoke`` only (no Flask, no audit);
- ``floor``: ``json.loads(request bytes)`` + ``json.dumps(response)``, what any Python
  service must spend to read this request and write this answer;
- ``audit``: the audit row alone (``record_calls``), as the writer thread writes it;
- ``fatigue``: what alert-fatigue control adds to a call (``api/fatigue.py``): the facts'
  hashes, the one history query and the decisions, for a patient with ``HISTORY_CALLS``
  earlier calls of which ``HISTORY_ANSWERED`` were answered.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from flask import Flask

from cds_b12.api import create_app
from cds_b12.config import Settings
from cds_b12.fatigue.fingerprint import fingerprints
from cds_b12.fatigue.policy import Policy, decide, is_critical
from cds_b12.hooks.feedback import parse_feedback
from cds_b12.hooks.invoke import invoke
from cds_b12.hooks.request import parse_call
from cds_b12.hooks.services import SERVICE_BY_ID
from cds_b12.serve import GC_YOUNG_THRESHOLD, warm_up
from cds_b12.store.history import history
from cds_b12.store.pseudonym import patient_key
from cds_b12.store.records import CallRecord, record_calls, record_feedback

from .patients import SIZES, fresh_calls, hook_request, service_path
from .stats import Timing, time_calls

HISTORY_CALLS = 100  # about a chart opened every few days for a year
HISTORY_ANSWERED = 10


class BrokenPath(AssertionError):
    """The service did not answer a benchmark request with 200 and at least one card."""


@dataclass(frozen=True, slots=True)
class Iterations:
    count: int
    warmup: int
    budget_s: float  # stop early once this much time is spent on one timing


PLANS: dict[str, dict[str, Iterations]] = {
    "full": {
        "typical": Iterations(2000, 200, 20),
        "heavy": Iterations(300, 20, 30),
        "order-sign": Iterations(2000, 200, 20),
    },
    "quick": {
        "typical": Iterations(400, 50, 5),
        "heavy": Iterations(60, 5, 5),
        "order-sign": Iterations(400, 50, 5),
    },
    "smoke": {
        "typical": Iterations(100, 10, 0.5),
        "heavy": Iterations(5, 1, 0.5),
        "order-sign": Iterations(50, 5, 0.5),
    },
}


@dataclass(frozen=True, slots=True)
class SizeResult:
    size: str
    request_kb: float
    resources: int
    cards: int
    rules: tuple[str, ...]
    service: Timing
    evaluate: Timing
    floor: Timing
    audit: Timing
    fatigue: Timing

    @property
    def ratio(self) -> float:
        """Median service time over median floor: how many floors one call costs."""
        return self.service.median / self.floor.median

    @property
    def evaluate_ratio(self) -> float:
        return self.evaluate.median / self.floor.median

    @property
    def cpu_ratio(self) -> float:
        """The same in CPU time of the calling thread, which a busy machine inflates less."""
        return self.service.cpu_median / self.floor.cpu_median

    @property
    def evaluate_cpu_ratio(self) -> float:
        return self.evaluate.cpu_median / self.floor.cpu_median


@contextlib.contextmanager
def without_service_env() -> Iterator[None]:
    """Hide any ``CDS_B12_*`` settings of the caller's shell while the app is built."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("CDS_B12_")}
    try:
        yield
    finally:
        os.environ.update(saved)


@contextlib.contextmanager
def as_serve_runs_it(app: Flask) -> Iterator[None]:
    """The heap as a ``serve`` worker has it: warmed up and frozen (``serve.warm_up``), with
    ``serve``'s young-generation threshold. Both are put back afterwards: the smoke test
    runs this inside pytest."""
    threshold = gc.get_threshold()
    warm_up(app)
    gc.set_threshold(GC_YOUNG_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """The service logs one JSON line per request to stderr; send them to /dev/null
    (still formatted and written, as in production) so the table stays readable."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        yield


def count_resources(body: dict) -> int:
    total = 0
    for value in [*body.get("prefetch", {}).values(), body["context"].get("draftOrders")]:
        if isinstance(value, dict):
            total += len(value.get("entry", [])) if value.get("resourceType") == "Bundle" else 1
    return total


def run(
    data_dir: Path, as_of: date, plan: str = "full", sizes: tuple[str, ...] = SIZES
) -> list[SizeResult]:
    with without_service_env():
        # as `cds-b12 serve` runs it: the audit row is written by the writer thread
        app = create_app(Settings(data_dir=data_dir), today=lambda: as_of, background_audit=True)
    try:
        with quiet_stderr(), as_serve_runs_it(app):
            return [measure(app, size, as_of, PLANS[plan][size]) for size in sizes]
    finally:
        app.extensions["cds_b12"].audit.flush()
        app.extensions["cds_b12"].db.dispose()


def measure(app: Flask, size: str, as_of: date, it: Iterations) -> SizeResult:
    client = app.test_client()
    rt = app.extensions["cds_b12"]
    body = hook_request(size, as_of)
    raw = json.dumps(body).encode()
    path = service_path(size)
    service = SERVICE_BY_ID[path.rsplit("/", 1)[1]]

    fresh = fresh_calls(raw)

    def checked() -> dict:
        """A benchmark of a broken path is worthless: 200 with at least one card, or stop."""
        answer = client.post(path, data=fresh(), content_type="application/json")
        payload = answer.get_json(silent=True) or {}
        if answer.status_code != 200 or not payload.get("cards"):
            raise BrokenPath(
                f"{size}: {answer.status_code} with "
                f"{len(payload.get('cards', []))} cards: "
                f"{answer.get_data(as_text=True)[:300]}"
            )
        return payload

    payload = checked()
    once = invoke(
        parse_call(json.loads(raw), service),
        profile=rt.profile,
        library=rt.cards,
        client=rt.client,
        as_of=as_of,
    )
    rules = tuple(rec.rule for rec in once.evaluation.recommendations)
    key = patient_key(rt.pseudonym_key, body["context"]["patientId"])

    def post() -> None:
        client.post(path, data=fresh(), content_type="application/json")

    def evaluate() -> None:
        call = parse_call(json.loads(raw), service)
        invoke(
            call,
            profile=rt.profile,
            library=rt.cards,
            client=rt.client,
            as_of=as_of,
            policy=rt.server_policy(None),
        )

    def floor() -> None:
        json.loads(raw)
        json.dumps(payload, separators=(",", ":"))

    def audit() -> None:
        # what cds_b12.api.services._audit writes, without the request context
        cards = [
            (rule, {**card, "uuid": str(uuid4())})
            for rule, card in zip(rules, once.body["cards"], strict=True)
        ]
        record_calls(
            rt.db,
            [
                CallRecord(
                    service_id=service.id,
                    hook=service.hook,
                    hook_instance=body["hookInstance"],
                    issuer=None,
                    tenant=None,
                    patient_key=key,
                    profile=rt.profile.name,
                    cards=cards,
                )
            ],
        )

    answered = f"{key}-history"  # another patient key: the audit timing adds rows to ``key``
    seed_history(rt, service.id, answered, once.body["cards"], rules)
    policy = Policy()

    def fatigue() -> None:
        facts = fingerprints(once.evaluation)
        past = history(
            rt.db,
            patient_key=answered,
            issuer=None,
            tenant=None,
            hook_instance="benchmark-new-instance",
            encounter=None,
            since=datetime.now(UTC) - policy.lookback,
        )
        now = datetime.now(UTC)
        for rule, card in zip(rules, once.body["cards"], strict=True):
            critical = is_critical(rule, card["indicator"])
            decide(
                rule,
                facts[rule],
                critical=critical,
                now=now,
                hook_instance="benchmark-new-instance",
                encounter=None,
                past=past,
                policy=policy,
            )

    def timed(fn: Callable[[], None]) -> Timing:
        return time_calls(fn, iterations=it.count, warmup=it.warmup, budget_s=it.budget_s)

    service_timing = timed(post)
    checked()  # still answered with cards after all those calls
    return SizeResult(
        size=size,
        request_kb=len(raw) / 1024,
        resources=count_resources(body),
        cards=len(payload["cards"]),
        rules=rules,
        service=service_timing,
        evaluate=timed(evaluate),
        floor=timed(floor),
        audit=timed(audit),
        fatigue=timed(fatigue),
    )


def seed_history(rt, service_id: str, key: str, cards: list[dict], rules: tuple[str, ...]) -> None:
    """``HISTORY_CALLS`` calls for patient ``key`` over the past year, with the same cards,
    the last ``HISTORY_ANSWERED`` of them overridden with a reason."""
    now = datetime.now(UTC)
    calls = [
        CallRecord(
            service_id=service_id,
            hook="patient-view",
            hook_instance=str(uuid4()),
            issuer=None,
            tenant=None,
            patient_key=key,
            profile=rt.profile.name,
            cards=[
                (rule, {**card, "uuid": str(uuid4())})
                for rule, card in zip(rules, cards, strict=True)
            ],
            received_at=now - timedelta(days=3 * (HISTORY_CALLS - n)),
        )
        for n in range(HISTORY_CALLS)
    ]
    record_calls(rt.db, calls)
    answered = [
        {
            "card": call.cards[0][1]["uuid"],
            "outcome": "overridden",
            "overrideReason": {"reason": {"code": "clinical-judgement"}},
            "outcomeTimestamp": call.received_at.isoformat(),
        }
        for call in calls[-HISTORY_ANSWERED:]
    ]
    record_feedback(
        rt.db, service_id, parse_feedback({"feedback": answered}), issuer=None, tenant=None
    )
