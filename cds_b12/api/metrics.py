"""``GET /metrics``: Prometheus text format, counted across every gunicorn worker.

API layer: imports flask and prometheus_client. Under ``cds-b12 serve`` every worker
writes its counts to memory-mapped files in ``<data dir>/prometheus``
(prometheus-client's multiprocess mode, which the library picks when it is first
imported, so ``serve`` sets the directory before it imports the app), and a scrape
adds them up. Anywhere else (tests, the benchmark's in-process part) the counts live
in a registry of the app's own.

Label values come from closed sets only (service and rule ids, indicators, prefetch
keys, refusal categories, our own override reason codes), never from what a caller
sends: no token, patient id or free text can become a label, and the number of series
stays bounded.

Who may scrape: with ``CDS_B12_METRICS_TOKEN`` set, only a bearer of that token; else,
with trusted issuers (authentication on), nobody (404); else (loopback development)
anyone.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from ..clinical.codes import OVERRIDE_REASON_SYSTEM
from ..fatigue.policy import Hold
from ..hooks.feedback import Feedback
from ..hooks.prefetch import QUERY_BY_KEY
from ..hooks.response import HookResult
from ..hooks.services import SERVICE_BY_ID
from ..render import CardLibrary
from .runtime import Runtime, runtime

log = logging.getLogger("cds_b12.metrics")
bp = Blueprint("metrics", __name__)
EXTENSION = "cds_b12.metrics"
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# seconds; 8 is the default FHIR deadline, so calls that waited it out stand apart
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 8.0, 10.0, 20.0)
ENDPOINT_KINDS = {"services.call_service": "hook", "feedback.feedback": "feedback"}

# The refusal reasons of auth/verify.py and auth/keys.py, reduced to a category: the
# messages carry issuer names, kids and jtis, which must never become label values.
REFUSAL_CATEGORIES: tuple[tuple[str, str], ...] = (
    (r"replay store down", "replay_store_down"),
    (r"no Authorization header|Authorization is not a Bearer", "missing"),
    (r"malformed JWT|DecodeError", "malformed"),
    (r"header ", "header"),
    (r"untrusted issuer|InvalidIssuer", "issuer"),
    (r"algorithm |InvalidAlgorithm", "algorithm"),
    (r"jku |key |JWKS|JWK Set|InvalidKey|PyJWK", "key"),
    (r"InvalidSignature", "signature"),
    (r"ExpiredSignature", "expired"),
    (r"InvalidAudience", "audience"),
    (r"tenant ", "tenant"),
    (r"replayed jti", "replay"),
    (r"exp |iat |jti |ImmatureSignature|MissingRequiredClaim|InvalidIssuedAt", "claims"),
)


class Children:
    """A labelled metric's children by their label values, from a dict of our own:
    ``labels()`` takes a lock and checks its arguments on every call (about 2 µs, and a hook
    call makes three to six). The label values come from closed sets, so the dict stays small.
    """

    __slots__ = ("_children", "_metric")

    def __init__(self, metric: Counter | Histogram) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:  # two threads may both get here: labels() gives both the same child
            child = self._children[values] = self._metric.labels(*values)
        return child


class Metrics:
    """The service's metrics; one instance per app, every method cheap enough for each call."""

    def __init__(self, library: CardLibrary, registry: CollectorRegistry | None) -> None:
        def counter(name: str, doc: str, labels: Sequence[str]) -> Children:
            return Children(Counter(name, doc, labels, registry=registry))

        self.requests = counter(
            "cds_b12_hook_calls",
            "Hook calls answered, by service and HTTP status (401s included).",
            ("service", "status"),
        )
        self.latency = Children(
            Histogram(
                "cds_b12_hook_call_duration_seconds",
                "Time from request to answer of hook calls, token check included, by service.",
                ("service",),
                buckets=LATENCY_BUCKETS,
                registry=registry,
            )
        )
        self.feedback_requests = counter(
            "cds_b12_feedback_requests",
            "Feedback requests answered, by service and HTTP status (503: not stored).",
            ("service", "status"),
        )
        self.cards = counter(
            "cds_b12_cards_issued", "Cards sent, by rule id and indicator.", ("rule", "indicator")
        )
        self.held = counter(
            "cds_b12_cards_held",
            "Cards not sent, by rule id and why: snoozed, accepted, repeat, off (api/fatigue.py).",
            ("rule", "why"),
        )
        self.fetches = counter(
            "cds_b12_fhir_fetches",
            "Prefetch keys fetched from the EHR's FHIR server, by key and outcome "
            "(ok, timeout, error, refused: the server policy forbade contacting it, busy: "
            "no fallback slot for that server in time).",
            ("key", "outcome"),
        )
        self.refusals = counter(
            "cds_b12_auth_refusals",
            "Calls refused for their JWT (401), by category of reason; replay_store_down "
            "counts the 503s when the replay store cannot be reached.",
            ("reason",),
        )
        self.feedback = counter(
            "cds_b12_feedback_entries",
            "Feedback entries acknowledged (resends included), by outcome and override reason "
            "(one of our codes, other, comment-only, or none).",
            ("outcome", "reason"),
        )
        self.feedback_duplicates = Counter(
            "cds_b12_feedback_duplicates",
            "Acknowledged feedback entries that were already stored (resends).",
            registry=registry,
        )
        self.audit_queue = Gauge(
            "cds_b12_audit_queue_depth",
            "Hook call records waiting for the audit writer, summed over live workers.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.audit_failures = Counter(
            "cds_b12_audit_write_failures",
            "Hook call records that could not be stored (the cards were still sent).",
            registry=registry,
        )
        self.our_reasons = frozenset(
            reason.code
            for rule in library.rules()
            for profile in ("US", "UK")
            for reason in library.card(rule, profile).override_reasons
        )

    def hook_call(self, service: str, status: str, seconds: float | None) -> None:
        """One answered hook call; ``seconds`` from request to answer, if it was timed."""
        self.requests(service, status).inc()
        if seconds is not None:
            self.latency(service).observe(seconds)

    def hook_result(self, result: HookResult, held: Sequence[Hold] = ()) -> None:
        """The cards sent, and those held back (``held``) apart."""
        not_sent = {h.rule for h in held}
        for rec, card in zip(result.evaluation.recommendations, result.body["cards"], strict=True):
            if rec.rule not in not_sent:
                self.cards(rec.rule, card["indicator"]).inc()
        for hold in held:
            self.held(hold.rule, hold.why).inc()
        self.fetched(result.fetch_outcomes)

    def fetched(self, outcomes: Mapping[str, str]) -> None:
        """Per prefetch key, how its fallback fetch went (also for calls that end in 412)."""
        for key, outcome in outcomes.items():
            self.fetches(key if key in QUERY_BY_KEY else "other", outcome).inc()

    def feedback_stored(self, entries: Sequence[Feedback], stored: int) -> None:
        for entry in entries:
            self.feedback(entry.outcome, self._reason(entry)).inc()
        if len(entries) > stored:
            self.feedback_duplicates.inc(len(entries) - stored)

    def refused(self, reason: str) -> None:
        self.refusals(refusal_category(reason)).inc()

    def _reason(self, entry: Feedback) -> str:
        override = entry.overrideReason
        if override is None:
            return "none"
        if override.reason is None:
            return "comment-only"
        coding = override.reason
        if coding.system == OVERRIDE_REASON_SYSTEM and coding.code in self.our_reasons:
            return coding.code
        return "other"


def refusal_category(reason: str) -> str:
    """The category of a refusal message: a closed set, whatever the message carries."""
    for pattern, category in REFUSAL_CATEGORIES:
        if re.search(pattern, reason):
            return category
    return "other"


def init_app(app: Flask) -> None:
    """Count every hook and feedback call, serve ``/metrics`` and watch the audit queue."""
    rt: Runtime = app.extensions["cds_b12"]
    if not rt.settings.metrics:
        return
    shared = _multiprocess()
    registry = None if shared else CollectorRegistry()
    m = Metrics(rt.cards, registry)
    app.extensions[EXTENSION] = m
    app.config["CDS_B12_METRICS_REGISTRY"] = registry
    rt.audit.on_depth = m.audit_queue.set
    rt.audit.on_failure = m.audit_failures.inc
    if rt.verifier is not None and rt.settings.metrics_token is None:
        log.warning("GET /metrics is off: authentication is on and CDS_B12_METRICS_TOKEN is unset")
    app.register_blueprint(bp)

    @app.after_request
    def count(response: Response) -> Response:
        kind = ENDPOINT_KINDS.get(request.endpoint or "")
        if kind is None:
            return response
        service_id = (request.view_args or {}).get("service_id")
        service = service_id if service_id in SERVICE_BY_ID else "unknown"
        status = str(response.status_code)
        if kind == "feedback":
            m.feedback_requests(service, status).inc()
            return response
        started = g.get("started")  # the request log's clock (api/logs.py)
        m.hook_call(service, status, None if started is None else time.perf_counter() - started)
        return response


def metrics() -> Metrics | None:
    """This app's metrics, or None when ``CDS_B12_METRICS`` is off."""
    return current_app.extensions.get(EXTENSION)


@bp.get("/metrics")
def scrape() -> Response:
    """Prometheus text format. A bad or missing token is a bare 401 (see ``api/auth.py``)."""
    settings = runtime().settings
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            abort(401)
    elif runtime().verifier is not None:
        abort(404, "metrics need CDS_B12_METRICS_TOKEN when authentication is on")
    registry = current_app.config["CDS_B12_METRICS_REGISTRY"]
    if registry is None:  # multiprocess: add up every worker's files, dead ones included
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _multiprocess() -> bool:
    """Whether the counts are shared between processes; a wrong import order fails here."""
    if MULTIPROCESS_DIR not in os.environ:
        return False
    if values.ValueClass is values.MutexValue:
        raise RuntimeError(
            f"prometheus_client was imported before {MULTIPROCESS_DIR} was set: each "
            "worker would report only its own counts"
        )
    return True
