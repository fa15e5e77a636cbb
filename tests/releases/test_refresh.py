"""Scheduled refresh: the decision it makes, and its deployment on a real local Prefect server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from prefect_server import prefect_server
from workspace import make_workspace, workspace_env

from interplay.releases.versions import input_fingerprint, next_version, set_version


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, corpora: Path) -> Path:
    return make_workspace(tmp_path_factory.mktemp("refresh"), repo_root, corpora)


def _record(work: Path, version: str) -> None:
    """A release record as if ``version`` had been released from the current inputs."""
    (work / "releases").mkdir(exist_ok=True)
    record = {"version": version, "fingerprint": input_fingerprint(work), "files": {}}
    (work / "releases" / f"{version}.json").write_text(json.dumps(record))


def test_fingerprint_sees_inputs_but_not_the_version_name(workspace: Path) -> None:
    before = input_fingerprint(workspace)
    set_version(workspace, "v9.9.9")
    assert yaml.safe_load((workspace / "params.yaml").read_text())["publish"]["version"] == "v9.9.9"
    assert "# " in (workspace / "params.yaml").read_text()  # comments kept
    assert input_fingerprint(workspace) == before
    params = yaml.safe_load((workspace / "params.yaml").read_text())
    params["simulation"]["max_turns"] += 1
    (workspace / "params.yaml").write_text(yaml.safe_dump(params))
    assert input_fingerprint(workspace) != before
    subprocess.run(["git", "checkout", "params.yaml"], cwd=workspace, check=True)
    assert next_version("v0.1.9") == "v0.1.10"


@pytest.mark.slow
def test_scheduled_deployment_runs_on_a_local_server(workspace: Path, tmp_path: Path) -> None:
    _record(workspace, "v0.1.0")
    with prefect_server(tmp_path / "server") as api:
        env = workspace_env(workspace, PREFECT_API_URL=api, PREFECT_HOME=str(tmp_path / "client"))
        serve = subprocess.Popen(
            [sys.executable, "-m", "flows.refresh", "serve"], cwd=workspace, env=env,
            stdout=(tmp_path / "serve.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            deployment = "refresh/interplay-refresh"
            deadline = time.monotonic() + 180
            while True:  # wait until serve has registered the deployment with its schedule
                shown = subprocess.run(
                    [sys.executable, "-m", "prefect", "deployment", "inspect", deployment],
                    env=env, capture_output=True, text=True,
                )
                if shown.returncode == 0:
                    break
                assert serve.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(1)
            assert "0 3 * * 1" in shown.stdout  # the cron schedule from params.yaml
            run = subprocess.run(
                [sys.executable, "-c",
                 "from prefect.deployments import run_deployment;"
                 f"r = run_deployment({deployment!r}, timeout=240);"
                 "print(r.state.type.value)"],
                env=env, capture_output=True, text=True, timeout=300,
            )
            assert run.returncode == 0, run.stdout + run.stderr
            log = (tmp_path / "serve.log").read_text()
            assert "COMPLETED" in run.stdout, run.stdout + log
            assert "no change since v0.1.0" in log  # nothing changed: nothing released
            from prefect.client.orchestration import get_client
            from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
                (decision,) = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["refresh"])))
            assert decision.data == "No change since v0.1.0: nothing published."  # in the UI too
        finally:
            os.killpg(serve.pid, signal.SIGTERM)
            serve.wait(timeout=30)
