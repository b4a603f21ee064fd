"""``FhirClient`` over a real socket: headers, paging, retries, failures, timeouts, deadline."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cds_b12.hooks.fetch import FetchError, FetchTimeout, FhirClient, FhirServer, Limits
from cds_b12.net.http import HttpError
from cds_b12.net.urls import parse

from ..net.support import DroppingServer
from ..serving import free_port

TOKEN = "tok-abc-123"
PATIENT = {"resourceType": "Patient", "id": "1"}
FHIR_JSON = "application/fhir+json"


def page(n: int, next_url: str | None = None) -> dict:
    bundle: dict = {
        "resourceType": "Bundle",
        "type": "searchset",
        "id": f"page-{n}",
        "entry": [{"resource": {"resourceType": "Observation", "id": f"o{n}"}}],
    }
    if next_url:
        bundle["link"] = [
            {"relation": "self", "url": "ignored"},
            {"relation": "next", "url": next_url},
        ]
    return bundle


@dataclass
class Harness:
    """Builds clients, and slow handlers that the teardown releases, so nothing lingers."""

    server: HTTPServer
    release: threading.Event = field(default_factory=threading.Event)
    clients: list[FhirClient] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.server.url_for("/fhir")

    def fhir(self, token: str | None = TOKEN) -> FhirServer:
        return FhirServer(self.base, token)

    def client(self, **limits: float) -> FhirClient:
        settings = {
            "connect_timeout": 1.0,
            "read_timeout": 2.0,
            "deadline": 3.0,
            "max_pages": 10,
            **limits,
        }
        client = FhirClient(Limits(**settings))
        self.clients.append(client)
        return client

    def slow(self, seconds: float, body: dict) -> Callable[[Request], Response]:
        def handler(_request: Request) -> Response:
            self.release.wait(seconds)
            return Response(json.dumps(body), content_type=FHIR_JSON)

        return handler

    def requests(self) -> list[Request]:
        return [request for request, _ in self.server.log]

    def close(self) -> None:
        self.release.set()
        for thread in threading.enumerate():
            if thread.name.startswith("fhir-fetch"):
                thread.join(timeout=5)
        for client in self.clients:
            client.session.close()


@pytest.fixture
def h(httpserver: HTTPServer) -> Iterator[Harness]:
    harness = Harness(httpserver)
    yield harness
    harness.close()


def fetch_one(h: Harness, query: str, *, token: str | None = TOKEN, **limits: float) -> object:
    return h.client(**limits).fetch_all(h.fhir(token), {"key": query})["key"]


def test_a_read_sends_the_bearer_token_and_asks_for_fhir_json(h):
    h.server.expect_request(
        "/fhir/Patient/1",
        method="GET",
        headers={"Authorization": f"Bearer {TOKEN}", "Accept": FHIR_JSON},
    ).respond_with_json(PATIENT, content_type=FHIR_JSON)
    assert fetch_one(h, "Patient/1") == PATIENT
    (request,) = h.requests()
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_without_a_token_no_authorization_header_is_sent(h):
    h.server.expect_request("/fhir/Patient/1").respond_with_json(PATIENT)
    assert fetch_one(h, "Patient/1", token=None) == PATIENT
    (request,) = h.requests()
    assert "Authorization" not in request.headers


def test_a_base_with_a_trailing_slash_and_the_query_string_are_kept(h):
    h.server.expect_request(
        "/fhir/Observation", query_string="patient=1&_count=5"
    ).respond_with_json(page(1))
    client = h.client()
    result = client.fetch_all(
        FhirServer(h.base + "/", TOKEN), {"labs": "Observation?patient=1&_count=5"}
    )
    assert result == {"labs": [page(1)]}


def test_nothing_to_fetch_is_nothing_fetched(h):
    assert h.client().fetch_all(h.fhir(), {}) == {}
    assert h.requests() == []


def test_a_search_follows_absolute_and_relative_next_links(h):
    h.server.expect_request("/fhir/Observation", query_string="patient=1").respond_with_json(
        page(1, h.server.url_for("/fhir/Observation?page=2"))
    )
    h.server.expect_request("/fhir/Observation", query_string="page=2").respond_with_json(
        page(2, "Observation?page=3")
    )
    h.server.expect_request("/fhir/Observation", query_string="page=3").respond_with_json(page(3))
    pages = fetch_one(h, "Observation?patient=1")
    assert [p["id"] for p in pages] == ["page-1", "page-2", "page-3"]
    assert all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in h.requests())


def test_paging_stops_at_max_pages(h):
    def endless(request: Request) -> Response:
        n = int(request.args.get("page", "1"))
        return Response(json.dumps(page(n, f"Observation?page={n + 1}")), content_type=FHIR_JSON)

    h.server.expect_request("/fhir/Observation").respond_with_handler(endless)
    pages = fetch_one(h, "Observation?patient=1", max_pages=3)
    assert [p["id"] for p in pages] == ["page-1", "page-2", "page-3"]
    assert len(h.requests()) == 3


def test_paging_stops_at_a_page_that_is_not_a_bundle(h):
    h.server.expect_request("/fhir/Observation", query_string="patient=1").respond_with_json(
        page(1, "Observation?page=2")
    )
    h.server.expect_request("/fhir/Observation", query_string="page=2").respond_with_json(PATIENT)
    assert [p["id"] for p in fetch_one(h, "Observation?patient=1")] == ["page-1"]


def elsewhere(h: Harness) -> dict[str, str]:
    port = h.server.port
    return {
        "other-host": f"http://localhost:{port}/fhir/Observation?page=2",
        "other-port": f"http://127.0.0.1:{free_port()}/fhir/Observation?page=2",
        "other-scheme": f"https://127.0.0.1:{port}/fhir/Observation?page=2",
        "outside-the-base": f"http://127.0.0.1:{port}/other/Observation?page=2",
        "other-host-relative": f"//localhost:{port}/fhir/Observation?page=2",
    }


@pytest.mark.parametrize(
    "where", ["other-host", "other-port", "other-scheme", "outside-the-base", "other-host-relative"]
)
def test_a_next_link_off_the_server_is_not_followed(h, where):
    h.server.expect_request("/fhir/Observation").respond_with_json(page(1, elsewhere(h)[where]))
    h.server.expect_request("/other/Observation").respond_with_json(page(2))
    pages = fetch_one(h, "Observation?patient=1")
    assert [p["id"] for p in pages] == ["page-1"]
    assert len(h.requests()) == 1  # the token went nowhere else


def test_a_next_link_to_a_sibling_path_is_not_followed(h):
    sibling = h.server.url_for("/fhir-other/Observation?page=2")
    h.server.expect_request("/fhir/Observation").respond_with_json(page(1, sibling))
    h.server.expect_request("/fhir-other/Observation").respond_with_json(page(2))
    pages = fetch_one(h, "Observation?patient=1")
    assert [p["id"] for p in pages] == ["page-1"]
    assert len(h.requests()) == 1


def test_a_503_is_retried_then_succeeds(h):
    h.server.expect_oneshot_request("/fhir/Patient/1").respond_with_data("busy", status=503)
    h.server.expect_request("/fhir/Patient/1").respond_with_json(PATIENT)
    assert fetch_one(h, "Patient/1") == PATIENT
    assert len(h.requests()) == 2


def test_a_lasting_503_is_a_fetch_error_after_a_few_tries(h):
    h.server.expect_request("/fhir/Patient/1").respond_with_data("busy", status=503)
    error = fetch_one(h, "Patient/1")
    assert isinstance(error, FetchError)
    assert "503" in error.reason and not error.not_found
    assert 2 <= len(h.requests()) <= 4


def test_a_500_is_a_fetch_error_naming_the_status_only(h):
    h.server.expect_request("/fhir/Observation").respond_with_data(
        "stack trace with internal detail", status=500
    )
    error = fetch_one(h, "Observation?patient=private-id-77")
    assert isinstance(error, FetchError)
    assert error.reason == "Observation search: the server answered 500 Internal Server Error"
    assert not error.not_found
    assert len(h.requests()) == 1  # not retried


@pytest.mark.parametrize(
    ("status", "not_found"), [(404, True), (410, True), (403, False), (401, False)]
)
def test_a_missing_resource_is_a_fetch_error_marked_not_found(h, status, not_found):
    h.server.expect_request("/fhir/Patient/1").respond_with_data("", status=status)
    error = fetch_one(h, "Patient/1")
    assert isinstance(error, FetchError)
    assert error.not_found is not_found
    assert error.reason.startswith(f"Patient/1: the server answered {status}")
    assert TOKEN not in error.reason


def test_an_answer_that_is_not_json_is_a_fetch_error(h):
    h.server.expect_request("/fhir/Patient/1").respond_with_data(
        "<html>login</html>", content_type="text/html"
    )
    error = fetch_one(h, "Patient/1")
    assert isinstance(error, FetchError) and "not JSON" in error.reason


@pytest.mark.parametrize("body", [[PATIENT], {"id": "1"}, {"resourceType": 7}, "Patient"])
def test_json_that_is_not_a_resource_is_a_fetch_error(h, body):
    h.server.expect_request("/fhir/Patient/1").respond_with_json(body)
    error = fetch_one(h, "Patient/1")
    assert isinstance(error, FetchError) and "not a FHIR resource" in error.reason


def test_an_operation_outcome_with_200_is_a_fetch_error(h):
    h.server.expect_request("/fhir/Observation").respond_with_json(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "too-costly", "diagnostics": "secret"}],
        }
    )
    error = fetch_one(h, "Observation?patient=1")
    assert isinstance(error, FetchError)
    assert "OperationOutcome" in error.reason and "secret" not in error.reason


def test_a_slow_answer_beyond_the_read_timeout_is_a_fetch_error(h):
    h.server.expect_request("/fhir/Patient/1").respond_with_handler(h.slow(3, PATIENT))
    started = time.monotonic()
    error = fetch_one(h, "Patient/1", read_timeout=0.2)
    assert time.monotonic() - started < 1.5
    assert isinstance(error, FetchTimeout) and error.reason == "Patient/1: timed out"
    assert len(h.requests()) <= 1  # a read timeout is not retried


def test_a_refused_connection_is_a_fetch_error(h):
    server = FhirServer(f"http://127.0.0.1:{free_port()}/fhir", TOKEN)
    error = h.client().fetch_all(server, {"patient": "Patient/1"})["patient"]
    assert isinstance(error, FetchError) and "connection refused" in error.reason


@pytest.mark.parametrize("location", ["/fhir/Patient/2", "http://localhost:{port}/fhir/Patient/2"])
def test_a_redirect_is_not_followed(h, location):
    h.server.expect_request("/fhir/Patient/1").respond_with_data(
        "", status=302, headers={"Location": location.format(port=h.server.port)}
    )
    h.server.expect_request("/fhir/Patient/2").respond_with_json(PATIENT)
    error = fetch_one(h, "Patient/1")
    assert isinstance(error, FetchError) and "302" in error.reason
    assert [r.path for r in h.requests()] == ["/fhir/Patient/1"]


def test_the_overall_deadline_cuts_off_a_slow_key_and_keeps_the_others(h):
    h.server.expect_request("/fhir/Patient/1").respond_with_json(PATIENT)
    h.server.expect_request("/fhir/Condition").respond_with_json(page(1))
    h.server.expect_request("/fhir/Observation").respond_with_handler(h.slow(5, page(2)))
    client = h.client(deadline=0.5, read_timeout=5)
    started = time.monotonic()
    results = client.fetch_all(
        h.fhir(),
        {
            "patient": "Patient/1",
            "conditions": "Condition?patient=1",
            "labs": "Observation?patient=1",
        },
    )
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 0.5 + 0.4
    assert results["patient"] == PATIENT
    assert results["conditions"] == [page(1)]
    assert isinstance(results["labs"], FetchTimeout)
    assert "deadline" in results["labs"].reason


def test_keys_are_fetched_in_parallel(h):
    h.server.expect_request("/fhir/Patient/1").respond_with_handler(h.slow(0.5, PATIENT))
    h.server.expect_request("/fhir/Condition").respond_with_handler(h.slow(0.5, page(1)))
    client = h.client()
    started = time.monotonic()
    results = client.fetch_all(
        h.fhir(), {"patient": "Patient/1", "conditions": "Condition?patient=1"}
    )
    elapsed = time.monotonic() - started
    assert results == {"patient": PATIENT, "conditions": [page(1)]}
    assert elapsed < 0.9, f"two 0.5 s fetches took {elapsed:.2f} s: not in parallel"


def test_the_server_repr_never_shows_the_token():
    server = FhirServer("https://ehr.example/fhir", TOKEN)
    assert TOKEN not in repr(server)
    assert TOKEN not in str(server) and TOKEN not in f"{server}"
    assert TOKEN not in repr({"server": server}) and TOKEN not in repr([server])
    assert "https://ehr.example/fhir" in repr(server)


@pytest.fixture
def dropping() -> Iterator[Callable[..., DroppingServer]]:
    servers: list[DroppingServer] = []

    def make(**kwargs: bool) -> DroppingServer:
        servers.append(DroppingServer(json.dumps(PATIENT).encode(), **kwargs))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_a_kept_alive_connection_the_server_dropped_is_retried_on_a_new_one(h, dropping):
    server = dropping()
    client = h.client()
    fhir = FhirServer(server.url("/fhir"), TOKEN)
    assert client.fetch_all(fhir, {"patient": "Patient/1"}) == {"patient": PATIENT}
    # the pooled connection is reused, reset unanswered, and the GET goes out again
    assert client.fetch_all(fhir, {"patient": "Patient/1"}) == {"patient": PATIENT}
    assert (server.connections, server.requests) == (2, 3)


def test_a_server_that_always_drops_the_connection_is_a_fetch_error_after_a_few_tries(h, dropping):
    server = dropping(answer=False)
    error = h.client().fetch_all(FhirServer(server.url("/fhir"), TOKEN), {"patient": "Patient/1"})
    assert isinstance(error["patient"], FetchError)
    assert error["patient"].reason == "Patient/1: cannot connect"
    assert 2 <= server.requests <= 3


def test_a_post_on_a_dropped_connection_is_never_sent_again(h, dropping):
    """The SMART token exchange shares this pool: an authorization code is sent once."""
    server = dropping(answer=False)
    client = h.client()
    with pytest.raises(HttpError) as caught:
        client.http.request(
            "POST",
            parse(server.url("/fhir/token")),
            deadline=time.monotonic() + 2,
            max_bytes=1024,
            data={"code": "once"},
        )
    assert caught.value.reason == "cannot connect"
    assert server.requests == 1
