"""What this machine cannot run, held to what it must be: the Dockerfile (no container daemon
here), the Kubernetes manifests (validated against the bundled Kubernetes schemas, offline),
the compose file and the Prometheus scrape jobs; and deploy/nginx.conf against the
service's own limits."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from cds_b12.api import MAX_BODY_BYTES
from cds_b12.config import ENV_PREFIX, Settings

from .topology import NGINX_CONF, PLACEHOLDER

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
KUBERNETES_VERSION = "1.37.0"
SETTINGS = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
MANIFESTS = sorted(p for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")
GUNICORN_KEEPALIVE_S = 5  # cds_b12/serve.py


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each instruction, continuation lines joined."""
    result, current = [], ""
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            if current.strip():
                word, _, rest = current.strip().partition(" ")
                result.append((word.upper(), rest.strip()))
            current = ""
    return result


DOCKERFILE = instructions(DEPLOY / "Dockerfile")


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, from its FROM on."""
    starts = [i for i, (word, _) in enumerate(DOCKERFILE) if word == "FROM"]
    return [DOCKERFILE[a:b] for a, b in zip(starts, [*starts[1:], len(DOCKERFILE)], strict=True)]


def final_stage() -> list[tuple[str, str]]:
    return stages()[-1]


def documents() -> dict[str, dict]:
    """Every manifest by kind."""
    found = {}
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            found[doc["kind"]] = doc
    return found


def test_the_image_is_built_in_two_stages_from_pinned_bases():
    (default,) = [rest for word, rest in DOCKERFILE if word == "ARG"]
    name, _, image = default.partition("=")
    assert name == "PYTHON_IMAGE"
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+@sha256:[0-9a-f]{64}", image), image
    froms = [rest for word, rest in DOCKERFILE if word == "FROM"]
    assert len(froms) == 2 and all(f.startswith("${PYTHON_IMAGE}") for f in froms)


def test_the_image_installs_the_wheel_built_like_ci_and_nothing_of_the_source():
    (build,) = [rest for word, rest in stages()[0] if word == "RUN"]
    assert "pip wheel" in build and "--no-deps" in build and build.rstrip().endswith(" .")
    final = final_stage()
    copies = [rest for word, rest in final if word == "COPY"]
    assert copies == ["--from=wheel /wheels /tmp/wheels"]  # the wheel only, no source
    installs = " ".join(rest for word, rest in final if word == "RUN")
    assert "pip install --no-cache-dir /tmp/wheels/*.whl" in installs


def test_the_image_runs_as_an_unprivileged_user():
    final = final_stage()
    (user,) = [rest for word, rest in final if word == "USER"]
    uid, _, gid = user.partition(":")
    assert int(uid) >= 1000 and int(gid) >= 1000  # numeric: runAsNonRoot can check it
    assert f"--uid {uid}" in " ".join(rest for word, rest in final if word == "RUN")
    user_at = final.index(("USER", user))
    assert all(word != "RUN" for word, _ in final[user_at:]), "RUN after USER runs as that user"
    pod = documents()["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == int(uid)
    assert pod["securityContext"]["runAsGroup"] == int(gid)


def test_the_image_checks_its_health_on_healthz_and_serves_its_exposed_port():
    final = final_stage()
    (health,) = [rest for word, rest in final if word == "HEALTHCHECK"]
    (port,) = [rest for word, rest in final if word == "EXPOSE"]
    assert f"http://127.0.0.1:{port}/healthz" in health
    (entrypoint,) = [json.loads(rest) for word, rest in final if word == "ENTRYPOINT"]
    (command,) = [json.loads(rest) for word, rest in final if word == "CMD"]
    assert entrypoint == ["cds-b12"]
    assert command[:5] == ["serve", "--host", "0.0.0.0", "--port", port]


def test_the_image_holds_no_configuration_but_the_data_dir_and_no_secret():
    env = " ".join(rest for word, rest in DOCKERFILE if word in ("ENV", "ARG", "LABEL"))
    settings = set(re.findall(r"\b(CDS_B12_[A-Z_]+)=", env))
    assert settings == {"CDS_B12_DATA_DIR"}
    assert not re.search(r"(?i)(key|token|secret|password|passwd)\w*=", env)
    assert all(word != "ADD" for word, _ in DOCKERFILE)  # nothing fetched from a URL
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "data"} <= set(ignored)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_each_manifest_validates_against_the_kubernetes_schemas(path):
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validation_would_catch_a_mistake():
    deployment = documents()["Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"]["readOnlyRootFilesytem"] = True  # misspelt
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_kustomization_applies_every_manifest():
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == [p.name for p in MANIFESTS]


def test_the_deployment_is_locked_down_with_writable_memory_only_where_needed():
    docs = documents()
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    data_dir = {e["name"]: e["value"] for e in container["env"]}["CDS_B12_DATA_DIR"]
    assert mounts == {data_dir, "/tmp"}
    assert all("emptyDir" in v for v in pod["volumes"])
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}


def test_the_probes_and_ports_line_up():
    docs = documents()
    (container,) = docs["Deployment"]["spec"]["template"]["spec"]["containers"]
    (port,) = container["ports"]
    assert port["name"] == "http" and str(port["containerPort"]) in container["args"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    service = docs["Service"]["spec"]
    labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["selector"] == labels
    assert service["ports"][0]["targetPort"] == "http"
    assert docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels
    assert docs["NetworkPolicy"]["spec"]["podSelector"]["matchLabels"] == labels
    hpa = docs["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == docs["Deployment"]["metadata"]["name"]
    assert hpa["minReplicas"] >= 2 and docs["PodDisruptionBudget"]["spec"]["minAvailable"] == 1
    backends = [
        p["backend"]["service"]
        for r in docs["Ingress"]["spec"]["rules"]
        for p in r["http"]["paths"]
    ]
    assert all(b == {"name": "cds-b12", "port": {"name": "http"}} for b in backends)


def test_configmap_and_secret_hold_real_settings_that_the_service_accepts():
    docs = documents()
    config, secret = docs["ConfigMap"]["data"], docs["Secret"]["stringData"]
    assert set(config) | set(secret) <= SETTINGS
    assert {"CDS_B12_TRUSTED_ISSUERS", "CDS_B12_PUBLIC_URL"} <= set(config)
    assert {"CDS_B12_PSEUDONYM_KEY", "CDS_B12_DATABASE_URL", "CDS_B12_METRICS_TOKEN"} <= set(secret)
    assert not set(config) & set(secret)
    values = {k.removeprefix(ENV_PREFIX).lower(): v for k, v in {**config, **secret}.items()}
    settings = Settings(**values)  # the placeholders parse: an operator only fills them in
    assert settings.authenticating and settings.proxy_count == 1
    (container,) = docs["Deployment"]["spec"]["template"]["spec"]["containers"]
    sources = container["envFrom"]
    assert {"configMapRef": {"name": docs["ConfigMap"]["metadata"]["name"]}} in sources
    assert {"secretRef": {"name": docs["Secret"]["metadata"]["name"]}} in sources


def test_egress_goes_only_to_dns_the_database_redis_and_the_ehrs():
    spec = documents()["NetworkPolicy"]["spec"]
    assert set(spec["policyTypes"]) == {"Ingress", "Egress"}
    ports = {p["port"] for rule in spec["egress"] for p in rule["ports"]}
    assert ports == {53, 5432, 6379, 443}
    assert all(rule.get("to") for rule in spec["egress"])  # no rule open to everywhere


def test_prometheus_scrapes_each_pod_with_the_metrics_token():
    (job,) = yaml.safe_load((DEPLOY / "prometheus" / "kubernetes.yml").read_text())[
        "scrape_configs"
    ]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["credentials_file"].endswith("/CDS_B12_METRICS_TOKEN")
    assert "CDS_B12_METRICS_TOKEN" in documents()["Secret"]["stringData"]
    keep_port = [r for r in job["relabel_configs"] if "port_name" in str(r["source_labels"])]
    assert keep_port[0]["regex"] == "http"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_the_same_topology_with_shared_settings():
    services = compose()["services"]
    assert {"replica-a", "replica-b", "nginx", "postgres", "redis"} <= set(services)
    a, b = services["replica-a"], services["replica-b"]
    assert a == b and a["read_only"] is True
    shared = set(a["environment"])
    assert shared <= SETTINGS
    assert {
        "CDS_B12_PSEUDONYM_KEY",
        "CDS_B12_DATABASE_URL",
        "CDS_B12_REDIS_URL",
        "CDS_B12_PUBLIC_URL",
    } <= shared
    assert a["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}


def test_compose_fills_every_nginx_placeholder_from_deploy_nginx_conf():
    nginx = compose()["services"]["nginx"]
    assert "./nginx.conf:/etc/nginx/templates/nginx.conf.template:ro" in nginx["volumes"]
    placeholders = set(PLACEHOLDER.findall(NGINX_CONF.read_text()))
    assert placeholders <= set(nginx["environment"])
    replicas = {nginx["environment"]["NGINX_REPLICA_A"], nginx["environment"]["NGINX_REPLICA_B"]}
    assert replicas == {"replica-a:8080", "replica-b:8080"}
    (job,) = yaml.safe_load((DEPLOY / "prometheus" / "compose.yml").read_text())["scrape_configs"]
    assert set(job["static_configs"][0]["targets"]) == replicas


def nginx_directive(name: str) -> list[str]:
    text = re.sub(r"#.*", "", NGINX_CONF.read_text())
    return [m.strip() for m in re.findall(rf"^\s*{name}\s+([^;]+);", text, flags=re.M)]


def test_the_envsubst_command_in_nginx_conf_names_every_placeholder():
    header = NGINX_CONF.read_text().split("\n\n", 1)[0]
    (command,) = [line for line in header.splitlines() if "envsubst '" in line]
    named = shlex.split(command.lstrip("# ").removesuffix("\\").strip())[1]
    assert set(re.findall(r"\$\{(\w+)\}", named)) == set(
        PLACEHOLDER.findall(NGINX_CONF.read_text())
    )


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m)?", value).groups()  # type: ignore[union-attr]
    return float(number) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[unit]


def test_nginx_limits_match_the_service():
    (size,) = nginx_directive("client_max_body_size")
    assert size == f"{MAX_BODY_BYTES // (1024 * 1024)}m"
    deadline = Settings().fhir_deadline
    for name in ("proxy_read_timeout", "proxy_send_timeout"):
        (value,) = nginx_directive(name)
        assert _seconds(value) > deadline
    keepalive = nginx_directive("keepalive_timeout")
    assert min(_seconds(v) for v in keepalive) < GUNICORN_KEEPALIVE_S
    (retry_on,) = nginx_directive("proxy_next_upstream")
    assert "non_idempotent" not in retry_on  # a resent request would replay its JWT
    assert nginx_directive("proxy_buffering") == ["on"]
    assert nginx_directive("proxy_request_buffering") == ["on"]
