"""End to end, as a user runs it: the release flow on the smoke profile in a scratch git workspace.

Release v0.1.0 to the loopback Hub, rerun with nothing changed (every stage Cached, no stage
executes), change a parameter and release v0.2.0 (only what depends on it reruns), reproduce
v0.1.0 from its tag with identical dataset hashes. Kills and resumes: tests/simulation/test_kill_resume.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from finished_release import set_params
from hub_fixtures import LoopbackHub, loopback_hub  # noqa: F401  (fixture)
from workspace import make_workspace, workspace_env

pytestmark = pytest.mark.slow

_SUMMARY = re.compile(r"^(?:.*\s)?(\w+)\s{2,}(Cached|Completed|Failed|Crashed)\s+[\d.]+ s\s*$", re.M)
REPO_ID = "interplay-test/smoke"
#: The smoke profile with fewer simulated dialogues (two shards of four, two of each baseline): what
#: this test checks is which stages run, are cached and are released, not how many rows they make.
LIGHT = {
    "simulation.num_profiles": 8,
    "simulation.zero_shot.num_profiles": 2,
    "simulation.reference_dependent.num_profiles": 2,
}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, corpora: Path) -> Path:
    return make_workspace(tmp_path_factory.mktemp("e2e"), repo_root, corpora)


def _set(work: Path, changes: dict[str, object], commit: str) -> None:
    set_params(work, changes)
    subprocess.run(["git", "commit", "-qam", commit], cwd=work, check=True)


def _env(work: Path, hub: LoopbackHub) -> dict[str, str]:
    hub_env = hub.client_env(work.parent / "hf_home")
    return workspace_env(work, **{k: v for k, v in hub_env.items() if k.startswith("HF_")})


def _release(work: Path, env: dict[str, str], *args: str) -> tuple[dict[str, str], float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "flows.release", *args], cwd=work, env=env,
        capture_output=True, text=True, timeout=900,
    )
    seconds = time.monotonic() - started
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    states = dict(_SUMMARY.findall(output))
    assert states, output[-4000:]
    return states, seconds


def _run(work: Path, env: dict[str, str], *cmd: str) -> str:
    proc = subprocess.run(list(cmd), cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_release_lifecycle(scratch: Path, loopback_hub: LoopbackHub) -> None:  # noqa: F811
    env = _env(scratch, loopback_hub)
    dvc = [sys.executable, "-m", "dvc"]
    stages = list(yaml.safe_load((scratch / "dvc.yaml").read_text())["stages"])
    release = {"publish.target": "hub", "publish.repo_id": REPO_ID, "publish.version": "v0.1.0"}
    _set(scratch, {**LIGHT, **release}, "publish to hub")

    # v0.1.0: every stage runs; DVC records what made each output; git, DVC remote and Hub agree.
    first, _ = _release(scratch, env, "--tag")
    assert list(first) == stages and set(first.values()) == {"Completed"}, first
    assert set(yaml.safe_load((scratch / "dvc.lock").read_text())["stages"]) == set(stages)
    assert "v0.1.0" in _run(scratch, env, "git", "tag", "--list")
    assert "v0.1.0" in loopback_hub.repo_state(REPO_ID)["tags"]

    # Nothing changed: no stage executes, DVC agrees.
    second, noop_seconds = _release(scratch, env)
    assert set(second.values()) == {"Cached"}, second
    print(f"no-op rerun: {noop_seconds:.1f} s")
    assert "Data and pipelines are up to date" in _run(scratch, env, *dvc, "repro")

    # A simulation parameter changes: upstream stays cached, the rest reruns, v0.2.0 is released.
    _set(scratch, {"simulation.max_turns": 6, "publish.version": "v0.2.0"}, "shorter dialogues")
    third, _ = _release(scratch, env, "--tag")
    for stage in ("fetch", "preprocess", "base_model", "finetune_user", "finetune_recommender"):
        assert third[stage] == "Cached", third
    assert third["simulate"] == "Completed" and third["publish"] == "Completed", third
    assert {"v0.1.0", "v0.2.0"} <= set(loopback_hub.repo_state(REPO_ID)["tags"])

    # Reproduce v0.1.0 from its tag (outputs pulled from the DVC remote): identical hashes.
    out = _run(scratch, env, sys.executable, "-m", "interplay.cli", "reproduce", "v0.1.0",
               "--workspace", str(scratch.parent / "repro-v0.1.0"))
    assert "identical to the release" in out, out

    # Killing a run and resuming it (between shards, during fine-tuning, during DVC checkout) is
    # tested against an uninterrupted run in tests/simulation/test_kill_resume.py.
