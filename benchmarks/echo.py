"""The floor for the HTTP benchmark: a bare Flask app that only parses the JSON body and
answers a fixed ``{"cards": []}``, under gunicorn with the settings ``cds-b12 serve`` uses.

    python -m benchmarks.echo --port 8081 [--workers 2] [--threads 4]

It runs through ``cds_b12.serve.run_gunicorn``, so both share one set of server settings:
the ratio cds-b12 / echo only means something when they do.
"""

from __future__ import annotations

import argparse

from flask import Flask, Response, abort, jsonify, request

from cds_b12.serve import listen, run_gunicorn

MAX_BODY_BYTES = 5 * 1024 * 1024  # as cds_b12.api.MAX_BODY_BYTES


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.echo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    run_gunicorn(
        create_echo_app(),
        listen(args.host, args.port),
        workers=args.workers,
        threads=args.threads,
        name="cds-b12-echo",
    )


if __name__ == "__main__":
    main()
