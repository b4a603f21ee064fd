"""The floor for the HTTP benchmark: a bare Flask app that only parses the JSON body and
answers a fixed ``{"cards": []}``, under gunicorn with the settings ``cds-b12 serve`` uses.

    python -m benchmarks.echo --port 8081 [--workers 2] [--threads 4]

Keep ``GUNICORN_OPTIONS`` in step with ``cds_b12/serve.py``: the ratio cds-b12 / echo
only means something when both run under the same server settings.
"""

from __future__ import annotations

import argparse
from typing import Any

from flask import Flask, Response, abort, jsonify, request
from gunicorn.app.base import BaseApplication

MAX_BODY_BYTES = 5 * 1024 * 1024  # as cds_b12.api.MAX_BODY_BYTES

# cds_b12/serve.py, except the bind address, worker counts and process name
GUNICORN_OPTIONS: dict[str, Any] = {
    "worker_class": "gthread",
    "preload_app": True,
    "timeout": 30,
    "graceful_timeout": 10,
    "keepalive": 5,
    "accesslog": None,
    "errorlog": "-",
    "control_socket_disable": True,
}


def create_echo_app() -> Flask:
    app = Flask("cds_b12_echo")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]

    @app.post("/cds-services/<service_id>")
    def call_service(service_id: str) -> Response:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            abort(400)
        return jsonify({"cards": []})

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    return app


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.echo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    _Gunicorn(create_echo_app(), {
        **GUNICORN_OPTIONS,
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers,
        "threads": args.threads,
        "proc_name": "cds-b12-echo",
    }).run()


if __name__ == "__main__":
    main()
