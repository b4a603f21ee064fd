"""``cds-b12 serve``: the app under gunicorn, built and warmed once before the workers fork.

gunicorn's threaded workers let one worker answer other calls while a call
waits on a slow EHR FHIR server; preloading means each worker starts with the
card wording checked and the code paths already imported and exercised.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from .api import create_app
from .config import Settings
from .hooks.services import SERVICES

# A small, made-up patient: enough to run reader, rules and renderer once.
_WARM_UP = {
    "hook": "patient-view",
    "hookInstance": "warm-up",
    "context": {"userId": "Practitioner/warm-up", "patientId": "warm-up"},
    "prefetch": {
        "patient": {"resourceType": "Patient", "id": "warm-up", "gender": "female"},
        "labs": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {
                "resourceType": "Observation",
                "id": "warm-up-b12",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "2132-9"}]},
                "effectiveDateTime": "2000-01-01",
                "valueQuantity": {"value": 100, "unit": "pg/mL"},
            }}],
        },
        "medicationRequests": None,
        "medicationAdministrations": None,
        "medicationStatements": None,
        "conditions": None,
        "procedures": None,
        "allergies": None,
    },
}


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
    """Answer discovery and one hook call in-process; a failure here stops start-up."""
    quiet = logging.getLogger("cds_b12.request")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        client = app.test_client()
        for path, body in (("/cds-services", None), (f"/cds-services/{SERVICES[0].id}", _WARM_UP)):
            response = client.post(path, json=body) if body else client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"warm-up call {path} answered {response.status_code}")
    finally:
        quiet.setLevel(level)


def serve(settings: Settings, *, host: str, port: int, workers: int, threads: int) -> None:
    app = create_app(settings)
    warm_up(app)
    _Gunicorn(app, {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "preload_app": True,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,  # the app logs one JSON line per request itself
        "errorlog": "-",
        "proc_name": "cds-b12",
        "control_socket_disable": True,  # several instances may run on one host
    }).run()
