"""Structured logs: one JSON line per request. Never tokens, JWTs or patient details."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from functools import lru_cache

import orjson
from flask import Flask, Response, g, request

REQUEST_LOGGER = "cds_b12.request"
# dates and dataclasses go to ``default=str``, as with json.dumps
_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class JsonLines(logging.Formatter):
    """A log record as one JSON object; request lines carry their fields in ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": f"{_utc_second(int(record.created))}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _json(line)


@lru_cache(maxsize=4)
def _utc_second(seconds: int) -> str:
    """The UTC second as text, formatted once for all the lines logged within it: ``gmtime``
    and ``strftime`` were a fifth of a request line's cost."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def _json(line: dict) -> str:
    """orjson for the usual line (json.dumps took a quarter of a request line's time, orjson a
    twentieth of that); json.dumps for a line orjson refuses or that holds non-ASCII text,
    escaped as before, so a caller's text cannot put control characters (C1, U+2028) in the log.
    """
    try:
        text = orjson.dumps(line, default=str, option=_PASSTHROUGH)
    except TypeError:  # lone surrogates, integers beyond 64 bits, keys that are not strings
        pass
    else:
        if text.isascii():
            return text.decode()
    return json.dumps(line, default=str, separators=(",", ":"))


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def configure_logging(level: str) -> None:
    """Send the service's logs to stderr as JSON lines, once per process."""
    root = logging.getLogger("cds_b12")
    root.setLevel(level)
    if not any(isinstance(h.formatter, JsonLines) for h in root.handlers):
        handler = _Stderr()
        handler.setFormatter(JsonLines())
        root.addHandler(handler)
        root.propagate = False


def annotate(**fields: object) -> None:
    """Add fields to this request's log line (service, hook, rules fired...)."""
    g.setdefault("log_fields", {}).update(fields)


def register_request_log(app: Flask) -> None:
    log = logging.getLogger(REQUEST_LOGGER)

    @app.before_request
    def start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        req = request._get_current_object()  # one context lookup, not one per field
        if req.method == "OPTIONS" or req.path == "/healthz":
            return response
        now = time.perf_counter()
        this = g._get_current_object()
        fields = {
            "method": req.method,
            "path": req.path,  # never the query string
            "client": req.remote_addr,  # behind proxies: see CDS_B12_PROXY_COUNT
            "status": response.status_code,
            "pid": os.getpid(),  # which worker answered
            "latency_ms": round((now - this.get("started", now)) * 1000, 1),
            **this.get("log_fields", {}),
        }
        # set by the proxy (deploy/nginx.conf); read from the environ, as req.headers would,
        # without the KeyError that headers.get raises and catches for a missing header
        request_id = req.environ.get("HTTP_X_REQUEST_ID")
        if request_id:
            fields["requestId"] = request_id[:100]
        if log.isEnabledFor(logging.INFO):
            # log.info without its search of the stack for the caller, which no line shows: 184 K
            # -> 69 K instructions a line
            record = log.makeRecord(
                log.name, logging.INFO, "", 0, "request", (), None, extra={"fields": fields}
            )
            log.handle(record)
        return response
