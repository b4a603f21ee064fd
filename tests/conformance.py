"""CDS Hooks 2.0 response checks shared by every test that sees a response.

The checklist: no null or empty member anywhere, summary under 140 characters,
the indicator enum, a source with label and url, overrideReasons with display,
selectionBehavior exactly when there are suggestions, actions with type and
description, delete by resourceId only, and suggested resources valid FHIR R4(B).
And where the official CDS Hooks examples are, for the tests that run them.
"""

from __future__ import annotations

import os
from pathlib import Path

from fhir.resources.R4B import get_fhir_model_class

INDICATORS = {"info", "warning", "critical"}


def _no_empties(value, path="$"):
    assert value is not None, path
    if isinstance(value, dict):
        assert value, path
        for key, item in value.items():
            _no_empties(item, f"{path}.{key}")
    elif isinstance(value, list):
        assert value, path
        for i, item in enumerate(value):
            _no_empties(item, f"{path}[{i}]")
    elif isinstance(value, str):
        assert value.strip(), path


def assert_valid_card(card: dict) -> None:
    _no_empties(card)
    assert len(card["summary"]) < 140
    assert card["indicator"] in INDICATORS
    assert card["source"]["label"] and card["source"]["url"].startswith("http")
    assert "{" not in card["summary"] + card["detail"]
    assert all(r["display"] for r in card["overrideReasons"])
    assert ("suggestions" in card) == ("selectionBehavior" in card)
    for link in card.get("links", []):
        assert (
            link["label"]
            and link["url"].startswith("http")
            and link["type"] in ("absolute", "smart")
        )
    for suggestion in card.get("suggestions", []):
        assert suggestion["label"] and suggestion["uuid"]
        for action in suggestion["actions"]:
            assert action["type"] in ("create", "update", "delete") and action["description"]
            if action["type"] == "delete":
                assert "resource" not in action and "/" in action["resourceId"]
            else:
                resource = action["resource"]
                get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def assert_valid_response(body: dict) -> None:
    """A whole hook response: ``{"cards": [...]}``, each card valid, nothing else empty
    (an ``extension``, when present, is a non-empty object: CDS Hooks 2.0 §extensions)."""
    assert set(body) <= {"cards", "systemActions", "extension"}, body.keys()
    if "extension" in body:
        assert isinstance(body["extension"], dict) and body["extension"]
    assert isinstance(body["cards"], list)
    for card in body["cards"]:
        assert_valid_card(card)


EXAMPLES_ENV = "CDS_HOOKS_EXAMPLES"
MISSING = (
    "the official CDS Hooks examples (an outside conformance corpus) are not here: set "
    f"{EXAMPLES_ENV}=DIR or put them at ../shared/cds-hooks-examples beside the checkout"
)


def find_examples() -> Path | None:
    """The official CDS Hooks examples, read in place and never copied into the repo:
    ``$CDS_HOOKS_EXAMPLES``, else ``shared/cds-hooks-examples`` beside the checkout or
    beside one of its parent folders. None when they are not there.

    A folder named by the variable that does not hold them is an error, not "absent":
    whoever set it meant them to run.
    """
    named = os.environ.get(EXAMPLES_ENV)
    if named:
        if not _holds_examples(Path(named)):
            raise FileNotFoundError(
                f"{EXAMPLES_ENV}={named} does not hold the official CDS Hooks examples "
                "(no spec-2.0.1/patient-view-request.json)"
            )
        return Path(named).resolve()
    root = Path(__file__).resolve().parents[1]
    for folder in root.parents:
        candidate = folder / "shared" / "cds-hooks-examples"
        if _holds_examples(candidate):
            return candidate
    return None


def _holds_examples(folder: Path) -> bool:
    return (folder / "spec-2.0.1" / "patient-view-request.json").is_file()
