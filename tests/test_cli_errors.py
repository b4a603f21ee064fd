"""Every user error on the command line is one line on stderr and exit code 2.

Bad options and values, bad files, bad settings (checked the same way by every
command), a port in use, a closed pipe, and a bug: none of them prints a
traceback. In-process through ``main`` where that is enough; as a real process
where the terminal's view matters (pipes, sockets, start-up).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from cds_b12 import cli
from cds_b12.commands import evaluate as evaluate_module

from .scenarios import FIXTURES

R1 = FIXTURES / "R1-start-neuro-loading" / "pa-neuro-low-b12-fires.json"
CDS_B12 = str(Path(sys.executable).parent / "cds-b12")
PATIENT = {"resourceType": "Patient", "id": "p1"}
B12 = {
    "resourceType": "Observation",
    "id": "b12",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "2132-9"}]},
    "valueQuantity": {"value": 90, "unit": "pg/mL"},
}
OTHER_PATIENT = {"resourceType": "Patient", "id": "p2"}


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cds-b12") and ": error: " in lines[0], lines[0]
    assert "Traceback" not in err
    return lines[0]


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(data))
    return str(path)


# (argv, what the line must say); "{R1}" stands for a good fixture bundle
USAGE = [
    ([], "required: COMMAND"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["evaluate"], "one of the arguments --bundle --fhir-server is required"),
    (["evaluate", "--bundle", "{R1}", "--hook", "foo"], "argument --hook: invalid choice"),
    (["evaluate", "--bundle", "{R1}", "--profile", "fr"], "argument --profile: invalid choice"),
    (["evaluate", "--bundle", "{R1}", "--as-of", "yesterday"], "not a date (YYYY-MM-DD)"),
    (["evaluate", "--bundle", "{R1}", "--as-of", "9999-12-31"], "must be from 1900-01-01"),
    (["evaluate", "--bundle", "{R1}", "--no-such-option"], "unrecognized arguments"),
    (["evaluate", "--bundle", ""], "--bundle needs a file name"),
    (["evaluate", "--bundle", "two\nlines.json"], "cannot read two\\nlines.json"),
    (["evaluate", "--bundle", "{R1}", "--hook", "x\ny"], "invalid choice: 'x\\ny'"),
    (["report", "un\nknown"], "unrecognized arguments: un\\nknown"),
    (["evaluate", "--bundle", "{R1}", "--patient", "p1"], "--patient goes with --fhir-server"),
    (
        ["evaluate", "--bundle", "{R1}", "--bearer-token-env", "TOKEN"],
        "--bearer-token-env goes with --fhir-server",
    ),
    (["evaluate", "--fhir-server", "http://[::1", "--patient", "p"], "http or https URL"),
    (["evaluate", "--fhir-server", "http://a b/", "--patient", "p"], "http or https URL"),
    (["evaluate", "--fhir-server", "file:///etc", "--patient", "p"], "http or https URL"),
    (
        ["evaluate", "--fhir-server", "http://127.0.0.1:1\\@127.0.0.1:2/", "--patient", "p"],
        "backslash",
    ),
    (["evaluate", "--fhir-server", "http://u:p@127.0.0.1/fhir", "--patient", "p"], "userinfo"),
    (["request", "--bundle", "{R1}", "--as-of", "3000-01-01"], "must be from 1900-01-01"),
    (["report", "--since", "2026-13-01"], "not a date (YYYY-MM-DD)"),
    (["purge"], "required: --older-than"),
    (["purge", "--older-than", "x"], "not a whole number"),
    (["db"], "required: ACTION"),
    (["serve", "--port", "70000"], "not a port number"),
    (["serve", "--workers", "0"], "must be at least 1"),
    (["serve", "--threads", "many"], "not a whole number"),
    (["serve", "--host", " "], "needs an address or host name"),
]


@pytest.mark.parametrize(("argv", "says"), USAGE, ids=lambda v: " ".join(v) or "none")
def test_a_usage_error_is_one_line_and_exit_2(argv, says, capsys):
    assert cli.main([str(R1) if a == "{R1}" else a for a in argv]) == 2
    line = one_error_line(capsys)
    assert says in line
    if argv:  # it says where to read more
        assert "--help)" in line or line.startswith("cds-b12: error: ")


@pytest.mark.parametrize("command", ["evaluate", "request"])
@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([B12], "no Patient with an id"),
        (
            {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": B12}]},
            "no Patient",
        ),
        ([{"resourceType": "Patient"}, B12], "no Patient with an id"),
        ([PATIENT, OTHER_PATIENT, B12], "2 Patients (p1, p2)"),
    ],
    ids=["only-labs", "bundle-without-patient", "patient-without-id", "two-patients"],
)
def test_a_file_without_exactly_one_patient_is_an_error(command, data, says, tmp_path, capsys):
    """ "No cards" would read as "this patient is fine": without a patient it is an error."""
    assert cli.main([command, "--bundle", write(tmp_path, data)]) == 2
    assert says in one_error_line(capsys)


EVERY_COMMAND = [
    ["evaluate", "--bundle", str(R1)],
    ["request", "--bundle", str(R1)],
    ["report"],
    ["purge", "--older-than", "30"],
    ["db", "upgrade"],
    ["serve", "--port", "0"],
]


@pytest.mark.parametrize("argv", EVERY_COMMAND, ids=lambda a: a[0])
@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("CDS_B12_PROFILE", "fr", "CDS_B12_PROFILE: Input should be 'us' or 'uk'"),
        ("CDS_B12_CARDS_DIR", "/no/such/cards", "CDS_B12_CARDS_DIR: not a directory"),
        ("CDS_B12_FHIR_DEADLINE", "soon", "CDS_B12_FHIR_DEADLINE:"),
        ("CDS_B12_LOG_LEVEL", "chatty", "CDS_B12_LOG_LEVEL:"),
    ],
    ids=lambda v: v if v.startswith("CDS_") else None,
)
def test_every_command_refuses_a_bad_setting_the_same_way(
    argv, name, value, says, monkeypatch, capsys
):
    """One rule: each command checks every CDS_B12_* setting, used by it or not."""
    monkeypatch.setenv(name, value)
    assert cli.main(argv) == 2
    assert one_error_line(capsys).startswith(f"cds-b12: error: {says}")


@pytest.mark.parametrize("argv", [EVERY_COMMAND[0], ["serve", "--port", "0"]], ids=lambda a: a[0])
def test_card_wording_that_cannot_be_loaded_is_one_line(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CDS_B12_CARDS_DIR", str(tmp_path))  # a folder without the wording
    # serve sets it for its workers' metrics; restored afterwards, as it was (unset)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    assert cli.main(argv) == 2
    assert "missing wording file" in one_error_line(capsys)


def test_a_data_dir_that_is_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CDS_B12_DATA_DIR", str(blocker))
    assert cli.main(["report"]) == 2
    assert f"cannot use {blocker}" in one_error_line(capsys)


@pytest.mark.parametrize("token", ["two\nlines", "spa ce", "naïve"])
def test_a_token_that_is_not_a_bearer_token_is_refused_unseen(token, monkeypatch, capsys):
    monkeypatch.setenv("CDS_B12_TEST_TOKEN", token)
    argv = ["evaluate", "--fhir-server", "http://127.0.0.1:9/fhir", "--patient", "p1"]
    assert cli.main([*argv, "--bearer-token-env", "CDS_B12_TEST_TOKEN"]) == 2
    line = one_error_line(capsys)
    assert "does not hold a bearer token" in line and token not in line


def test_the_profile_setting_is_evaluates_default_and_the_option_wins(monkeypatch, capsys):
    def drug(argv: list[str]) -> str:
        assert cli.main([*argv, "--bundle", str(R1), "--json", "--as-of", "2026-11-21"]) == 0
        (card,) = json.loads(capsys.readouterr().out)["cards"]
        resource = card["suggestions"][0]["actions"][0]["resource"]
        return resource["medicationCodeableConcept"]["coding"][0]["code"]

    monkeypatch.setenv("CDS_B12_PROFILE", "uk")
    assert drug(["evaluate"]) == "317106"  # hydroxocobalamin, the UK profile
    assert drug(["evaluate", "--profile", "us"]) == "309594"  # cyanocobalamin


def test_a_bug_is_one_line_with_exit_1_and_its_traceback_on_request(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("something no user can fix")

    monkeypatch.setattr(evaluate_module, "print_cards", broken)
    assert cli.main(["evaluate", "--bundle", str(R1)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "cds-b12: error: internal error (RuntimeError: something no user can fix); please "
        "report it. CDS_B12_LOG_LEVEL=DEBUG shows the traceback"
    ]
    monkeypatch.setenv("CDS_B12_LOG_LEVEL", "DEBUG")
    with pytest.raises(RuntimeError, match="no user can fix"):
        cli.main(["evaluate", "--bundle", str(R1)])


def test_version_is_the_installed_distributions(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"cds-b12 {version('cds-b12')}\n"


@pytest.mark.parametrize(
    "argv",
    [["evaluate", "--bundle", str(R1)], ["evaluate", "--bundle", str(R1), "--json"]],
    ids=["text", "json"],
)
def test_a_closed_pipe_ends_quietly(argv):
    """``cds-b12 evaluate ... | head``: the reader is gone before the first write."""
    with subprocess.Popen([CDS_B12, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 141  # 128 + SIGPIPE, as a shell reports a cut-off command
    assert err == b""


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        proc = subprocess.run(
            [CDS_B12, "serve", "--port", str(port)],
            env={"PATH": "/usr/bin:/bin", "CDS_B12_DATA_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"cds-b12: error: cannot listen on 127.0.0.1:{port}: the port is in use "
        "(is another server running?)"
    ]
    assert time.monotonic() - started < 30  # no retrying, as gunicorn does for 5 s
    assert not (tmp_path / "cds-b12.sqlite3").exists()  # nothing was built
