"""The README's front door stays true: its commands, its curl example and its settings table."""

from __future__ import annotations

import re
from pathlib import Path

from cds_b12.config import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = ".venv/bin/python -m pytest -q"
README = (ROOT / "README.md").read_text()


def _sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = _sh_blocks()
    test_block = next(b for b in blocks if TEST_COMMAND in b)
    assert 'pip install -e ".[test]"' in test_block
    assert "npm ci --prefix tests/fhir_server" in test_block
    assert TEST_COMMAND in ci and '-e ".[test]"' in ci
    assert "npm ci --prefix tests/fhir_server" in ci


def test_readme_quickstart_serves_on_embedded_defaults():
    assert any("pip install -e . && .venv/bin/cds-b12 serve" in b for b in _sh_blocks())


def test_readme_bundle_paths_exist():
    paths = re.findall(r"--bundle (\S+\.json)", README)
    assert paths and all((ROOT / p).is_file() for p in paths)


def test_every_setting_is_documented():
    documented = set(re.findall(r"^\| `(CDS_B12_[A-Z_]+)` \|", README, flags=re.M))
    settings = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert documented == settings
