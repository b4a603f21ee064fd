"""Errors as FHIR OperationOutcomes (2.0-compatible, what 3.0 asks for); never a traceback.

401 is the exception: its body stays empty so a caller learns nothing about
why its token failed (cds-hooks-2.0 notes §8).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from ..hooks.gather import PreconditionFailed
from ..hooks.request import BadRequest
from .logs import annotate

log = logging.getLogger("cds_b12.api")

_ISSUE_CODES = {
    400: "invalid",
    404: "not-found",
    405: "not-supported",
    412: "processing",
    413: "too-costly",
    415: "not-supported",
}


def problem(status: int, message: str) -> Response:
    issue = {
        "severity": "error",
        "code": _ISSUE_CODES.get(status, "exception"),
        "diagnostics": message,
    }
    response = jsonify({"resourceType": "OperationOutcome", "issue": [issue]})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(BadRequest)
    def bad_request(exc: BadRequest) -> Response:
        annotate(reason=str(exc))
        return problem(400, str(exc))

    @app.errorhandler(PreconditionFailed)
    def precondition_failed(exc: PreconditionFailed) -> Response:
        annotate(reason=str(exc))
        return problem(412, str(exc))

    @app.errorhandler(RecursionError)
    def too_deep(exc: RecursionError) -> Response:
        return problem(400, "the request nests JSON too deeply")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 401:
            return Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        response = problem(status, exc.description or exc.name)
        if status == 405 and exc.response is None:
            response.headers["Allow"] = ", ".join(exc.valid_methods or ())  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")  # the traceback goes to the log, never to the client
        return problem(500, "internal error; the service log has the details")
