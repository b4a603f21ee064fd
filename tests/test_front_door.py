"""The README's front door stays true: its commands, its curl examples and its settings table."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from cds_b12.api import create_app
from cds_b12.config import ENV_PREFIX, Settings
from cds_b12.fhir.read import collect_resources
from cds_b12.fhir.redate import redate
from cds_b12.hooks.example_request import example_request
from cds_b12.store.report import report

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = ".venv/bin/python -m pytest -q"
README = (ROOT / "README.md").read_text()


def _sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)


def test_ci_runs_the_readme_test_command():
    """.ci/run runs the README's test line itself, character for character."""
    (line,) = [b for b in _sh_blocks() if b.startswith("python3 -m venv") and TEST_COMMAND in b]
    assert "\n" not in line  # one line, so copying it copies all of it
    assert 'pip install -e ".[test]"' in line and "npm ci --prefix tests/fhir_server" in line
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert line in ci


def test_readme_quickstart_serves_on_embedded_defaults():
    assert any("pip install -e . && .venv/bin/cds-b12 serve" in b for b in _sh_blocks())


def test_readme_bundle_paths_exist():
    paths = re.findall(r"--bundle (\S+\.json)", README)
    assert paths and all((ROOT / p).is_file() for p in paths)


def test_every_setting_is_documented():
    documented = set(re.findall(r"^\| `(CDS_B12_[A-Z_]+)` \|", README, flags=re.M))
    settings = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert documented == settings


def test_the_readme_feedback_example_is_accepted_and_counted(tmp_path):
    """The curl body, with the card uuid it splices in, posted to a real app: 200 and stored."""
    block = next(b for b in _sh_blocks() if "/feedback -d '" in b)
    path = re.search(r"--bundle (\S+\.json)", block).group(1)
    template = block.split("/feedback -d '", 1)[1].rsplit("'", 1)[0]
    app = create_app(Settings(data_dir=tmp_path))
    client = app.test_client()
    resources = collect_resources(redate(json.loads((ROOT / path).read_text()), date.today()))
    request = example_request(resources, hook="patient-view")
    (card,) = client.post("/cds-services/b12-patient-view", json=request).get_json()["cards"]
    body = json.loads(template.replace("""'"$card"'""", card["uuid"]))
    response = client.post("/cds-services/b12-patient-view/feedback", json=body)
    assert response.status_code == 200 and response.get_json() == {}
    (row,) = [r for r in report(app.extensions["cds_b12"].db) if r.overridden]
    assert row.rule == "R1-start-neuro-loading"
