"""The deployment recipe: compose.yaml, the Dockerfile and the systemd unit say what the docs say.

No container engine runs here: the files are linted; the image is built only where `docker info`
answers (a CI runner with a runtime)."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def _dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_dockerfile_has_a_pinned_slim_base_a_non_root_user_and_a_healthcheck():
    instructions = _dockerfile()
    bases = [line.split()[1] for line in instructions if line.startswith("FROM ")]
    assert bases and all(re.fullmatch(r"python:\d+\.\d+\.\d+-slim(-\w+)?", base) for base in bases), bases
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    (healthcheck,) = [line for line in instructions if line.startswith("HEALTHCHECK ")]
    assert "/healthz" in healthcheck
    assert any(line.startswith("STOPSIGNAL SIGTERM") for line in instructions)


def test_compose_runs_postgres_two_api_processes_and_two_workers():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    apis = [name for name, service in services.items() if service.get("command", [])[:2] == ["serve", "--no-engine"]]
    workers = [name for name, service in services.items() if service.get("command", [])[:1] == ["worker"]]
    assert len(apis) == 2 and len(workers) == 2
    for name in apis + workers:
        service = services[name]
        assert service["environment"]["ENCOLA_DATABASE_URL"].startswith("postgresql://")
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        # Docker's stop waits longer than encola's graceful stop needs.
        grace = int(service["environment"]["ENCOLA_SHUTDOWN_GRACE"].rstrip("s"))
        assert int(service["stop_grace_period"].rstrip("s")) > 2 * grace
    for name in workers:  # the image's healthcheck asks port 8000 for /healthz: workers serve it there
        assert services[name]["command"][-2:] == ["--ops-port", "8000"]
    assert "${ENCOLA_SECRET_KEY:?" in (ROOT / "compose.yaml").read_text()  # never a default secret


def test_systemd_unit_stops_gracefully_and_is_hardened():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string((ROOT / "deploy" / "encola.service").read_text())
    service = unit["Service"]
    assert service["User"] == "encola"
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > 2 * 20
    for option in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "RestrictSUIDSGID"):
        assert service[option] in ("yes", "strict"), option
    assert "encola serve" in service["ExecStart"]


def _docker_runs() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _docker_runs(), reason="no container runtime here (docker info fails): the files are linted only")
def test_the_image_builds_and_runs_as_a_non_root_user():
    tag = "encola:test-build"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=1200)
    user = subprocess.run(["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"], capture_output=True, text=True, check=True)
    assert user.stdout.strip() != "0"
    version = subprocess.run(["docker", "run", "--rm", tag, "--help"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and "serve" in version.stdout
