"""``GET /openapi.json``: the service described for client developers and for fuzzing.

Request schemas come from the same pydantic models that validate requests, so
the document cannot drift from what the service accepts. The card schema is the
2.0 checklist (summary under 140 characters, the indicator enum, a source).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic.json_schema import models_json_schema

from ..hooks.feedback import FeedbackBody
from ..hooks.request import CONTEXTS, Envelope
from ..hooks.services import SERVICES

bp = Blueprint("openapi", __name__)

_REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict:
    return {"$ref": _REF.format(model=name)}


_OUTCOME = {
    "type": "object",
    "description": "A FHIR OperationOutcome; `diagnostics` says what went wrong.",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code", "diagnostics"],
                "properties": {
                    "severity": {"type": "string"},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string", "minLength": 1},
                },
            },
        },
    },
}
_CARD = {
    "type": "object",
    "required": ["uuid", "summary", "indicator", "source"],
    "properties": {
        "uuid": {"type": "string", "format": "uuid"},
        "summary": {"type": "string", "minLength": 1, "maxLength": 139},
        "indicator": {"enum": ["info", "warning", "critical"]},
        "detail": {"type": "string", "minLength": 1, "description": "GitHub Markdown"},
        "source": {
            "type": "object",
            "required": ["label"],
            "properties": {"label": {"type": "string", "minLength": 1}, "url": {"type": "string"}},
        },
        "selectionBehavior": {"enum": ["at-most-one", "any"]},
        "suggestions": {"type": "array", "minItems": 1, "items": {"type": "object"}},
        "overrideReasons": {"type": "array", "minItems": 1, "items": {"type": "object"}},
    },
}
_CARDS = {
    "type": "object",
    "required": ["cards"],
    "properties": {"cards": {"type": "array", "items": _ref("Card")}},
}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "malformed request: the diagnostics name the field",
        404: "no such service",
        412: "the patient or the labs could not be had",
        413: "request body over 5 MB",
        415: "the body is not sent as application/json",
    }
    responses: dict[str, Any] = {
        str(status): _json(_ref("OperationOutcome"), text[status]) for status in statuses
    }
    responses["401"] = {"description": "no valid JWT from a trusted EHR (empty body)"}
    return responses


def openapi_document() -> dict:
    models = [
        (Envelope, "validation"),
        (FeedbackBody, "validation"),
        *((model, "validation") for model in CONTEXTS.values()),
    ]
    _, defs = models_json_schema(models, ref_template=_REF)
    schemas = {**defs["$defs"], "OperationOutcome": _OUTCOME, "Card": _CARD, "Cards": _CARDS}
    paths: dict[str, Any] = {
        "/cds-services": {
            "get": {
                "summary": "CDS Hooks discovery",
                "responses": {
                    "200": _json(
                        {"type": "object", "required": ["services"]},
                        "the services and their prefetch templates",
                    ),
                    "401": _errors()["401"],
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "readiness",
                "responses": {"200": _json({"type": "object"}, "ready")},
            }
        },
    }
    for service in SERVICES:
        context = CONTEXTS[service.hook].__name__
        request = {
            "allOf": [
                _ref("Envelope"),
                {
                    "type": "object",
                    "properties": {"hook": {"const": service.hook}, "context": _ref(context)},
                },
            ]
        }
        paths[f"/cds-services/{service.id}"] = {
            "post": {
                "summary": service.title,
                "description": service.description,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": request}},
                },
                "responses": {
                    "200": _json(_ref("Cards"), "the cards, possibly none"),
                    **_errors(400, 404, 412, 413, 415),
                },
            }
        }
        paths[f"/cds-services/{service.id}/feedback"] = {
            "post": {
                "summary": "what the clinician did with the cards",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("FeedbackBody")}},
                },
                "responses": {
                    "200": _json({"type": "object"}, "recorded"),
                    **_errors(400, 404, 413, 415),
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cds-b12",
            "version": "0.1.0",
            "description": "CDS Hooks 2.0 service for vitamin B12 therapy.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "ehrJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "security": [{"ehrJwt": []}],
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
