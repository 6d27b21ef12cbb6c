"""The deployment files (deploy/, docker-compose.yml, .dockerignore), checked offline: no Docker
daemon, no cluster, no network (a fixture refuses every connection off this machine).

- docker-compose.yml against the Compose Specification's JSON schema (the copy vendored by
  check-jsonschema), with its ${VARIABLES} interpolated the way Compose does;
- deploy/k8s/*.yaml against Kubernetes' own OpenAPI schemas, strict (kubernetes-validate ships
  them for every release it knows: misspelt or misplaced fields fail);
- deploy/docker/*.Dockerfile with hadolint (its rules and ShellCheck on every RUN), parsed with
  dockerfile-parse, and the Rasa entrypoint script with ShellCheck;
- and what those cannot know: every variable Rasa and the service need is given, secrets come
  from the environment or secretKeyRef, only the service is reachable from outside, the
  service's NORDHEM_RASA_URLS names each pod of the Rasa StatefulSet (its consistent hashing
  needs one URL per server), the probes ask the right paths, COPY sources exist, and the
  images run as a non-root user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import io
import json
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, Optional
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema
from dockerfile_parse import DockerfileParser

from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
DOCKERFILES = {"nordhem-bot": DEPLOY / "docker" / "bot.Dockerfile",
               "nordhem-actions": DEPLOY / "docker" / "actions.Dockerfile",
               "nordhem-service": DEPLOY / "docker" / "service.Dockerfile"}
PYTHON_OF_IMAGE = {"nordhem-bot": "3.10", "nordhem-actions": "3.10", "nordhem-service": "3.11"}
LOCK_OF_IMAGE = {"nordhem-bot": ("bot.lock", "bot"), "nordhem-actions": ("bot.lock", "bot"),
                 "nordhem-service": ("api.lock", "api")}
# the oldest Kubernetes the manifests are meant for, and the newest the schemas know
K8S_VERSIONS = ("1.29", kubernetes_validate.latest_version())
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN")
PLACEHOLDER = "CHANGE-ME"

# What each part needs from the environment in the scaled mode (bot/endpoints-scaled.yml and
# deploy/docker/start-rasa.sh add Rasa's own, read from those files).
SERVICE_NEEDS = {"NORDHEM_DATABASE_URL", "NORDHEM_TRACKER_STORE_URL", "NORDHEM_RASA_URLS",
                 "NORDHEM_ACTIONS_URL", "NORDHEM_BUS_URL", "NORDHEM_RATE_LIMIT_STORAGE",
                 "NORDHEM_RASA_JWT_SECRET", "NORDHEM_HOOK_SECRET", "NORDHEM_WEBHOOK_SECRET",
                 "NORDHEM_CORS_ORIGINS", "FORWARDED_ALLOW_IPS"}
ACTIONS_NEED = {"ESCALATION_URL", "ESCALATION_HOOK_SECRET"}
# variables of the action server's own (actions/orders/factory.py, demo_store.py)
ACTIONS_SETTINGS = {"NORDHEM_ORDERS_URL", "NORDHEM_ORDERS_TOKEN", "NORDHEM_ORDERS_DB"}


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check here must work without a network: a connection or name lookup off this
    machine fails the test (e.g. a validator fetching a schema)."""
    def loopback(host: object) -> bool:
        return not isinstance(host, str) or host in ("localhost", "::1") or host.startswith("127.")

    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            raise AssertionError(f"the deployment checks must work offline: connect to {address}")
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not loopback(host.decode() if isinstance(host, bytes) else host):
            raise AssertionError(f"the deployment checks must work offline: lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# --- reading the files -----------------------------------------------------------------------

@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_environment(service: Mapping[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: "" if value is None else str(value) for name, value in environment.items()}


class MissingVariable(Exception):
    pass


COMPOSE_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>\w+)")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
    ${VAR?error}, $VAR and $$ (a literal $)."""
    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op and op.endswith("?") and unset:
            raise MissingVariable(f"{name}: {arg}")
        if op and op.endswith("-") and unset:
            return arg
        return value or ""
    return COMPOSE_VARIABLE.sub(one, value)


def interpolated(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: interpolated(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolated(value, env) for value in node]
    return node


def required_compose_variables() -> set[str]:
    text = (ROOT / "docker-compose.yml").read_text()
    return set(re.findall(r"\$\{(\w+):?\?", text))


def filled_env() -> dict[str, str]:
    """A value for every variable compose requires (URL-safe, as deploy/compose/env.example asks)."""
    return {name: f"{name.lower().replace('_', '-')}-value" for name in required_compose_variables()}


def compose_services_of_image(image: str) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in compose()["services"].items()
            if service.get("image", "").split(":")[0] == image}


@cache
def k8s_documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return [document for resource in kustomization["resources"]
            for document in yaml.safe_load_all((K8S / resource).read_text()) if document]


def k8s_objects(kind: str) -> dict[str, dict[str, Any]]:
    return {document["metadata"]["name"]: document for document in k8s_documents()
            if document["kind"] == kind}


def workloads() -> dict[str, dict[str, Any]]:
    """The Deployments and StatefulSets (Rasa is one, for its pods' stable names), by name."""
    found = {**k8s_objects("Deployment"), **k8s_objects("StatefulSet")}
    assert len(found) == len(k8s_objects("Deployment")) + len(k8s_objects("StatefulSet"))
    return found


def pod_labels(workload: Mapping[str, Any]) -> dict[str, str]:
    return dict(workload["spec"]["template"]["metadata"]["labels"])


def selected_workloads(selector: Mapping[str, str]) -> list[str]:
    """The workloads whose pods a Service's selector (or a matchLabels) picks."""
    return [name for name, workload in workloads().items()
            if selector.items() <= pod_labels(workload).items()]


def containers(deployment: Mapping[str, Any], init: bool = False) -> list[dict[str, Any]]:
    spec = deployment["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]] if init else list(spec["containers"])


def container(name: str) -> dict[str, Any]:
    return containers(workloads()[name])[0]


def configmap() -> dict[str, str]:
    return k8s_objects("ConfigMap")["nordhem-config"]["data"]


def example_secret() -> dict[str, str]:
    return yaml.safe_load((K8S / "secret.example.yaml").read_text())["stringData"]


K8S_REFERENCE = re.compile(r"\$\((\w+)\)")


def k8s_environment(container: Mapping[str, Any]) -> dict[str, str]:
    """The container's environment as Kubernetes would set it: ConfigMap values, the example
    Secret's placeholders, and $(NAME) expanded from the entries above it."""
    values: dict[str, str] = {}
    for entry in container.get("env", []):
        if "value" in entry:
            values[entry["name"]] = K8S_REFERENCE.sub(
                lambda match: values.get(match.group(1), match.group(0)), str(entry["value"]))
        elif "configMapKeyRef" in entry["valueFrom"]:
            values[entry["name"]] = configmap().get(entry["valueFrom"]["configMapKeyRef"]["key"], "")
        elif "secretKeyRef" in entry["valueFrom"]:
            values[entry["name"]] = example_secret().get(entry["valueFrom"]["secretKeyRef"]["key"], "")
    return values


@cache
def dockerfile(image: str) -> list[dict[str, Any]]:
    parser = DockerfileParser(fileobj=io.BytesIO(DOCKERFILES[image].read_bytes()))
    return [item for item in parser.structure if item["instruction"] != "COMMENT"]


def final_stage(image: str) -> list[dict[str, Any]]:
    instructions = dockerfile(image)
    last_from = max(index for index, item in enumerate(instructions) if item["instruction"] == "FROM")
    return instructions[last_from:]


def copies(image: str) -> list[tuple[Optional[str], list[str], str]]:
    """(stage it copies from or None for the build context, sources, destination) per COPY/ADD."""
    found = []
    for item in dockerfile(image):
        if item["instruction"] not in ("COPY", "ADD"):
            continue
        value = item["value"].strip()
        words = json.loads(value) if value.startswith("[") else shlex.split(value)
        flags = [word for word in words if word.startswith("--")]
        paths = [word for word in words if not word.startswith("--")]
        stage = next((flag.split("=", 1)[1] for flag in flags if flag.startswith("--from=")), None)
        found.append((stage, paths[:-1], paths[-1]))
    return found


def dockerignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception `!...`, pattern) per line of .dockerignore, as Docker matches them."""
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/?|\*|\?)", pattern):
            regex += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
        patterns.append((exception, re.compile(regex + "$")))
    return patterns


def ignored(path: str) -> bool:
    """Whether Docker leaves `path` (relative to the repo root) out of the build context:
    the last pattern that matches it or one of its parent folders decides."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    verdict = False
    for exception, pattern in dockerignore_patterns():
        if any(pattern.match(candidate) for candidate in candidates):
            verdict = not exception
    return verdict


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


def rasa_needs() -> set[str]:
    """The ${VARIABLES} of bot/endpoints-scaled.yml's values (Rasa fills them in and stops
    when one is unset) and those deploy/docker/start-rasa.sh requires."""
    endpoints = yaml.safe_load((ROOT / "bot" / "endpoints-scaled.yml").read_text())
    start = (DEPLOY / "docker" / "start-rasa.sh").read_text()
    return {name for value in strings(endpoints) for name in re.findall(r"\$\{(\w+)\}", value)} \
        | set(re.findall(r"\$\{(\w+):\?", start))


def settings_of(env: Mapping[str, str]) -> Settings:
    """The service's own Settings (validators included) from a deployed environment."""
    values = {name.removeprefix("NORDHEM_").lower(): value for name, value in env.items()
              if name.startswith("NORDHEM_")}
    # model_validate: these values and the defaults only, not this machine's environment or .env
    return Settings.model_validate(values)


def known_settings() -> set[str]:
    return {f"NORDHEM_{name.upper()}" for name in Settings.model_fields}


# --- docker-compose.yml ----------------------------------------------------------------------

def test_compose_file_follows_the_compose_specification() -> None:
    schema = get_builtin_schema("vendor.compose-spec")
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for document in (compose(), interpolated(compose(), filled_env())):
        errors = sorted(validator.iter_errors(document), key=lambda error: list(error.path))
        assert not errors, [f"{'.'.join(map(str, error.path))}: {error.message}" for error in errors]


def test_the_compose_schema_check_catches_a_misspelt_key() -> None:
    """The validator is really at work: a typo that Compose itself refuses fails here too."""
    schema = get_builtin_schema("vendor.compose-spec")
    broken = {"services": {"service-0": {"image": "nordhem-service", "enviroment": {"A": "1"}}}}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken))


def test_compose_secrets_come_from_the_environment_and_stop_compose_when_missing() -> None:
    required = required_compose_variables()
    assert {"POSTGRES_PASSWORD", "NORDHEM_RASA_JWT_SECRET", "NORDHEM_HOOK_SECRET",
            "NORDHEM_WEBHOOK_SECRET"} <= required
    for name in required:
        env = {other: value for other, value in filled_env().items() if other != name}
        with pytest.raises(MissingVariable, match=name):
            interpolated(compose(), env)
    for service_name, service in compose()["services"].items():
        for name, value in compose_environment(service).items():
            if SECRET_NAME.search(name):
                assert re.fullmatch(r"\$\{\w+(:?[-?][^}]*)?\}", value), (service_name, name, value)
            for password in re.findall(r"://[^:/@]+:([^@]+)@", value):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", password), (service_name, name)


def test_compose_gives_every_part_the_variables_it_needs() -> None:
    services = compose()["services"]
    rasa = compose_services_of_image("nordhem-bot")
    replicas = {name: service for name, service in compose_services_of_image("nordhem-service").items()
                if name != "migrate"}
    assert len(rasa) == 2 and len(replicas) == 2
    for name, service in rasa.items():
        assert rasa_needs() - set(compose_environment(service)) == set(), name
    for name, service in replicas.items():
        env = compose_environment(service)
        assert SERVICE_NEEDS - set(env) == set(), name
        assert {variable for variable in env if variable.startswith("NORDHEM_")} <= known_settings()
    assert ACTIONS_NEED - set(compose_environment(services["actions"])) == set()
    assert set(compose_environment(services["migrate"])) >= {"NORDHEM_DATABASE_URL"}


def test_compose_values_are_accepted_by_the_service_and_point_at_compose_services() -> None:
    resolved = interpolated(compose(), filled_env())
    services = resolved["services"]
    for name in ("service-0", "service-1"):
        env = compose_environment(services[name])
        settings = settings_of(env)
        assert settings.database_url.startswith("postgresql+psycopg://")
        assert settings.tracker_store_url.startswith("postgresql+psycopg://")
        rasa_hosts = {urlsplit(url).hostname for url in settings.rasa_url_list}
        assert rasa_hosts == set(compose_services_of_image("nordhem-bot"))
        for url in (settings.database_url, settings.tracker_store_url, settings.actions_url,
                    settings.bus_url, settings.rate_limit_storage, *settings.rasa_url_list):
            assert urlsplit(url).hostname in services, url
    # the lock store, the bus and the rate limits each have their own Redis database
    rasa_env = compose_environment(services["rasa-0"])
    service_env = compose_environment(services["service-0"])
    databases = [rasa_env["LOCK_STORE_DB"], urlsplit(service_env["NORDHEM_BUS_URL"]).path.strip("/"),
                 urlsplit(service_env["NORDHEM_RATE_LIMIT_STORAGE"]).path.strip("/")]
    assert len(set(databases)) == 3, databases
    # Rasa's tracker store is the database the service erases from
    tracker = urlsplit(service_env["NORDHEM_TRACKER_STORE_URL"])
    assert (tracker.hostname, str(tracker.port), tracker.path.strip("/"), tracker.username) == (
        rasa_env["TRACKER_DB_HOST"], rasa_env["TRACKER_DB_PORT"], rasa_env["TRACKER_DB_NAME"],
        rasa_env["TRACKER_DB_USER"])
    for name in (*compose_services_of_image("nordhem-bot"), "actions"):
        env = compose_environment(services[name])
        for variable in ("ACTION_ENDPOINT_URL", "ESCALATION_URL"):
            if variable in env:
                assert urlsplit(env[variable]).hostname in services, (name, variable)


def test_the_parts_that_must_agree_share_one_secret_in_compose() -> None:
    services = interpolated(compose(), filled_env())["services"]
    service, actions = compose_environment(services["service-0"]), compose_environment(services["actions"])
    assert actions["ESCALATION_HOOK_SECRET"] == service["NORDHEM_HOOK_SECRET"]
    for name in compose_services_of_image("nordhem-bot"):
        rasa = compose_environment(services[name])
        assert rasa["NORDHEM_RASA_JWT_SECRET"] == service["NORDHEM_RASA_JWT_SECRET"]
        assert rasa["TRACKER_DB_PASSWORD"] == urlsplit(service["NORDHEM_TRACKER_STORE_URL"]).password


def test_compose_migrates_once_before_the_replicas_start() -> None:
    services = compose()["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "-m", "api", "migrate"]
    assert migrate["restart"] == "no"
    for name in ("service-0", "service-1"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert "command" not in services[name]  # the image's: python -m api serve


def test_only_the_front_is_published_and_it_balances_both_replicas_on_health() -> None:
    services = compose()["services"]
    assert [name for name, service in services.items() if service.get("ports")] == ["front"]
    published = services["front"]["ports"]
    assert len(published) == 1
    container_port = str(published[0]).rsplit(":", 1)[1]
    config = (DEPLOY / "compose" / "haproxy.cfg").read_text()
    mounted = [volume for volume in services["front"]["volumes"] if "haproxy.cfg" in volume]
    assert mounted and (ROOT / mounted[0].split(":")[0]).resolve() == DEPLOY / "compose" / "haproxy.cfg"
    assert re.search(rf"^\s*bind\s+:{container_port}\s*$", config, re.MULTILINE)
    servers = re.findall(r"^\s*server\s+\S+\s+([\w-]+):(\d+)", config, re.MULTILINE)
    replicas = {name for name in compose_services_of_image("nordhem-service") if name != "migrate"}
    assert {host for host, _ in servers} == replicas
    assert {port for _, port in servers} == {"8000"}
    assert re.search(r"^\s*option\s+httpchk\s+GET\s+/health\s*$", config, re.MULTILINE)
    assert re.search(r"^\s*default-server\s.*\bcheck\b", config, re.MULTILINE)
    # hand-offs reach the service through the front, on the port it listens on
    for name, service in services.items():
        url = urlsplit(compose_environment(service).get("ESCALATION_URL", ""))
        if url.hostname == "front":
            assert url.port == int(container_port), name


# --- Kubernetes ------------------------------------------------------------------------------

def test_kustomization_applies_every_manifest_but_the_example_secret() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    manifests = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kustomization["resources"]) == manifests
    assert not [document for document in k8s_documents() if document["kind"] == "Secret"]
    images = {image["name"] for image in kustomization["images"]}
    used = {item["image"] for workload in workloads().values()
            for item in containers(workload, init=True)}
    assert used <= images == set(DOCKERFILES)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_manifests_are_valid_kubernetes_objects(version: str) -> None:
    documents = k8s_documents() + [yaml.safe_load((K8S / "secret.example.yaml").read_text())]
    for document in documents:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{document['kind']}/{document['metadata']['name']} (Kubernetes {version}): "
                        f"{'.'.join(map(str, error.path))}: {error.message}")


def test_the_kubernetes_check_catches_a_misspelt_field() -> None:
    deployment = json.loads(json.dumps(k8s_objects("Deployment")["service"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"tcpSocket": {"port": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)


def test_deployments_run_the_replicas_and_give_every_part_its_variables() -> None:
    deployments = k8s_objects("Deployment")
    assert {name: workload["spec"]["replicas"] for name, workload in workloads().items()} == {
        "rasa": 2, "service": 2, "actions": 1}
    assert list(k8s_objects("StatefulSet")) == ["rasa"]
    assert rasa_needs() - set(k8s_environment(container("rasa"))) == set()
    service = k8s_environment(container("service"))
    assert SERVICE_NEEDS - set(service) == set()
    assert {name for name in service if name.startswith("NORDHEM_")} <= known_settings()
    assert ACTIONS_NEED - set(k8s_environment(container("actions"))) == set()
    actions_own = {name for name in k8s_environment(container("actions")) if name.startswith("NORDHEM_")}
    assert actions_own <= ACTIONS_SETTINGS
    migrate = containers(deployments["service"], init=True)[0]
    assert migrate["command"] == ["python", "-m", "api", "migrate"]
    assert k8s_environment(migrate)["NORDHEM_DATABASE_URL"] == service["NORDHEM_DATABASE_URL"]


def test_k8s_references_are_defined_before_use() -> None:
    """Kubernetes expands $(NAME) only from entries above it; anything else stays literal."""
    for deployment in workloads().values():
        for item in containers(deployment, init=True):
            defined: set[str] = set()
            for entry in item.get("env", []):
                for name in K8S_REFERENCE.findall(str(entry.get("value", ""))):
                    assert name in defined, (item["name"], entry["name"], name)
                defined.add(entry["name"])
                reference = entry.get("valueFrom", {})
                if "configMapKeyRef" in reference and not reference["configMapKeyRef"].get("optional"):
                    assert reference["configMapKeyRef"]["name"] == "nordhem-config"
                    assert reference["configMapKeyRef"]["key"] in configmap(), entry["name"]
                if "secretKeyRef" in reference:
                    assert reference["secretKeyRef"]["name"] == "nordhem-secrets"
                    assert reference["secretKeyRef"]["key"] in example_secret(), entry["name"]


def test_k8s_secrets_come_from_secret_key_refs_and_the_example_holds_placeholders() -> None:
    for deployment in workloads().values():
        for item in containers(deployment, init=True):
            names = [entry["name"] for entry in item.get("env", [])]
            assert len(names) == len(set(names)), f"{item['name']}: a variable set twice"
            entries = {entry["name"]: entry for entry in item.get("env", [])}
            for name, entry in entries.items():
                if SECRET_NAME.search(name):
                    assert "secretKeyRef" in entry.get("valueFrom", {}), (item["name"], name)
                for password in re.findall(r"://[^:/@]+:([^@]+)@", str(entry.get("value", ""))):
                    source = K8S_REFERENCE.fullmatch(password)
                    assert source and "secretKeyRef" in entries[source.group(1)]["valueFrom"], name
    assert set(example_secret().values()) == {PLACEHOLDER}
    assert not [key for key in configmap() if SECRET_NAME.search(key)]


def test_the_parts_that_must_agree_share_one_secret_in_k8s() -> None:
    def key(item: Mapping[str, Any], name: str) -> str:
        entry = next(entry for entry in item["env"] if entry["name"] == name)
        return str(entry["valueFrom"]["secretKeyRef"]["key"])
    service, rasa, actions = container("service"), container("rasa"), container("actions")
    assert key(actions, "ESCALATION_HOOK_SECRET") == key(service, "NORDHEM_HOOK_SECRET")
    assert key(rasa, "NORDHEM_RASA_JWT_SECRET") == key(service, "NORDHEM_RASA_JWT_SECRET")
    assert key(rasa, "TRACKER_DB_PASSWORD") == key(service, "TRACKER_DB_PASSWORD")


def test_k8s_values_are_accepted_by_the_service_and_point_at_services() -> None:
    env = k8s_environment(container("service"))
    settings = settings_of(env)
    ports = {(name, port["port"]) for name, service in k8s_objects("Service").items()
             for port in service["spec"]["ports"]}
    for url in (settings.actions_url,
                k8s_environment(container("rasa"))["ACTION_ENDPOINT_URL"],
                k8s_environment(container("rasa"))["ESCALATION_URL"],
                k8s_environment(container("actions"))["ESCALATION_URL"]):
        assert (urlsplit(url).hostname, urlsplit(url).port) in ports, url
    assert not K8S_REFERENCE.search(settings.database_url + settings.tracker_store_url
                                    + settings.bus_url + settings.rate_limit_storage)
    assert settings.bus_url != settings.rate_limit_storage


def test_only_the_service_is_reachable_from_outside() -> None:
    ingresses = k8s_objects("Ingress")
    assert list(ingresses) == ["service"]
    backends = {path["backend"]["service"]["name"] for rule in ingresses["service"]["spec"]["rules"]
                for path in rule["http"]["paths"]}
    assert backends == {"service"}
    assert {service["spec"].get("type", "ClusterIP") for service in k8s_objects("Service").values()} \
        == {"ClusterIP"}
    for workload in workloads().values():
        spec = workload["spec"]["template"]["spec"]
        assert not spec.get("hostNetwork")
        assert not [port for item in spec["containers"] for port in item.get("ports", [])
                    if "hostPort" in port]


def test_services_select_their_deployments_pods_and_ports() -> None:
    """Each Service, PodDisruptionBudget and NetworkPolicy picks the pods of exactly the
    workload it is named after (a headless Service: the StatefulSet naming it serviceName)."""
    governing = {workload["spec"]["serviceName"]: name
                 for name, workload in k8s_objects("StatefulSet").items()}
    for name, service in k8s_objects("Service").items():
        target = governing.get(name, name)
        assert selected_workloads(service["spec"]["selector"]) == [target], name
        workload = workloads()[target]
        assert workload["spec"]["selector"]["matchLabels"].items() <= pod_labels(workload).items()
        named = {port["name"]: port["containerPort"] for item in containers(workload)
                 for port in item.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in named or port["targetPort"] in named.values(), name
    for kind in ("PodDisruptionBudget", "NetworkPolicy"):
        for name, policy in k8s_objects(kind).items():
            selector = policy["spec"].get("selector") or policy["spec"]["podSelector"]
            assert selected_workloads(selector["matchLabels"]) == [name], (kind, name)


def test_rasa_is_a_statefulset_and_the_service_lists_each_of_its_pods() -> None:
    """The service hashes each conversation onto one of NORDHEM_RASA_URLS: they must be the
    StatefulSet's pods by their stable names (<pod>.<headless service>), every replica and
    nothing else, on the port Rasa listens on. One load-balanced URL would make the hashing
    see a single server."""
    rasa = k8s_objects("StatefulSet")["rasa"]["spec"]
    assert rasa["podManagementPolicy"] == "Parallel"
    headless = k8s_objects("Service")[rasa["serviceName"]]["spec"]
    assert headless.get("clusterIP") == "None"
    # a pod that is not ready has no address, so the service fails over instead of waiting
    assert headless.get("publishNotReadyAddresses") is False
    assert selected_workloads(headless["selector"]) == ["rasa"]
    # nothing balances across the Rasa pods behind the hashing's back
    assert [name for name, service in k8s_objects("Service").items()
            if selected_workloads(service["spec"]["selector"]) == ["rasa"]] == [rasa["serviceName"]]
    namespace = yaml.safe_load((K8S / "kustomization.yaml").read_text())["namespace"]
    port = next(port["containerPort"] for port in container("rasa")["ports"] if port["name"] == "http")
    urls = settings_of(k8s_environment(container("service"))).rasa_url_list
    assert len(urls) == len(set(urls))
    pods = set()
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.port, parts.path) == ("http", port, ""), url
        match = re.fullmatch(rf"(rasa-\d+)\.{rasa['serviceName']}(\.{namespace}\.svc(\.cluster\.local)?)?",
                             parts.hostname or "")
        assert match, url
        pods.add(match.group(1))
    assert pods == {f"rasa-{ordinal}" for ordinal in range(rasa["replicas"])}


def test_readiness_probes_ask_the_right_paths() -> None:
    service = container("service")
    assert service["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert "httpGet" not in service["livenessProbe"]  # a database outage must not restart pods
    assert container("actions")["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    rasa = container("rasa")
    command = rasa["readinessProbe"]["exec"]["command"]
    assert command[:2] == ["python", "deploy/healthcheck.py"]
    assert urlsplit(command[2]).path == "/status"
    assert urlsplit(command[2]).port == rasa["ports"][0]["containerPort"]
    secret_variable = command[command.index("--jwt-secret-env") + 1]
    entry = next(entry for entry in rasa["env"] if entry["name"] == secret_variable)
    assert entry["valueFrom"]["secretKeyRef"]["key"] == "rasa-jwt-secret"
    copied = {source for _, sources, _ in copies("nordhem-bot") for source in sources}
    assert "deploy/healthcheck.py" in copied


def test_pods_run_as_the_images_non_root_user() -> None:
    for name, deployment in workloads().items():
        security = deployment["spec"]["template"]["spec"]["securityContext"]
        assert security["runAsNonRoot"] is True
        image = containers(deployment)[0]["image"]
        assert str(security["runAsUser"]) == image_user(image).split(":")[0], name
        for item in containers(deployment, init=True):
            assert item["securityContext"]["allowPrivilegeEscalation"] is False
            assert item["securityContext"]["capabilities"]["drop"] == ["ALL"]


# --- Dockerfiles -----------------------------------------------------------------------------

def image_user(image: str) -> str:
    users = [item["value"].strip() for item in final_stage(image) if item["instruction"] == "USER"]
    assert users, f"{image} runs as root"
    return users[-1]


def test_dockerfiles_pass_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(hadolint), "--format", "json", *map(str, DOCKERFILES.values())],
                            capture_output=True, text=True, check=False, timeout=60)
    findings = json.loads(result.stdout or "[]")
    assert not findings, [f"{Path(f['file']).name}:{f['line']} {f['code']} {f['message']}" for f in findings]
    assert result.returncode == 0, result.stderr


def test_rasa_start_script_passes_shellcheck() -> None:
    """hadolint checks the RUN lines; the entrypoint script gets ShellCheck itself (POSIX sh:
    the images' /bin/sh is dash)."""
    shellcheck = Path(sys.executable).parent / "shellcheck"
    result = subprocess.run([str(shellcheck), "--shell=sh", "--format=gcc",
                             str(DEPLOY / "docker" / "start-rasa.sh")],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("image", DOCKERFILES)
def test_images_run_as_a_numeric_non_root_user_with_a_healthcheck(image: str) -> None:
    user = image_user(image)
    assert re.fullmatch(r"\d+(:\d+)?", user), "numeric, so that runAsNonRoot can check it"
    assert int(user.split(":")[0]) != 0
    instructions = [item["instruction"] for item in final_stage(image)]
    assert "HEALTHCHECK" in instructions
    assert instructions.index("USER") > max(index for index, name in enumerate(instructions)
                                            if name in ("RUN", "COPY", "ADD"))


@pytest.mark.parametrize("image", DOCKERFILES)
def test_images_install_the_pinned_extras_on_the_right_python(image: str) -> None:
    bases = [item["value"].split()[0] for item in dockerfile(image) if item["instruction"] == "FROM"]
    assert bases[-1].startswith(f"python:{PYTHON_OF_IMAGE[image]}-")
    lock, extra = LOCK_OF_IMAGE[image]
    installs = [item["value"] for item in dockerfile(image)
                if item["instruction"] == "RUN" and "pip install" in item["value"]]
    assert installs and all(f"-c requirements/{lock}" in run and f'".[{extra}]"' in run for run in installs)
    assert (ROOT / "requirements" / lock).is_file()


def stage(image: str, name: str) -> list[tuple[str, str]]:
    instructions = dockerfile(image)
    start = next(index for index, item in enumerate(instructions)
                 if item["instruction"] == "FROM" and item["value"].split()[-1] == name)
    end = next((index for index, item in enumerate(instructions)
                if index > start and item["instruction"] == "FROM"), len(instructions))
    return [(item["instruction"], " ".join(item["value"].split())) for item in instructions[start:end]]


def test_bot_and_actions_images_share_one_dependency_stage() -> None:
    """Same instructions, same cache key: a builder installs Rasa's 2.7 GB once for both."""
    assert stage("nordhem-bot", "deps") == stage("nordhem-actions", "deps")


@pytest.mark.parametrize("image", DOCKERFILES)
def test_copy_sources_exist_and_are_in_the_build_context(image: str) -> None:
    stages = {item["value"].split()[-1] for item in dockerfile(image)
              if item["instruction"] == "FROM" and " AS " in item["value"].upper()}
    for stage, sources, _ in copies(image):
        if stage is not None:
            assert stage in stages, f"COPY --from={stage}: no such stage"
            continue
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert not ignored(source), f"COPY {source}: left out by .dockerignore"


@pytest.mark.parametrize("image", DOCKERFILES)
def test_images_hold_no_secrets(image: str) -> None:
    for item in dockerfile(image):
        if item["instruction"] in ("ENV", "ARG"):
            names = [word.split("=", 1)[0] for word in shlex.split(item["value"])]
            assert not [name for name in names if SECRET_NAME.search(name)], item["value"]
    for path in (".env", ".venv", ".venv-api", ".git", "models/current.tar.gz", "var/escalations.db",
                 "api/__pycache__/main.cpython-311.pyc", ".rasa/trackers.db"):
        assert ignored(path), f"{path} would be sent to the image build"
    for path in ("pyproject.toml", "README.md", "requirements/api.lock", "api/main.py",
                 "deploy/healthcheck.py", "deploy/docker/start-rasa.sh"):
        assert not ignored(path)


def files_core_reads() -> set[str]:
    """Repository files that core/ (in every image) opens beside itself, e.g. content/ and
    bot/config.yml (core/principles.py: the scorecard's thresholds)."""
    found = set()
    for path in (ROOT / "core").glob("*.py"):
        for parts in re.findall(r'(?:parents\[1\]|\bROOT)((?:\s*/\s*"[^"]+")+)', path.read_text()):
            found.add("/".join(re.findall(r'"([^"]+)"', parts)))
    return found


@pytest.mark.parametrize("image", DOCKERFILES)
def test_images_hold_the_files_core_reads(image: str) -> None:
    """A hand-off once failed in the action server's layout: core/ read bot/config.yml,
    which the image did not hold."""
    assert {"content", "bot/config.yml"} <= files_core_reads()
    copied = [source.rstrip("/") for stage, sources, _ in copies(image) if stage is None
              for source in sources]
    # each COPY puts its source at the same path under /app, beside core/
    assert (None, ["core/"], "core/") in copies(image)
    for needed in files_core_reads():
        assert any(needed == source or needed.startswith(source + "/") for source in copied), needed


def test_bot_image_trains_its_model_as_make_train_does_and_starts_in_scaled_mode() -> None:
    runs = " ".join(item["value"] for item in dockerfile("nordhem-bot") if item["instruction"] == "RUN")
    make_train = re.search(r"\btrain (--config \S+ --domain \S+ --data \S+)", (ROOT / "Makefile").read_text())
    assert make_train and f"rasa train {make_train.group(1)}" in runs
    assert "tools/fingerprint.py" in runs and "tools/build_domain.py" in runs
    assert ("train", ["/src/models/"], "models/") in copies("nordhem-bot")
    start = (DEPLOY / "docker" / "start-rasa.sh").read_text()
    for flag in ("--enable-api", '--jwt-secret="$NORDHEM_RASA_JWT_SECRET"', "--jwt-method HS256",
                 "--model models/current.tar.gz", "--endpoints bot/endpoints-scaled.yml",
                 "--credentials bot/credentials.yml"):
        assert flag in start
    entrypoint = [item["value"] for item in final_stage("nordhem-bot") if item["instruction"] == "ENTRYPOINT"]
    assert json.loads(entrypoint[-1]) == ["sh", "deploy/docker/start-rasa.sh"]


# --- deploy/healthcheck.py -------------------------------------------------------------------

SECRET = "probe-secret"


def load_healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", DEPLOY / "healthcheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def token_valid(header: str, now: float) -> bool:
    """Rasa's check of an HS256 admin token (signature and expiry), in short."""
    if not header.startswith("Bearer "):
        return False
    head, claims, signature = header.removeprefix("Bearer ").split(".")
    expected = hmac.new(SECRET.encode(), f"{head}.{claims}".encode(), hashlib.sha256).digest()
    given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    return hmac.compare_digest(expected, given) and payload["exp"] > now


class FakeRasa(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        if self.path == "/status":
            status = 200 if token_valid(self.headers.get("Authorization", ""), time.time()) else 401
        else:
            status = {"/": 200, "/loading": 409}.get(self.path, 404)
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def rasa_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_healthcheck_signs_a_token_for_rasa_status_from_the_environment(rasa_url: str) -> None:
    main = load_healthcheck().main
    args = [f"{rasa_url}/status", "--jwt-secret-env", "NORDHEM_RASA_JWT_SECRET"]
    assert main(args, environ={"NORDHEM_RASA_JWT_SECRET": SECRET}) == 0
    assert main(args, environ={"NORDHEM_RASA_JWT_SECRET": "another-secret"}) == 1
    assert main(args, environ={}) == 1
    assert main([f"{rasa_url}/status"], environ={}) == 1  # no token: 401
    # a token signed long ago has expired
    assert main(args, environ={"NORDHEM_RASA_JWT_SECRET": SECRET}, clock=lambda: time.time() - 3600) == 1


def test_healthcheck_fails_on_an_error_status_or_no_answer(rasa_url: str) -> None:
    main = load_healthcheck().main
    assert main([f"{rasa_url}/"], environ={}) == 0
    assert main([f"{rasa_url}/loading"], environ={}) == 1
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert main([f"http://127.0.0.1:{port}/health", "--timeout", "2"], environ={}) == 1
