"""Unit tests: `ray_cluster.yaml` is a valid Ray cluster-launcher config that installs this project."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import ray.autoscaler

pytestmark = pytest.mark.unit

CONFIG_PATH = Path(__file__).resolve().parents[2] / "ray_cluster.yaml"
SCHEMA_PATH = Path(os.path.dirname(ray.autoscaler.__file__)) / "ray-schema.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    assert SCHEMA_PATH.is_file(), f"Ray no longer ships {SCHEMA_PATH}"
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return loaded


@pytest.fixture()
def config() -> dict[str, Any]:
    loaded = yaml.safe_load(CONFIG_PATH.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _errors(config: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    return [e.message for e in validator_cls(schema).iter_errors(config)]


def test_config_matches_rays_schema(config: dict[str, Any], schema: dict[str, Any]) -> None:
    assert _errors(config, schema) == []


def test_config_passes_rays_own_preparation_and_validation(config: dict[str, Any]) -> None:
    import ray.autoscaler._private.util as util  # Ray is a hard dependency: fail, do not skip
    util.validate_config(config)
    util.validate_config(util.prepare_config(copy.deepcopy(config)))  # what `ray up` does


def test_head_and_an_autoscaled_cpu_worker_type(config: dict[str, Any]) -> None:
    node_types = config["available_node_types"]
    head = config["head_node_type"]
    assert head in node_types
    workers = {name: spec for name, spec in node_types.items() if name != head}
    autoscaled = [
        name for name, spec in workers.items()
        if spec.get("max_workers", 0) > spec.get("min_workers", 0) and spec["resources"].get("CPU", 0) > 0
    ]
    assert autoscaled, "need at least one CPU worker type with max_workers > min_workers"
    assert config["max_workers"] >= max(spec.get("min_workers", 0) for spec in workers.values())
    assert config["provider"]["type"] in {"aws", "gcp", "azure", "kuberay", "vsphere"}


def test_setup_commands_install_this_project(config: dict[str, Any]) -> None:
    mounts = config["file_mounts"]
    checkout = next((remote for remote, local in mounts.items() if local in {".", "./"}), None)
    assert checkout, "the repository checkout must be synced to the nodes"
    installs = [cmd for cmd in config["setup_commands"] if "pip install" in cmd and checkout in cmd]
    assert installs, f"no setup command pip-installs {checkout}"
    assert any("ray start --head" in cmd for cmd in config["head_start_ray_commands"])
    assert any("ray start --address" in cmd for cmd in config["worker_start_ray_commands"])


def test_the_dashboard_listens_on_the_heads_loopback_only(config: dict[str, Any]) -> None:
    # It accepts job submission (any code on every node): reached through `ray dashboard ray_cluster.yaml`.
    head = " ".join(config["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in head and "0.0.0.0" not in head


@pytest.mark.parametrize(
    "break_it",
    [
        lambda c: c.update(unknown_top_level_key=True),
        lambda c: c.pop("provider"),
        lambda c: c["available_node_types"]["head"].pop("resources"),
        lambda c: c["available_node_types"]["cpu_worker"].update(max_workers="four"),
        lambda c: c.update(setup_commands="pip install -e ."),
    ],
    ids=["unknown-key", "no-provider", "node-without-resources", "max-workers-not-int", "commands-not-list"],
)
def test_broken_variants_fail_validation(config: dict[str, Any], schema: dict[str, Any], break_it: Any) -> None:
    broken = copy.deepcopy(config)
    break_it(broken)
    assert _errors(broken, schema)
