"""A release run killed at any moment (SIGKILL to its process group) leaves a workspace the next
run resumes, and the resumed outputs are byte-identical to an uninterrupted run's.

Each test starts from the finished workspace of the ``finished_release`` fixture, takes away
what the stage under test made (and what DVC would restore it from without running anything: its
run cache and the cached objects), kills a run at its moment, reruns, and compares every output
with the uninterrupted run. The cheap, unit-level checks of the repairs are in
``test_dvc_state.py``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from finished_release import FinishedRelease, kill_flow_when, output_hashes, run_flow

pytestmark = [pytest.mark.slow, pytest.mark.resume]


def _forget(work: Path, stage: str) -> None:
    """Take away a stage's outputs and what DVC would restore them from (its run cache and the
    cached objects of the outputs), so that the next run must really run the stage."""
    entry = yaml.safe_load((work / "dvc.lock").read_text())["stages"][stage]
    for out in entry["outs"]:
        path = work / out["path"]
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        digest = out.get("md5")
        if digest:
            (work / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]).unlink(missing_ok=True)
    shutil.rmtree(work / ".dvc" / "cache" / "runs", ignore_errors=True)


def _whole_checkpoint(folder: Path) -> bool:
    """A checkpoint the Trainer finished writing: its trainer state (written last) reads back."""
    for state in folder.glob("checkpoint-*/trainer_state.json"):
        try:
            json.loads(state.read_text(encoding="utf-8"))
            return True
        except (OSError, ValueError):
            continue
    return False


def test_killed_during_finetuning_resumes_from_a_checkpoint(finished_release: FinishedRelease) -> None:
    work, env = finished_release.work, finished_release.env
    _forget(work, "finetune_user")
    checkpoints = work / "data" / "checkpoints" / "user"

    # At the first sign of a checkpoint, most likely while the Trainer is still writing it ...
    kill_flow_when(work, env, lambda: any(checkpoints.glob("checkpoint-*")), "first checkpoint folder")
    # ... and once a whole checkpoint exists, so that the last run resumes from it.
    kill_flow_when(work, env, lambda: _whole_checkpoint(checkpoints), "whole checkpoint")

    states, log = run_flow(work, env)
    assert states["finetune_user"] == "Completed", states
    metrics = json.loads((work / "models" / "user" / "metrics.json").read_text())
    assert metrics["resumed_from_step"] >= 2, log[-4000:]
    assert output_hashes(work) == finished_release.reference


def test_killed_between_simulation_shards_resumes_from_them(finished_release: FinishedRelease) -> None:
    work, env = finished_release.work, finished_release.env
    _forget(work, "simulate")
    shutil.rmtree(work / "data" / "work" / "interplay")  # the finished run's shards
    shards = work / "data" / "work" / "interplay"

    kill_flow_when(work, env, lambda: any(shards.glob("*/shard-*.parquet")), "first simulation shard")
    (run_dir,) = list(shards.iterdir())
    done = len(list(run_dir.glob("shard-*.parquet")))
    assert 0 < done < 3, f"{done} of 3 shards were done when the run was killed"

    states, log = run_flow(work, env)
    assert states["simulate"] == "Completed", states
    assert f"resuming, {done} of 3 shards already done" in log
    assert output_hashes(work) == finished_release.reference


def test_killed_during_dvc_checkout_and_cut_lock_files_recover(finished_release: FinishedRelease) -> None:
    work, env = finished_release.work, finished_release.env
    restored = ["data/simulated", "data/baselines", "models/recommender/adapter", "release"]
    for out in restored:
        shutil.rmtree(work / out)
    # DVC restores these from its cache (run cache kept); kill as soon as the first is back.
    kill_flow_when(work, env, lambda: (work / "models" / "recommender" / "adapter").exists(), "checkout")
    # What such a kill leaves when it hits DVC rewriting its files in place (seen: a 0-byte
    # dvc.lock after which every run failed), made certain here rather than left to timing.
    (work / "dvc.lock").write_text("")
    (work / ".dvc" / "tmp" / "rwlock").write_text('{"read": {"')

    states, log = run_flow(work, env)
    assert "dvc.lock was unusable (it is empty)" in log and "restored it from the last good copy" in log, log[-4000:]
    assert ".dvc/tmp/rwlock was unreadable" in log
    assert set(states.values()) <= {"Cached", "Completed"}, states
    assert output_hashes(work) == finished_release.reference
    states, _ = run_flow(work, env)  # and the workspace is whole again: nothing left to do
    assert set(states.values()) == {"Cached"}, states
