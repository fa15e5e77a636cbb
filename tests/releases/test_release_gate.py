"""A failing stage stops the release flow: nothing after it runs, so a bad dataset is never published.

The stages here are stand-ins (shell commands) with the real stage names; the real validate
stage's failure on planted defects is tested in test_validation.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from workspace import GIT, workspace_env

STAGES = ["fetch", "preprocess", "base_model", "finetune_user", "finetune_recommender",
          "simulate", "baselines", "validate", "evaluate", "publish"]


@pytest.fixture()
def workspace(tmp_path: Path, repo_root: Path) -> Path:
    work = tmp_path / "main"
    work.mkdir()
    shutil.copy(repo_root / "params.yaml", work / "params.yaml")
    stages = {
        name: {"cmd": "exit 3" if name == "validate" else f"echo {name} > out-{name}.txt",
               "outs": [f"out-{name}.txt"]}
        for name in STAGES
    }
    (work / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}, sort_keys=False))
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=work, check=True)
    subprocess.run(GIT + ["add", "-A"], cwd=work, check=True)
    subprocess.run(GIT + ["commit", "-qm", "gate"], cwd=work, check=True)
    return work


@pytest.mark.slow
def test_a_failed_gate_stops_the_release_before_publishing(workspace: Path, repo_root: Path) -> None:
    env = workspace_env(workspace)
    env["PYTHONPATH"] = str(repo_root)
    proc = subprocess.run([sys.executable, "-m", "flows.release"], cwd=workspace, env=env,
                          capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "stage 'validate' failed" in output
    assert (workspace / "out-simulate.txt").exists()
    assert not (workspace / "out-evaluate.txt").exists()
    assert not (workspace / "out-publish.txt").exists()
