"""deploy/: the Kubernetes set validated against the Kubernetes API schemas (kubernetes-validate), the compose
file against the Compose Specification schema, and the mappings ConfigMaps in step with mappings/. No Docker
engine or cluster runs here: these check the files, not a deployment."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
KUBERNETES = "1.30.0"
DOCS = [(path.name, i, doc) for path in K8S for i, doc in enumerate(yaml.safe_load_all(path.read_text())) if doc]


@pytest.mark.parametrize("name, index, doc", DOCS, ids=[f"{n}[{i}]:{d['kind']}" for n, i, d in DOCS])
def test_every_kubernetes_manifest_is_valid(name, index, doc):
    kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_the_set_has_what_production_needs():
    kinds = {d["kind"] for _, _, d in DOCS}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap",
            "Secret"} <= kinds
    (deployment,) = [d for _, _, d in DOCS if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # Every ConfigMap and Secret a pod refers to is in the set.
    names = {d["metadata"]["name"] for _, _, d in DOCS if d["kind"] in ("ConfigMap", "Secret")}
    used = {v.get("configMap", v.get("secret", {})).get("name") or v.get("secret", {}).get("secretName")
            for v in pod["volumes"] if "configMap" in v or "secret" in v}
    assert used <= names, used - names


def test_the_mappings_configmaps_match_the_mappings_folder():
    spec = importlib.util.spec_from_file_location("k8s_mappings", ROOT / "scripts" / "k8s_mappings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "deploy" / "k8s" / "mappings.yaml").read_text(encoding="utf-8")
    assert committed == module.configmaps(ROOT / "mappings"), "run: python scripts/k8s_mappings.py"


def test_the_compose_file_follows_the_compose_specification():
    schema = json.loads((Path(__file__).resolve().parent / "compose-spec.json").read_text())
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    jsonschema.validate(compose, schema)
    assert {"pa-advisor-1", "pa-advisor-2", "nginx", "postgres", "redis", "sekmet"} <= set(compose["services"])
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server pa-advisor-1:8080" in nginx and "server pa-advisor-2:8080" in nginx


def test_the_image_pins_every_runtime_dependency():
    import re
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = deps["dependencies"] + deps["optional-dependencies"]["postgres"] + deps["optional-dependencies"]["otel"]
    pinned = {re.split(r"==", line)[0].lower().replace("_", "-")
              for line in (ROOT / "deploy" / "constraints.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    for dep in wanted:
        name = re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pinned, f"{name} is not pinned in deploy/constraints.txt"
    assert "constraints.txt" in (ROOT / "deploy" / "Dockerfile").read_text()


def test_the_pod_and_every_published_port_are_where_the_image_listens():
    from cdshooks.settings import DEFAULT_BIND

    (settings,) = [d for _, _, d in DOCS if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "pa-advisor-settings"]
    (deployment,) = [d for _, _, d in DOCS if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    bind = settings["data"].get("PA_BIND", DEFAULT_BIND)
    assert container["ports"][0]["containerPort"] == int(bind.rpartition(":")[2])
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    for name in ("pa-advisor-1", "pa-advisor-2"):
        port = compose["services"][name].get("environment", {}).get("PA_BIND", DEFAULT_BIND).rpartition(":")[2]
        assert f"server {name}:{port}" in nginx
