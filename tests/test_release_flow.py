"""End to end: the release flow on the smoke profile, in a scratch clone, as a user runs it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

_SUMMARY = re.compile(r"^(?:.*\s)?(\w+)\s{2,}(Cached|Completed|Failed|Crashed)\s+[\d.]+ s\s*$", re.M)


def _tracked_files(repo: Path) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout
    return [f for f in out.split("\0") if f and (repo / f).is_file()]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, corpora: Path) -> Path:
    """A clone of the working tree beside a ``shared`` folder, as on a user's machine."""
    top = tmp_path_factory.mktemp("scratch")
    (top / "shared").symlink_to(corpora.parent, target_is_directory=True)
    work = top / "main"
    for rel in _tracked_files(repo_root):
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo_root / rel, work / rel)
    shutil.copy(work / "profiles" / "smoke.yaml", work / "params.yaml")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    subprocess.run(git + ["add", "-A"], cwd=work, check=True)
    subprocess.run(git + ["commit", "-qm", "scratch"], cwd=work, check=True)
    return work


def _env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PREFECT_HOME"] = str(work / ".prefect")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    return env


def _release(work: Path) -> dict[str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "flows.release"], cwd=work, env=_env(work),
        capture_output=True, text=True, timeout=900,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    states = dict(_SUMMARY.findall(output))
    assert states, output[-4000:]
    return states


def _dvc(work: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=work, env=_env(work),
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_release_runs_every_stage_then_caches_and_reruns_only_what_changed(scratch: Path) -> None:
    stages = list(yaml.safe_load((scratch / "dvc.yaml").read_text())["stages"])

    first = _release(scratch)
    assert list(first) == stages
    assert set(first.values()) == {"Completed"}
    lock = yaml.safe_load((scratch / "dvc.lock").read_text())
    assert set(lock["stages"]) == set(stages)  # DVC recorded what made every output
    assert (scratch / "data" / "processed" / "profiles.parquet").is_file()

    second = _release(scratch)
    assert set(second.values()) == {"Cached"}, second

    assert "Data and pipelines are up to date" in _dvc(scratch, "repro")

    params = yaml.safe_load((scratch / "params.yaml").read_text())
    params["preprocess"]["max_summary_titles"] = 2
    (scratch / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    status = _dvc(scratch, "status")
    assert "preprocess" in status and "fetch:" not in status
    third = _release(scratch)
    assert third["fetch"] == "Cached"
    assert third["preprocess"] == "Completed"
