"""A FHIR server's name and its DNS: what the allowlist promises and what it does not.

The allowlist is of names (and ports and paths), not of addresses: a name off it is refused
from the URL alone, before any DNS lookup, so a name whose DNS points at the cloud metadata
address (169.254.169.254), a private network or this machine is never resolved, let alone
contacted. An allowed name is resolved by the HTTP client alone, once for each connection,
and that connection goes to the address it got: nothing resolves it first to check it, so
there is no second answer for a rebinding DNS server to change."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..api.support import assert_operation_outcome, make_app
from ..auth.support import (
    ISS,
    JKU_KEY,
    SERVICE_PATH,
    assert_bare_401,
    auth_app,
    bearer,
    fetching_body,
    issuer_config,
    make_token,
    prefetched_body,
)
from ..auth.tls import make_tls

ALLOWED = "fhir.ehr.example"
ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3")  # an allowed name's answers, in turn
ATTACKER_DNS = {  # names a caller might send, and where their DNS points
    "metadata.attacker.example": "169.254.169.254",
    "fhir.ehr.example.attacker.example": "127.0.0.1",
    "internal.attacker.example": "10.0.0.5",
}
PATIENT_ID = prefetched_body()["context"]["patientId"]


class Resolver:
    """Stands in for DNS: every lookup is recorded; the allowed name gets each of
    ``ADDRESSES`` in turn, an attacker's name the address its DNS points at."""

    def __init__(self) -> None:
        self.real = socket.getaddrinfo
        self.lookups: list[tuple[str, str | None]] = []  # (host, the address answered)
        self._lock = threading.Lock()

    def __call__(self, host, port, *args, **kwargs):
        with self._lock:
            if host == ALLOWED:
                address = ADDRESSES[sum(h == ALLOWED for h, _ in self.lookups) % len(ADDRESSES)]
            else:
                address = ATTACKER_DNS.get(host)
            self.lookups.append((host, address))
        return self.real(address or host, port, *args, **kwargs)


class TlsServer:
    """An https FHIR server listening on every one of ``ADDRESSES`` (one port), answering a
    Patient read and empty searches, each on a connection of its own; it records the local
    address every connection reached."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.reached: list[str] = []
        self.socks = [socket.create_server((ADDRESSES[0], 0))]
        port = self.port
        self.socks += [socket.create_server((address, port)) for address in ADDRESSES[1:]]
        for sock in self.socks:
            threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    @property
    def port(self) -> int:
        return self.socks[0].getsockname()[1]

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        self.reached.append(conn.getsockname()[0])
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(5)
                path = tls.recv(65536).split(b" ", 2)[1].decode()
                body = (
                    f'{{"resourceType": "Patient", "id": "{PATIENT_ID}"}}'
                    if path.startswith(f"/fhir/Patient/{PATIENT_ID}")
                    else '{"resourceType": "Bundle", "type": "searchset"}'
                ).encode()
                tls.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nConnection: close"
                    + f"\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
        except (OSError, IndexError):
            pass

    def close(self) -> None:
        for sock in self.socks:
            sock.close()


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    resolver = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[TlsServer, Path]]:
    context, ca_file = make_tls(tmp_path, ALLOWED)
    server = TlsServer(context)
    yield server, ca_file
    server.close()


def allowed_base(server: TlsServer) -> str:
    return f"https://{ALLOWED}:{server.port}/fhir"


def refused_forms(server: TlsServer) -> list[str]:
    """fhirServer values off the allowlist: attackers' names, the allowed name on another
    port or over http, and the metadata address itself."""
    return [
        *(f"https://{name}:{server.port}/fhir" for name in ATTACKER_DNS),
        f"https://{ALLOWED}:{server.port + 1}/fhir",
        f"http://{ALLOWED}:{server.port}/fhir",
        "https://169.254.169.254/latest/meta-data",
    ]


@pytest.mark.parametrize("auth", [True, False], ids=["auth-on", "auth-off-with-allowlist"])
def test_a_name_off_the_allowlist_is_refused_before_any_dns_lookup(resolver, server, apps, auth):
    tls, ca_file = server
    base = allowed_base(tls)
    if auth:
        app = auth_app({ISS: issuer_config(fhir_servers=[base])})
    else:
        app = make_app(fhir_server_allowlist=(base,))
    apps.append(app)
    app.extensions["cds_b12"].client.session.verify = str(ca_file)
    client = app.test_client()
    for form in refused_forms(tls):
        headers = bearer(make_token()) if auth else {}
        response = client.post(SERVICE_PATH, json=fetching_body(form, "at-secret"), headers=headers)
        assert "fhirServer" in assert_operation_outcome(response, 412), form
    assert resolver.lookups == []
    assert tls.reached == []


def test_a_smart_iss_or_jku_off_the_allowlist_is_never_looked_up(resolver, server, apps):
    tls, _ = server
    app = auth_app({ISS: issuer_config(fhir_servers=[allowed_base(tls)])}, smart_client_id="c")
    apps.append(app)
    client = app.test_client()
    for form in refused_forms(tls):
        refused = client.get(f"/timeline/launch?iss={form}&launch=x")
        assert assert_operation_outcome(refused, 400).startswith("iss: "), form
        jku = form.replace("/fhir", "/jwks.json")
        token = make_token(key=JKU_KEY, kid="unknown-kid", jku=jku)
        assert_bare_401(client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(token)))
    assert resolver.lookups == []
    assert tls.reached == []


def test_an_allowed_name_is_resolved_once_per_connection_by_the_client_alone(
    resolver, server, apps
):
    tls, ca_file = server
    base = allowed_base(tls)
    app = auth_app({ISS: issuer_config(fhir_servers=[base])})
    apps.append(app)
    app.extensions["cds_b12"].client.session.verify = str(ca_file)
    response = app.test_client().post(
        SERVICE_PATH, json=fetching_body(base, "at-secret"), headers=bearer(make_token())
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert {host for host, _ in resolver.lookups} == {ALLOWED}
    # every answer the resolver gave was used by exactly one connection, at that address
    assert len(tls.reached) > 1
    assert sorted(address for _, address in resolver.lookups) == sorted(tls.reached)
