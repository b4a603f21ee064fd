"""``cds-b12 serve``: the app under gunicorn, built and warmed once before the workers fork.

gunicorn's threaded workers let one worker answer other calls while a call
waits on a slow EHR FHIR server; the worker class reads each request on its
event loop first (``net.worker``), so clients that send slowly hold no thread.
Preloading means each worker starts with the card wording checked and the code
paths already imported and exercised.
"""

from __future__ import annotations

import gc
import os
import shutil
import socket
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from .config import Settings
from .hooks.response import respond
from .hooks.services import discovery_document
from .net.worker import ErrorLog, HeadFirstWorker

# Objects allocated, net, between collections of the youngest generation (Python's default
# is 700). A hook call builds a few thousand containers that live until it answers: at 700,
# collections kept catching them alive, walked them and promoted them to be walked again.
GC_YOUNG_THRESHOLD = 5_000


def _warm_up_patient(as_of: date) -> list[dict]:
    """A made-up patient with a low B12 last week: enough to run reader, rules and renderer."""
    return [
        {"resourceType": "Patient", "id": "warm-up", "gender": "female"},
        {
            "resourceType": "Observation",
            "id": "warm-up-b12",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2132-9"}]},
            "effectiveDateTime": (as_of - timedelta(days=7)).isoformat(),
            "valueQuantity": {"value": 100, "unit": "pg/mL"},
        },
    ]


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.app = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.app


def warm_up(app: Flask) -> None:
    """Answer discovery and evaluate one made-up patient in-process, unaudited; a failure
    here stops start-up. Then close the store's connections: workers open their own."""
    rt = app.extensions["cds_b12"]
    response = app.test_client().get("/healthz")
    if response.status_code != 200:
        raise RuntimeError(f"warm-up: /healthz answered {response.status_code}")
    discovery_document(rt.today())
    result = respond(
        _warm_up_patient(rt.today()), profile=rt.profile, as_of=rt.today(), library=rt.cards
    )
    if not result.body["cards"]:
        raise RuntimeError("warm-up: the made-up deficient patient got no card")
    rt.db.dispose()
    # What was built so far lives as long as the process: keep the garbage collector from
    # walking it in every full collection (pauses of tens of ms under load), and let the
    # forked workers share its pages.
    gc.collect()
    gc.freeze()


def listen(host: str, port: int) -> socket.socket:
    """A bound TCP socket for gunicorn to listen on; raises ``OSError`` (in use, not an
    address of this machine, not allowed) before anything is built or printed."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def serve(
    settings: Settings,
    listener: socket.socket,
    *,
    workers: int,
    threads: int,
    announce: Callable[[], None] = lambda: None,
) -> None:
    """Build and warm the app, ``announce`` that it is ready, then run gunicorn on ``listener``."""
    if settings.metrics:
        share_metrics(settings.data_dir / "prometheus")
    from .api import create_app  # after share_metrics: prometheus_client reads it on import

    app = create_app(settings, background_audit=True)
    warm_up(app)
    announce()
    run_gunicorn(app, listener, workers=workers, threads=threads, name="cds-b12")


def share_metrics(directory: Path) -> None:
    """Let every worker's counts reach ``/metrics``: prometheus-client's multiprocess mode,
    in a directory emptied of the previous run's files (one directory per running ``serve``)."""
    directory = directory.resolve()
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def _worker_gone(_server: object, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook, in the master: drop the dead worker's live gauges
    (its counters stay, so totals survive worker restarts)."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def run_gunicorn(
    app: Flask, listener: socket.socket, *, workers: int, threads: int, name: str
) -> None:
    """The server settings, in one place: the benchmark's echo app runs under the same.

    gunicorn takes over the already bound ``listener`` (``fd://``), so it never retries
    a busy port and logs errors about it: ``listen`` reported that in one line already.
    """
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])  # the workers inherit it
    _Gunicorn(
        app,
        {
            "bind": f"fd://{listener.detach()}",
            "workers": workers,
            "threads": threads,
            "worker_class": HeadFirstWorker,
            "preload_app": True,
            "timeout": 30,
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": None,  # the app logs one JSON line per request itself
            "errorlog": "-",
            "logger_class": ErrorLog,  # no JWT or SMART code from a refused request
            "proc_name": name,
            "control_socket_disable": True,  # several instances may run on one host
            "child_exit": _worker_gone,
        },
    ).run()
