"""Generated command lines never make the CLI raise: every run ends in 0 or in one line
with exit code 2 (a bug would be one line with exit code 1, and fails here).

``serve`` is generated too, but gunicorn is never started: ``serve.serve`` is replaced
by a stub, so what is exercised is everything ``serve`` checks before it starts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_b12 import cli, serve

from .scenarios import FIXTURES

R1 = str(FIXTURES / "R1-start-neuro-loading" / "pa-neuro-low-b12-fires.json")
ORDER = str(FIXTURES / "R21-cyanocobalamin-contraindicated")
COMMANDS = [
    "evaluate", "request", "schedule", "recall", "serve", "report", "purge", "db", "upgrade",
    "frobnicate",
]  # fmt: skip
OPTIONS = [
    "--bundle", "--fhir-server", "--patient", "--bearer-token-env", "--hook", "--profile",
    "--as-of", "--json", "--since", "--older-than", "--host", "--port", "--workers",
    "--threads", "--help", "--version", "-h", "--", "-", "--ics", "--ndjson", "--out",
    "--format", "--engine", "--workers", "--calendars",
]  # fmt: skip
VALUES = [
    R1, "/dev/null", "/", "", " ", "-1", "0", "1", "30", "99999999999", "1e3", "nan",
    "patient-view", "order-sign", "order-select", "US", "uk", "fr", "2026-11-21", "0001-01-01",
    "9999-12-31", "2026-02-30", "http://127.0.0.1:9/fhir", "https://[::1", "ftp://x",
    "127.0.0.1", "::1", "0.0.0.0", "localhost", "65536", "p1", "../x", "ü", "\x00", "PATH",
    "CDS_B12_TEST_UNSET", "csv", "tasks", "html", "local",
]  # fmt: skip


class _NotStarted(BaseException):  # not an Exception: main() must not report it
    pass


@pytest.fixture
def no_gunicorn(monkeypatch, tmp_path):
    """serve.serve stubbed out; and a folder of its own to run in, for whatever a generated
    command writes (schedule --ics, recall --out) under a relative name."""

    def refuse(*args, **kwargs):
        raise _NotStarted

    monkeypatch.setattr(serve, "serve", refuse)
    monkeypatch.chdir(tmp_path)


def _files(tmp: Path) -> list[str]:
    (tmp / "labs.json").write_text(json.dumps({"resourceType": "Observation", "id": "o"}))
    (tmp / "deep.json").write_text("[" * 50_000 + "]" * 50_000)
    (tmp / "bad.json").write_bytes(b"\xff\xfe{")
    return [str(tmp / name) for name in ("labs.json", "deep.json", "bad.json", "none.json")]


@settings(deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_command_lines_end_in_0_or_one_line_with_2(
    data, no_gunicorn, tmp_path_factory, capsys
):
    files = _files(tmp_path_factory.mktemp("cli-fuzz"))
    token = st.sampled_from(OPTIONS) | st.sampled_from([*VALUES, *files]) | st.text(max_size=8)
    argv = [data.draw(st.sampled_from(COMMANDS)), *data.draw(st.lists(token, max_size=8))]
    if data.draw(st.booleans()):
        argv = ["evaluate", "--bundle", data.draw(st.sampled_from([R1, *files])), *argv[1:]]
    try:
        code = cli.main(argv)
    except _NotStarted:
        return  # serve accepted everything it checks: gunicorn would start now
    _, err = capsys.readouterr()
    assert code in (0, 2), (argv, err)
    assert "Traceback" not in err
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("cds-b12") and ": error: " in lines[0], (
            argv,
            err,
        )
