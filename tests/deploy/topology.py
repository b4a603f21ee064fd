"""The production topology on one machine: Debian's nginx, run with ``deploy/nginx.conf``
itself, in front of two ``cds-b12 serve`` replicas that share one PostgreSQL database and
one Redis.

nginx runs in the foreground without privileges (as ``nobody`` when the tests run as
root), listening on loopback with a throwaway certificate authority's certificate.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from ..auth.tls import make_tls
from ..issuer import TestIssuer
from ..serving import ServeProcess, free_port, service_env

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
PLACEHOLDER = re.compile(r"\$\{(NGINX_[A-Z_]+)\}")
NOBODY = 65534  # Debian's nobody and nogroup
CLIENT_ADDRESS = "127.0.0.2"  # the tests' client: another loopback address than nginx's
METRICS_TOKEN = "topology-metrics-token-0123456789"
PSEUDONYM_KEY = "topology-pseudonym-key-shared-by-every-replica"


def render(template: str, values: dict[str, str]) -> str:
    """What ``envsubst '${NGINX_...} ...'`` does: the named placeholders, nothing else."""
    wanted = set(PLACEHOLDER.findall(template))
    assert wanted == set(values), f"placeholders {sorted(wanted)}, values for {sorted(values)}"
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


class Nginx:
    """``nginx -p DIR -c DIR/nginx.conf -g 'daemon off; pid ...'``, as ops notes describe."""

    def __init__(self, replicas: list[str]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="cds-b12-nginx-"))
        os.chmod(self.dir, 0o755)  # nobody must reach it when the tests run as root
        self.port = free_port()
        self.ca_file = self._certificate()
        (self.dir / "temp").mkdir()
        values = {
            "NGINX_LISTEN": f"127.0.0.1:{self.port}",
            "NGINX_TLS_CERTIFICATE": str(self.dir / "cert.pem"),
            "NGINX_TLS_KEY": str(self.dir / "key.pem"),
            "NGINX_TEMP_DIR": str(self.dir / "temp"),
            "NGINX_REPLICA_A": replicas[0],
            "NGINX_REPLICA_B": replicas[1],
        }
        (self.dir / "nginx.conf").write_text(render(NGINX_CONF.read_text(), values))
        if os.geteuid() == 0:
            for path in (self.dir, *self.dir.rglob("*")):
                os.chown(path, NOBODY, NOBODY)
        self.log = self.dir / "nginx.log"  # its stdout and stderr
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _certificate(self) -> Path:
        make_tls(self.dir)
        return self.dir / "ca.pem"

    def _command(self, *extra: str) -> list[str]:
        pid = self.dir / "nginx.pid"
        return [
            shutil.which("nginx") or "/usr/sbin/nginx",
            "-e",
            "stderr",
            "-p",
            str(self.dir),
            "-c",
            str(self.dir / "nginx.conf"),
            "-g",
            f"daemon off; pid {pid};",
            *extra,
        ]

    def start(self) -> Nginx:
        """``nginx -t`` first, for a clear message; then nginx itself, until it answers TLS."""
        drop = _as_nobody if os.geteuid() == 0 else None
        # stdout is a file nginx's user may open again: the access log goes to /dev/stdout
        self.log.touch()
        if os.geteuid() == 0:
            os.chown(self.log, NOBODY, NOBODY)
        with self.log.open("ab") as out:
            check = subprocess.run(
                self._command("-t", "-q"), stdout=out, stderr=out, preexec_fn=drop
            )
            assert check.returncode == 0, f"nginx -t refused it:\n{self.log.read_text()}"
            self.proc = subprocess.Popen(
                self._command(),
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=drop,
                start_new_session=True,
            )
        context = ssl.create_default_context(cafile=self.ca_file)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as raw,
                context.wrap_socket(raw, server_hostname="127.0.0.1"),
            ):
                return self
            assert self.proc.poll() is None, f"nginx exited:\n{self.log.read_text()}"
            time.sleep(0.05)
        raise AssertionError(f"nginx did not listen:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def access_log(self) -> list[dict]:
        return [
            json.loads(line)
            for line in self.log.read_text(errors="replace").splitlines()
            if line.startswith("{")
        ]


def _as_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


class FromClientAddress(HTTPAdapter):
    """Connections from ``CLIENT_ADDRESS``, so the replicas' logs can tell it from nginx."""

    def init_poolmanager(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs["source_address"] = (CLIENT_ADDRESS, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass
class Topology:
    nginx: Nginx
    replicas: list[ServeProcess]
    issuer: TestIssuer
    database_url: str
    public_url: str
    env: dict[str, str]
    session: requests.Session = field(default_factory=requests.Session)

    def new_session(self) -> requests.Session:
        """A client of nginx: trusts its CA (and nothing from the environment), connects
        from ``CLIENT_ADDRESS``."""
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the CA below
        session.verify = str(self.nginx.ca_file)
        session.mount("https://", FromClientAddress())
        return session

    def url(self, path: str) -> str:
        return self.nginx.base + path

    def aud(self, path: str) -> str:
        return self.public_url + path

    def post(self, path: str, body: object, **headers: str) -> requests.Response:
        """Through nginx, from the client address, with a fresh JWT for ``path``."""
        return self.session.post(
            self.url(path),
            json=body,
            headers={**self.issuer.bearer(self.aud(path)), **headers},
            timeout=30,
        )

    def requests_of(self, replica: ServeProcess) -> list[dict]:
        """The replica's request log lines."""
        lines = []
        for line in replica.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if record.get("logger") == "cds_b12.request":
                    lines.append(record)
        return lines

    def replica_of(self, request_id: str) -> int:
        """Which replica (0 or 1) logged the request with this X-Request-ID."""
        found = [
            i
            for i, replica in enumerate(self.replicas)
            if any(r.get("requestId") == request_id for r in self.requests_of(replica))
        ]
        assert len(found) == 1, f"request {request_id} logged by replicas {found}"
        return found[0]


def start_topology(work: Path, database_url: str, redis_url: str) -> Topology:
    """Both replicas launched at once on an empty database, then nginx in front of them."""
    issuer = TestIssuer()
    ports = [free_port(), free_port()]
    nginx = Nginx([f"127.0.0.1:{p}" for p in ports])
    public_url = nginx.base
    env_common = {
        "database_url": database_url,
        "redis_url": redis_url,
        "pseudonym_key": PSEUDONYM_KEY,
        "public_url": public_url,
        "trusted_issuers": issuer.settings(),
        "proxy_count": "1",
        "metrics_token": METRICS_TOKEN,
    }
    replicas = []
    for name, port in zip("ab", ports, strict=True):
        env = service_env(**env_common, data_dir=str(work / f"replica-{name}"))
        replicas.append(ServeProcess(env, work / f"replica-{name}.log", workers=2, port=port))
    for replica in replicas:
        replica.launch()
    topology = Topology(
        nginx, replicas, issuer, database_url, public_url, service_env(**env_common)
    )
    topology.session = topology.new_session()
    try:
        for replica in replicas:
            replica.wait_ready(timeout=60)
        nginx.start()
    except BaseException:
        stop_topology(topology)
        raise
    return topology


def stop_topology(topology: Topology) -> None:
    topology.session.close()
    topology.nginx.stop()
    for replica in topology.replicas:
        replica.kill()
