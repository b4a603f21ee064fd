"""A mock EHR: builds CDS Hooks requests the way a client does, and compares the answers.

The prefetch is built like an EHR builds it: read the service's discovery entry,
fill each template's tokens from the context and GET it from the FHIR server.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from uuid import uuid4

import requests
from flask.testing import FlaskClient

from cds_b12.hooks.prefetch import expand
from cds_b12.hooks.response import ORDER_HOOKS

from ..conformance import assert_valid_response

USER_ID = "Practitioner/example"
TOKEN = "integration-test-token"  # the test server ignores it; the service must send it along


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict


def operation_outcome(text: str = "prefetch failed in the EHR") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "exception", "diagnostics": text}],
    }


def bundle_with_outcome(text: str = "search failed in the EHR") -> dict:
    """How some EHRs report a failed prefetch search: a Bundle carrying an error outcome."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 0,
        "entry": [{"resource": operation_outcome(text), "search": {"mode": "outcome"}}],
    }


def is_empty_search(value: object) -> bool:
    return (
        isinstance(value, dict) and value.get("resourceType") == "Bundle" and not value.get("entry")
    )


class MockEhr:
    """Sends hook calls to one app, naming ``fhir_base`` as its FHIR server."""

    def __init__(self, client: FlaskClient, fhir_base: str | None) -> None:
        self.client = client
        self.fhir_base = fhir_base
        self._discovery: dict[str, dict] | None = None

    def service(self, hook: str) -> dict:
        """The app's discovery entry for ``hook``."""
        if self._discovery is None:
            resp = self.client.get("/cds-services")
            assert resp.status_code == 200, resp.text
            self._discovery = {s["hook"]: s for s in resp.get_json()["services"]}
        return self._discovery[hook]

    def request(
        self,
        hook: str,
        patient_id: str,
        *,
        drafts: Iterable[dict] = (),
        prefetch: Mapping[str, object] | None = None,
    ) -> dict:
        """A complete hook request; no ``prefetch`` member when ``prefetch`` is None."""
        context: dict = {"userId": USER_ID, "patientId": patient_id}
        if hook in ORDER_HOOKS:
            drafts = [copy.deepcopy(d) for d in drafts]
            context["draftOrders"] = {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": d} for d in drafts],
            }
            if hook == "order-select":
                context["selections"] = [f"{d['resourceType']}/{d['id']}" for d in drafts]
        body: dict = {"hook": hook, "hookInstance": str(uuid4()), "context": context}
        if self.fhir_base is not None:
            body["fhirServer"] = self.fhir_base
            body["fhirAuthorization"] = {
                "access_token": TOKEN,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "user/*.read",
                "subject": "cds-b12",
            }
        if prefetch is not None:
            body["prefetch"] = dict(prefetch)
        return body

    def prefetch(self, hook: str, patient_id: str, fhir_base: str) -> dict[str, object]:
        """Every discovery template, expanded and fetched from ``fhir_base`` (one page each)."""
        context = self.request(hook, patient_id)["context"]
        found: dict[str, object] = {}
        for key, template in self.service(hook)["prefetch"].items():
            relative = expand(template, context)
            assert relative is not None, f"{key}: {template} cannot be filled from {context}"
            resp = requests.get(
                f"{fhir_base}/{relative}", timeout=30, headers={"Accept": "application/fhir+json"}
            )
            assert resp.status_code == 200, f"{key}: {resp.status_code} {resp.text[:300]}"
            value = resp.json()
            links = value.get("link", []) if value.get("resourceType") == "Bundle" else []
            assert not any(link.get("relation") == "next" for link in links), (
                f"{key}: more than one page; this mock EHR sends only the first"
            )
            found[key] = value
        return found

    def call(self, body: dict, service_id: str | None = None) -> Answer:
        """POST to the service for the request's hook (or to ``service_id``).

        Every 200 is checked for CDS Hooks conformance.
        """
        service_id = service_id or self.service(body["hook"])["id"]
        resp = self.client.post(f"/cds-services/{service_id}", json=body)
        answer = Answer(resp.status_code, resp.get_json())
        if answer.status == 200:
            assert_valid_response(answer.body)
        return answer


def assert_outcome(answer: Answer, status: int) -> str:
    """A ``status`` answer carrying an OperationOutcome; returns its diagnostics."""
    assert answer.status == status, answer.body
    assert answer.body["resourceType"] == "OperationOutcome", answer.body
    diagnostics = " ".join(i.get("diagnostics", "") for i in answer.body["issue"]).strip()
    assert diagnostics
    assert "Traceback" not in diagnostics and 'File "' not in diagnostics, diagnostics
    return diagnostics


def normalise(body: dict) -> list[dict]:
    """The cards without what is new on every call: card and suggestion uuids, new resource ids,
    and the timeline link (it names the FHIR server the data came from).

    An ``update`` keeps its id (it is the draft's own id); only ``create`` ids are fresh. An
    update of an order read from a FHIR server carries that server's ``meta`` (version and
    time of the copy it changes), which a bundle's copy does not have.
    """
    cards = copy.deepcopy(body["cards"])
    for card in cards:
        card.pop("uuid", None)
        card.pop("links", None)
        for suggestion in card.get("suggestions", []):
            suggestion.pop("uuid", None)
            for action in suggestion.get("actions", []):
                if action.get("type") == "create":
                    action.get("resource", {}).pop("id", None)
                elif action.get("type") == "update":
                    action.get("resource", {}).pop("meta", None)
    return cards


def without_note(card: dict, note: str) -> dict:
    """The card without the data-quality items containing ``note`` (and the heading, if no
    item is left), for comparing cards that differ only by that note."""
    card = dict(card)
    blocks = card["detail"].split("\n\n")
    for i in range(1, len(blocks)):
        if not blocks[i - 1].startswith("**Data quality:**"):
            continue
        kept = [item for item in blocks[i].split("\n") if note not in item]
        blocks[i] = "\n".join(kept)
        if not kept:
            del blocks[i - 1 : i + 1]
        break
    card["detail"] = "\n\n".join(blocks)
    return card
