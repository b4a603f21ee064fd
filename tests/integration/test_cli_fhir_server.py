"""``cds-b12 evaluate --fhir-server``: a developer's view of a patient on a live R4 server.

It goes through the service's own fetch code, so it must print the cards that
``evaluate --bundle`` prints for the same patient.
"""

from __future__ import annotations

import json

import pytest

from cds_b12.cli import main

from ..conformance import assert_valid_response
from ..scenarios import scenarios
from .ehr import normalise
from .test_same_cards import NOT_QUERIED, patient_id

PATIENT_VIEW = [s for s in scenarios() if s.hook == "patient-view" and not s.messy]


@pytest.mark.parametrize("scenario", PATIENT_VIEW, ids=lambda s: s.id)
def test_fhir_server_gives_the_bundle_cards(scenario, fhir_server, as_of, capsys):
    resources, _ = scenario.data(as_of)
    assert not any(f"{r['resourceType']}/{r['id']}" in NOT_QUERIED for r in resources)
    common = ["--profile", scenario.profile, "--as-of", as_of.isoformat(), "--json"]
    assert main(["evaluate", "--bundle", str(scenario.path), *common]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert (
        main(
            [
                "evaluate",
                "--fhir-server",
                fhir_server.base,
                "--patient",
                patient_id(resources),
                *common,
            ]
        )
        == 0
    )
    got = json.loads(capsys.readouterr().out)
    assert_valid_response(got)
    assert normalise(got) == normalise(expected)


def test_fhir_server_unknown_patient_is_one_line_and_exit_2(fhir_server, capsys):
    assert main(["evaluate", "--fhir-server", fhir_server.base, "--patient", "nobody"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "cds-b12: error: Cannot evaluate without the patient record "
        "(Patient/nobody was not found on the FHIR server)"
    ]


def test_fhir_server_refusing_is_one_line_and_exit_2(fhir_server, capsys):
    base = fhir_server.fault("status=401")
    assert main(["evaluate", "--fhir-server", base, "--patient", "r1-pa-neuro-low-b12"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "401 Unauthorized" in err[0]
