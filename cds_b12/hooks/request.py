"""The CDS Hooks 2.0 request: checked field by field, unknown fields ignored.

Only the envelope and the context fields we use are typed. Prefetch values and
draft orders stay plain JSON: the FHIR reader is tolerant of them, and the
official examples would fail a strict FHIR model (cds-hooks-2.0 notes §5.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from uuid import uuid4

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    model_validator,
)

from .fetch import FhirServer
from .services import Service

Text = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
# Only the scheme is checked here: the rest is judged by the URL policy when the server would
# be contacted (``net.urls``), so an unusable server is a 412 only when data must come from it.
Url = Annotated[str, StringConstraints(pattern=r"^(?i:https?)://", max_length=4096)]


class BadRequest(Exception):
    """The request is malformed; the message says which field and why (400)."""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class FhirAuthorization(_Lenient):
    access_token: Text
    token_type: Annotated[str, StringConstraints(pattern=r"^(?i:bearer)$")]
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None
    patient: str | None = None


class Envelope(_Lenient):
    hook: Text
    hookInstance: Text
    fhirServer: Url | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None
    extension: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _server_with_token(self) -> Envelope:
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("fhirServer is required when fhirAuthorization is present")
        return self


class PatientViewContext(_Lenient):
    userId: Text
    patientId: Text
    encounterId: str | None = None


class OrderSignContext(PatientViewContext):
    draftOrders: dict[str, Any]


class OrderSelectContext(OrderSignContext):
    # REQUIRED by the hook, but tolerated when absent: every draft is then selected
    selections: list[Text] | None = None


CONTEXTS: dict[str, type[PatientViewContext]] = {
    "patient-view": PatientViewContext,
    "order-select": OrderSelectContext,
    "order-sign": OrderSignContext,
}


# A request may name its guideline profile: one deployment can serve US and UK sites.
PROFILE_EXTENSION = "cds-b12.profile"


@dataclass(frozen=True, slots=True)
class HookCall:
    """One validated hook invocation, as the rest of the service sees it."""

    service: Service
    hook_instance: str
    patient_id: str
    context: dict[str, Any]
    prefetch: dict[str, Any]
    fhir_server: FhirServer | None
    draft_orders: dict[str, Any] | None
    profile: str | None = None  # "us" | "uk" from the request's extension; None: the default


def patient_call(service: Service, patient_id: str, server: FhirServer) -> HookCall:
    """A call with no prefetch for one patient on a FHIR server: the CLI and the timeline
    fetch through the same code as a hook call."""
    return HookCall(
        service=service,
        hook_instance=str(uuid4()),
        patient_id=patient_id,
        context={"userId": "Practitioner/cds-b12", "patientId": patient_id},
        prefetch={},
        fhir_server=server,
        draft_orders=None,
    )


def parse_call(body: object, service: Service) -> HookCall:
    """Check a request body against the 2.0 envelope and the service's hook."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    envelope = validate(Envelope, body)
    if envelope.hook != service.hook:
        raise BadRequest(
            f"hook: service '{service.id}' answers '{service.hook}', not '{envelope.hook}'"
        )
    context = validate(CONTEXTS[service.hook], envelope.context, "context.")
    server = None
    if envelope.fhirServer is not None:
        token = envelope.fhirAuthorization.access_token if envelope.fhirAuthorization else None
        server = FhirServer(envelope.fhirServer, token)
    return HookCall(
        service=service,
        hook_instance=envelope.hookInstance,
        patient_id=context.patientId,
        context=envelope.context,
        prefetch=envelope.prefetch or {},
        fhir_server=server,
        draft_orders=getattr(context, "draftOrders", None),
        profile=_profile(envelope.extension),
    )


def _profile(extension: dict[str, Any] | None) -> str | None:
    value = (extension or {}).get(PROFILE_EXTENSION)
    if value is None:
        return None
    if not isinstance(value, str) or value.lower() not in ("us", "uk"):
        raise BadRequest(f"extension.{PROFILE_EXTENSION}: must be 'us' or 'uk'")
    return value.lower()


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: object, prefix: str = "") -> M:
    """``data`` as ``model``, or a BadRequest in the one wording of every body checked here."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(_message(exc, prefix)) from None


def _message(exc: ValidationError, prefix: str) -> str:
    """``context.patientId: field required; hookInstance: ...``, at most three problems."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:3]:
        where = prefix + ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "required"
        elif err["type"] == "string_pattern_mismatch" and err["loc"][-1:] == ("token_type",):
            msg = "must be 'Bearer'"
        elif err["type"] == "string_pattern_mismatch":
            msg = "must be an http or https URL"
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)
