"""``gather``: prefetch first, fetch only what is missing or failed, 412 without required data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import pytest

from cds_b12.hooks.fetch import FetchError, FetchTimeout, FhirServer, ServerPolicy
from cds_b12.hooks.gather import PreconditionFailed, gather
from cds_b12.hooks.prefetch import LOOKBACK_DAYS, QUERIES
from cds_b12.hooks.request import BadRequest, parse_call
from cds_b12.hooks.services import SERVICE_BY_ID

from ..fhir.read_support import LOINC_HB, bundle, observation, patient

AS_OF = date(2026, 1, 1)
PATIENT_ID = "p-1"
SERVER = "https://ehr.example/fhir"
REQUIRED = {q.key for q in QUERIES if q.required}
OPTIONAL = {q.key for q in QUERIES if not q.required}
WHAT = {q.key: q.what for q in QUERIES}


def outcome(severity: str = "error") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": "exception", "diagnostics": "EHR said no"}],
    }


def full_prefetch() -> dict:
    return {q.key: patient(PATIENT_ID) if q.key == "patient" else bundle() for q in QUERIES}


class FakeClient:
    """Stands in for FhirClient: records each fetch_all and answers from ``results``."""

    def __init__(self, results: Mapping[str, object] | None = None) -> None:
        self.results = dict(results or {})
        self.calls: list[tuple[FhirServer, dict[str, str]]] = []

    def fetch_all(
        self, server: FhirServer, queries: Mapping[str, str], *, base: object = None
    ) -> dict[str, object]:
        self.calls.append((server, dict(queries)))
        return {
            key: self.results.get(key, patient(PATIENT_ID) if key == "patient" else [bundle()])
            for key in queries
        }

    @property
    def fetched(self) -> set[str]:
        return {key for _, queries in self.calls for key in queries}


def call(
    prefetch: dict | None = None,
    *,
    server: bool = True,
    token: str | None = "tok",
    base: str = SERVER,
):
    body: dict = {
        "hook": "patient-view",
        "hookInstance": "h-1",
        "context": {"userId": "Practitioner/1", "patientId": PATIENT_ID},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    if server:
        body["fhirServer"] = base
        if token:
            body["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer"}
    return parse_call(body, SERVICE_BY_ID["b12-patient-view"])


def test_a_complete_prefetch_is_used_without_fetching():
    prefetch = full_prefetch()
    client = FakeClient()
    got = gather(call(prefetch), client, AS_OF)
    assert client.calls == []
    assert got.fetched == [] and got.notes == []
    assert len(got.data) == len(QUERIES)
    assert all(any(v is d for d in got.data) for v in prefetch.values())


def test_a_null_patient_is_412():
    with pytest.raises(PreconditionFailed, match="patient record") as exc:
        gather(call({**full_prefetch(), "patient": None}), FakeClient(), AS_OF)
    assert f"found no Patient/{PATIENT_ID}" in str(exc.value)


@pytest.mark.parametrize("key", sorted(OPTIONAL))
def test_a_null_optional_key_is_neither_fetched_nor_noted(key):
    client = FakeClient()
    got = gather(call({**full_prefetch(), key: None}), client, AS_OF)
    assert client.calls == [] and got.notes == [] and got.fetched == []


def test_a_null_required_search_means_no_results_not_a_failure():
    got = gather(call({**full_prefetch(), "labs": None}), FakeClient(), AS_OF)
    assert got.notes == []


@pytest.mark.parametrize("key", ["patient", "labs", "allergies"])
def test_an_operation_outcome_value_is_fetched_instead(key):
    fetched_value = patient(PATIENT_ID) if key == "patient" else [bundle()]
    client = FakeClient({key: fetched_value})
    got = gather(call({**full_prefetch(), key: outcome()}), client, AS_OF)
    assert client.fetched == {key}
    assert got.fetched == [key] and got.notes == []
    assert any(d is fetched_value for d in got.data)
    assert not any(
        isinstance(d, dict) and d.get("resourceType") == "OperationOutcome" for d in got.data
    )


@pytest.mark.parametrize("severity", ["error", "fatal"])
def test_a_bundle_with_an_error_outcome_entry_is_fetched_instead(severity):
    client = FakeClient()
    failed = bundle({"resourceType": "Observation", "id": "o1"}, outcome(severity))
    got = gather(call({**full_prefetch(), "labs": failed}), client, AS_OF)
    assert client.fetched == {"labs"} and got.fetched == ["labs"]
    assert not any(d is failed for d in got.data)


@pytest.mark.parametrize("severity", ["warning", "information"])
def test_a_bundle_with_only_a_warning_outcome_is_used(severity):
    client = FakeClient()
    warned = bundle({"resourceType": "Observation", "id": "o1"}, outcome(severity))
    got = gather(call({**full_prefetch(), "labs": warned}), client, AS_OF)
    assert client.calls == [] and any(d is warned for d in got.data)


def test_absent_keys_are_fetched_with_the_clients_server_and_token():
    prefetch = {k: v for k, v in full_prefetch().items() if k in ("patient", "conditions")}
    client = FakeClient()
    got = gather(call(prefetch, token="tok-9"), client, AS_OF)
    ((server, queries),) = client.calls
    assert server.base == SERVER and server.token == "tok-9"
    assert set(queries) == set(full_prefetch()) - {"patient", "conditions"}
    assert queries["labs"].startswith(f"Observation?patient={PATIENT_ID}&")
    since = (AS_OF - timedelta(days=LOOKBACK_DAYS)).isoformat()
    assert f"date=ge{since}" in queries["labs"]
    assert all("{" not in q for q in queries.values())
    assert set(got.fetched) == set(queries)
    assert got.notes == []


def test_a_fhir_server_without_a_token_is_still_used():
    client = FakeClient()
    gather(call({}, token=None), client, AS_OF)
    ((server, _),) = client.calls
    assert server.token is None


def test_absent_required_keys_without_a_fhir_server_are_412():
    with pytest.raises(PreconditionFailed) as exc:
        gather(call({"patient": patient(PATIENT_ID)}, server=False), FakeClient(), AS_OF)
    message = str(exc.value)
    assert WHAT["labs"] in message and "no fhirServer" in message
    assert WHAT["patient"] not in message
    for key in OPTIONAL:  # a 412 names what stopped it, not the optional extras
        assert WHAT[key] not in message


def test_absent_optional_keys_without_a_fhir_server_become_notes():
    prefetch = {k: v for k, v in full_prefetch().items() if k in REQUIRED}
    client = FakeClient()
    got = gather(call(prefetch, server=False), client, AS_OF)
    assert client.calls == []
    assert {n.resource for n in got.notes} == {WHAT[k] for k in OPTIONAL}
    assert all("not in the prefetch" in n.message for n in got.notes)


def test_a_failed_optional_fetch_becomes_a_note_naming_it():
    prefetch = {k: v for k, v in full_prefetch().items() if k != "allergies"}
    client = FakeClient({"allergies": FetchError("AllergyIntolerance search: timed out")})
    got = gather(call(prefetch), client, AS_OF)
    (note,) = got.notes
    assert note.resource == WHAT["allergies"]
    assert "timed out" in note.message
    assert got.fetched == []


def test_a_failed_required_fetch_is_412_with_the_reason():
    prefetch = {k: v for k, v in full_prefetch().items() if k != "labs"}
    client = FakeClient(
        {"labs": FetchError("Observation search: the server answered 403 Forbidden")}
    )
    with pytest.raises(PreconditionFailed, match="403 Forbidden"):
        gather(call(prefetch), client, AS_OF)


def test_a_patient_not_found_on_the_server_is_412_not_found():
    client = FakeClient(
        {"patient": FetchError("Patient/p-1: the server answered 404 Not Found", not_found=True)}
    )
    with pytest.raises(PreconditionFailed) as exc:
        gather(call({}), client, AS_OF)
    assert f"Patient/{PATIENT_ID} was not found" in str(exc.value)


def test_a_prefetch_patient_with_another_id_is_a_bad_request():
    other = patient("someone-else")
    with pytest.raises(BadRequest, match="someone-else"):
        gather(call({**full_prefetch(), "patient": other}), FakeClient(), AS_OF)


def test_a_prefetch_value_that_is_not_a_resource_is_fetched_instead():
    client = FakeClient()
    got = gather(call({**full_prefetch(), "conditions": ["not", "a", "bundle"]}), client, AS_OF)
    assert client.fetched == {"conditions"} and got.fetched == ["conditions"]


def test_a_prefetch_value_that_is_not_a_resource_without_a_server_is_noted():
    got = gather(call({**full_prefetch(), "conditions": "nope"}, server=False), FakeClient(), AS_OF)
    (note,) = got.notes
    assert note.resource == WHAT["conditions"] and "not a FHIR resource" in note.message


def test_a_template_that_cannot_be_filled_is_not_fetched(monkeypatch):
    monkeypatch.setattr(
        "cds_b12.hooks.gather.templates",
        lambda as_of: {
            q.key: ("Encounter/{{context.encounterId}}" if q.key == "procedures" else "Patient/x")
            for q in QUERIES
        },
    )
    prefetch = {k: v for k, v in full_prefetch().items() if k != "procedures"}
    client = FakeClient()
    got = gather(call(prefetch), client, AS_OF)
    assert client.calls == []
    (note,) = got.notes
    assert note.resource == WHAT["procedures"] and "cannot be filled" in note.message


ALLOWLIST = ("https://ehr.example/fhir",)


@pytest.mark.parametrize(
    "base",
    [
        "https://ehr.example/fhir",
        "https://ehr.example/fhir/",
        "https://ehr.example/fhir/r4",
    ],
)
def test_a_fhir_server_on_the_allowlist_is_used(base):
    client = FakeClient()
    got = gather(call({}, base=base), client, AS_OF, policy=ServerPolicy(ALLOWLIST))
    assert client.fetched == set(full_prefetch()) and got.notes == []


@pytest.mark.parametrize(
    "base",
    [
        "https://evil.example/fhir",
        "https://ehr.example/fhir-evil",
        "https://ehr.example",
        "http://ehr.example/fhir",
        "https://ehr.example.evil.example/fhir",
        "https://ehr.example@evil.example/fhir",
    ],
)
def test_a_fhir_server_off_the_allowlist_is_never_contacted(base):
    client = FakeClient()
    with pytest.raises(PreconditionFailed, match=r"allowlist|userinfo"):
        gather(call({}, base=base), client, AS_OF, policy=ServerPolicy(ALLOWLIST))
    assert client.calls == []


def test_off_the_allowlist_optional_keys_become_notes():
    prefetch = {k: v for k, v in full_prefetch().items() if k in REQUIRED}
    client = FakeClient()
    got = gather(
        call(prefetch, base="https://evil.example/fhir"),
        client,
        AS_OF,
        policy=ServerPolicy(ALLOWLIST),
    )
    assert client.calls == []
    assert {n.resource for n in got.notes} == {WHAT[k] for k in OPTIONAL}
    assert all("allowlist" in n.message for n in got.notes)


def test_dot_segments_cannot_climb_out_of_an_allowed_base():
    client = FakeClient()
    with pytest.raises(PreconditionFailed, match=r"'\.\.' path segment"):
        gather(
            call({}, base="https://ehr.example/fhir/../admin"),
            client,
            AS_OF,
            policy=ServerPolicy(ALLOWLIST),
        )
    assert client.calls == []


def test_each_key_wanted_from_the_server_has_an_outcome_for_the_metrics():
    client = FakeClient(
        {"labs": FetchTimeout("labs: timed out"), "conditions": FetchError("answered 500")}
    )
    prefetch = {k: v for k, v in full_prefetch().items() if k not in ("labs", "conditions")}
    prefetch["procedures"] = outcome()  # the EHR failed: fetched instead
    with pytest.raises(PreconditionFailed) as failed:
        gather(call(prefetch), client, AS_OF)  # no labs: 412, and the outcomes go with it
    assert failed.value.outcomes == {"labs": "timeout", "conditions": "error", "procedures": "ok"}
    got = gather(call({**prefetch, "labs": bundle()}), client, AS_OF)
    assert got.outcomes == {"conditions": "error", "procedures": "ok"}

    refusing = ServerPolicy(("https://other.example/fhir",))
    got = gather(call({**prefetch, "labs": bundle()}), FakeClient(), AS_OF, policy=refusing)
    assert got.outcomes == {"conditions": "refused", "procedures": "refused"}
    assert gather(call(full_prefetch()), FakeClient(), AS_OF).outcomes == {}


def other_patients_lab() -> dict:
    return observation("theirs", LOINC_HB, subject={"reference": "Patient/someone-else"})


def test_a_fetched_search_that_ignored_the_patient_parameter_loses_the_other_entries():
    mine = observation("mine", LOINC_HB, subject={"reference": f"Patient/{PATIENT_ID}"})
    client = FakeClient({"labs": [bundle(mine, other_patients_lab())]})
    got = gather(call({k: v for k, v in full_prefetch().items() if k != "labs"}), client, AS_OF)
    (labs,) = [d for d in got.data if isinstance(d, list)]
    assert [e["resource"]["id"] for e in labs[0]["entry"]] == ["mine"]
    assert [(n.resource, n.message) for n in got.notes] == [
        ("Observation/theirs", "left out: it is another patient's record entry")
    ]


def test_a_prefetched_bundle_loses_other_patients_entries_too():
    got = gather(
        call({**full_prefetch(), "labs": bundle(other_patients_lab())}), FakeClient(), AS_OF
    )
    assert [n.resource for n in got.notes] == ["Observation/theirs"]
    assert not any(
        e["resource"]["id"] == "theirs"
        for d in got.data
        if isinstance(d, dict) and d.get("resourceType") == "Bundle"
        for e in d.get("entry", [])
    )


def test_a_fetched_patient_read_that_gives_another_patient_is_412():
    client = FakeClient({"patient": patient("someone-else")})
    with pytest.raises(PreconditionFailed, match=f"the read of Patient/{PATIENT_ID} gave another"):
        gather(call({k: v for k, v in full_prefetch().items() if k != "patient"}), client, AS_OF)
