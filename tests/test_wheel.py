"""The wheel is the product: built with plain ``pip wheel``, installed into a fresh venv
outside the checkout, it evaluates a bundled patient and serves.

Nothing here can reach the checkout: the build runs on a copy of the source tree,
and the installed tool runs from a temporary folder with no PYTHONPATH, so the card
wording and the fixture patients it uses are the ones inside the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from .checkout import ROOT, copy_checkout
from .serving import ServeProcess

R1 = "R1-start-neuro-loading/pa-neuro-low-b12-fires.json"


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    home: Path  # a folder outside the checkout to run in

    @property
    def cds_b12(self) -> str:
        return str(self.venv / "bin" / "cds-b12")

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CDS_B12_", "PYTHON", "VIRTUAL_ENV"))
        }
        return {**env, "CDS_B12_DATA_DIR": str(self.home / "data"), **extra}

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=self.home, env=self.env(), capture_output=True, text=True, timeout=120
        )

    def package_path(self, relative: str) -> Path:
        """A file inside the installed package, found as the package finds it."""
        code = f"from importlib.resources import files; print(files('cds_b12') / {relative!r})"
        proc = self.run(str(self.venv / "bin" / "python"), "-c", code)
        assert proc.returncode == 0, proc.stderr
        return Path(proc.stdout.strip())


def _check(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, f"{proc.args}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("wheel")
    source = copy_checkout(work / "source")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    _check(subprocess.run([*pip, "wheel", "--no-deps", "-w", str(work / "dist"), str(source)],
                          capture_output=True, text=True, timeout=600))  # fmt: skip
    (wheel,) = (work / "dist").glob("cds_b12-*.whl")
    venv = work / "venv"
    _check(
        subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
    )
    _check(
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q",
             "install", str(wheel)],
            capture_output=True, text=True, timeout=900,
        )
    )  # fmt: skip
    home = work / "home"
    home.mkdir()
    yield Installed(wheel, venv, home)


def test_the_wheel_carries_the_wording_the_fixtures_and_the_licence(installed):
    names = zipfile.ZipFile(installed.wheel).namelist()
    cards = {Path(n).name for n in names if n.startswith("cds_b12/cards/")}
    assert {p.name for p in (ROOT / "cards").iterdir()} == cards
    fixtures = {n.removeprefix("cds_b12/fhir_fixtures/") for n in names if "fhir_fixtures/" in n}
    expected = {str(p.relative_to(ROOT / "fhir_fixtures")) for p in ROOT.glob("fhir_fixtures/**/*")}
    assert fixtures == {e for e in expected if "." in Path(e).name}  # files, not folders
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "cds_b12/store/migrations/script.py.mako" in names


def test_the_installed_tool_reads_its_own_wording_and_patients(installed):
    cards = installed.package_path("cards")
    assert cards.is_relative_to(installed.venv) and (cards / "_defaults.toml").is_file()
    assert (installed.package_path("fhir_fixtures") / R1).is_file()
    version = installed.run(installed.cds_b12, "--version")
    _check(version)
    assert version.stdout.startswith("cds-b12 ")


def test_the_installed_tool_evaluates_a_bundled_patient(installed):
    bundle = installed.package_path("fhir_fixtures") / R1
    proc = installed.run(installed.cds_b12, "evaluate", "--bundle", str(bundle), "--json")
    _check(proc)
    (card,) = json.loads(proc.stdout)["cards"]
    assert card["indicator"] == "critical" and card["summary"].startswith("Start B12")


def test_the_installed_tool_serves_until_stopped(installed):
    server = ServeProcess(
        installed.env(), installed.home / "serve.log", executable=installed.cds_b12,
        cwd=installed.home,
    ).start()  # fmt: skip
    try:
        health = requests.get(f"{server.base}/healthz", timeout=10).json()
        assert health["status"] == "ok"
        assert health["cardRules"] == len(list(ROOT.glob("cards/R*.toml")))
        patients = requests.get(f"{server.base}/preview/patients", timeout=10).json()
        assert len(patients) == len(list(ROOT.glob("fhir_fixtures/*/*.json")))
        assert requests.get(f"{server.base}/", timeout=10).status_code == 200
    finally:
        assert server.stop() == 0, server.output()[-3000:]
    assert (installed.home / "data" / "cds-b12.sqlite3").is_file()
