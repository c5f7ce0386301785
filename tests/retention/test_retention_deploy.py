"""The deploy files run the job nightly, with DATABASE_URL, in the project directory."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.retention.retention_support import ROOT

DEPLOY = ROOT / "retention" / "deploy"


def test_crontab_runs_make_retention_nightly() -> None:
    lines = [
        line
        for line in (DEPLOY / "crontab").read_text().splitlines()
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]
    assert len(lines) == 1
    minute, hour, dom, month, dow, user, *command = lines[0].split()
    assert (dom, month, dow) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()
    assert user == "retail"
    assert "make retention" in " ".join(command) and "retention.env" in " ".join(command)


def test_systemd_service_and_timer() -> None:
    service = configparser.ConfigParser(strict=False)
    service.read(DEPLOY / "retail-assistant-retention.service")
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["ExecStart"].split()[1:3] == ["-m", "retention"]
    assert service["Service"]["WorkingDirectory"] == "/opt/retail-assistant"
    assert "EnvironmentFile" in service["Service"]
    timer = configparser.ConfigParser(strict=False)
    timer.read(DEPLOY / "retail-assistant-retention.timer")
    assert timer["Timer"]["OnCalendar"].startswith("*-*-* ")
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_kubernetes_cronjob() -> None:
    doc = yaml.safe_load((DEPLOY / "cronjob.yaml").read_text())
    assert doc["kind"] == "CronJob" and doc["apiVersion"] == "batch/v1"
    spec = doc["spec"]
    assert len(spec["schedule"].split()) == 5 and spec["schedule"].split()[2:] == ["*"] * 3
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"][:3] == ["python", "-m", "retention"]
    # secrets come from Secrets: the database URL, and the action-server token that
    # endpoints.yml names
    assert [e["name"] for e in container["env"]] == ["DATABASE_URL", "ACTION_SERVER_TOKEN"]
    assert all("secretKeyRef" in e["valueFrom"] for e in container["env"])
    # endpoints.yml names more variables than DATABASE_URL: the Rasa deployment's config
    assert container["envFrom"] == [{"configMapRef": {"name": "retail-assistant-env"}}]


def test_the_job_refuses_clearly_when_endpoints_variables_are_missing(tmp_path: Path) -> None:
    """Only DATABASE_URL set: exit 2 with the missing variable named, nothing touched."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ACTION_SERVER_URL", "LOCK_STORE_TYPE", "REDIS_HOST")
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'rasa.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "retention"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "ACTION_SERVER_URL" in proc.stderr or "LOCK_STORE_TYPE" in proc.stderr
