"""The fixture scenarios, loaded from each folder's ``scenarios.toml`` index."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cds_b12.fhir.read import collect_resources
from cds_b12.fhir.redate import redate
from cds_b12.hooks.response import ORDER_HOOKS, split_drafts

FIXTURES = Path(__file__).resolve().parents[1] / "fhir_fixtures"
AS_OF = date(2026, 11, 21)


@dataclass(frozen=True)
class Scenario:
    path: Path
    profile: str
    hook: str
    expect: frozenset[str]
    messy: bool

    @property
    def id(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}[{self.profile}]"

    def data(self, as_of: date = AS_OF) -> tuple[list[dict], list[dict]]:
        """(resources, draft orders) redated to ``as_of``, split as the hook would send them."""
        resources = collect_resources(redate(json.loads(self.path.read_text()), as_of))
        return split_drafts(resources) if self.hook in ORDER_HOOKS else (resources, [])


def scenarios() -> list[Scenario]:
    found = []
    for index in sorted(FIXTURES.glob("*/scenarios.toml")):
        for s in tomllib.loads(index.read_text())["scenario"]:
            for profile in s["profiles"]:
                found.append(Scenario(index.parent / s["file"], profile.lower(), s["hook"],
                                      frozenset(s["expect"]), s.get("messy", False)))
    return found
