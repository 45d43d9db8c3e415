"""The deployment files say what the README promises: compose, image, environment."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from services.cli import env_documentation

ROOT = Path(__file__).resolve().parent.parent


def test_env_example_documents_every_variable():
    assert (ROOT / ".env.example").read_text() == env_documentation(), (
        "run `balise env-example > .env.example`"
    )
    text = env_documentation()
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "BALISE_SECRET_KEY",
        "WEB_INGEST_URL",
        "INGEST_WEB_URL",
        "WEB_SESSION_HOURS",
    ):
        assert f"# {name}=" in text
    # Every variable has a description line above it.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# ") and "=" in line and line[2:].split("=")[0].isupper():
            assert lines[i - 1].startswith("# ") and "=" not in lines[i - 1].split(" ")[1], line


def test_compose_describes_the_production_deployment():
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = spec["services"]
    expected = {
        "postgres",
        "redis",
        "migrate",
        "web",
        "ingest",
        "benchmark",
        "planner",
        "worker-ingest",
        "worker-benchmark",
        "worker-planner",
    }
    assert expected <= set(services)
    for name in ("postgres", "redis", "web", "ingest", "benchmark", "planner"):
        assert "healthcheck" in services[name], name
    for name in ("web", "ingest", "benchmark", "planner", "worker-ingest"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["balise", "migrate"]
    assert services["worker-planner"]["command"] == ["balise", "worker", "planner"]


def test_compose_gives_every_service_that_keeps_secrets_its_encryption_key():
    """Production refuses to start a service keeping secrets without its key: compose
    must pass one to each (its own ``<PREFIX>_ENCRYPTION_KEY`` or the shared one)."""
    import importlib

    from shared.settings import EncryptionSettings

    env = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-balise"]["environment"]
    keeping = []
    for svc in ("web", "ingest", "benchmark", "planner"):
        cls = getattr(
            importlib.import_module(f"services.{svc}.config"), f"{svc.capitalize()}Settings"
        )
        if issubclass(cls, EncryptionSettings):
            keeping.append(svc)
            prefix = cls.model_config.get("env_prefix") or ""
            assert f"{prefix}ENCRYPTION_KEY" in env or "BALISE_ENCRYPTION_KEY" in env, svc
    assert {"ingest", "benchmark", "planner"} <= set(keeping)


def _compose_available() -> bool:
    if not shutil.which("docker"):
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(not _compose_available(), reason="no docker client with compose here")
def test_docker_compose_config_is_valid():
    env = {
        **os.environ,
        "POSTGRES_PASSWORD": "x",
        "BALISE_SECRET_KEY": "y",
        "INGEST_ENCRYPTION_KEY": "z",
        "BENCHMARK_ENCRYPTION_KEY": "z",
        "PLANNER_ENCRYPTION_KEY": "z",
    }
    r = subprocess.run(
        ["docker", "compose", "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
