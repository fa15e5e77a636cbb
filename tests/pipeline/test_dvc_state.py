"""The repairs the release flow makes before DVC starts: a dvc.lock or rwlock a kill cut short."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from workspace import GIT

from interplay.pipeline.dvc_state import LAST_GOOD, LOCK, RWLOCK, keep_good_copy, lock_problem, recover

GOOD = """schema: '2.0'
stages:
  fetch:
    cmd: interplay fetch
    outs:
    - path: data/raw
      hash: md5
      md5: 0123456789abcdef0123456789abcdef.dir
      size: 10
      nfiles: 2
"""
OLDER = GOOD.replace("size: 10", "size: 9")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    return tmp_path


def _commit_lock(root: Path, text: str) -> None:
    (root / LOCK).write_text(text)
    subprocess.run(GIT + ["add", str(LOCK)], cwd=root, check=True)
    subprocess.run(GIT + ["commit", "-qm", "lock"], cwd=root, check=True)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "it is empty"),
        ("\n  \n", "it is empty"),
        ("schema: '2.0'\nstages:\n  fetch: [\n", "it is not valid YAML at line 4"),
        (GOOD[: GOOD.index("size:") + 5], "DVC's lock schema rejects it"),  # cut after a key
        ("schema: '1.0'\nstages: {}\n", "DVC's lock schema rejects it"),
    ],
)
def test_a_cut_or_foreign_lock_is_told_apart_from_a_good_one(text: str, problem: str) -> None:
    assert (lock_problem(text) or "").startswith(problem)
    assert lock_problem(GOOD) is None


def test_an_empty_lock_comes_back_from_the_last_good_copy(workspace: Path) -> None:
    _commit_lock(workspace, OLDER)
    (workspace / LOCK).write_text(GOOD)
    keep_good_copy(workspace)
    assert (workspace / LAST_GOOD).read_text() == GOOD
    (workspace / LOCK).write_text("")  # what a kill during DVC's write leaves
    (messages,) = recover(workspace)
    assert (workspace / LOCK).read_text() == GOOD  # the newer copy, not git's
    assert messages.startswith("dvc.lock was unusable (it is empty)")
    assert f"restored it from the last good copy {LAST_GOOD}" in messages
    assert recover(workspace) == []  # nothing left to repair


def test_without_a_good_copy_the_committed_lock_is_used_else_none(workspace: Path) -> None:
    _commit_lock(workspace, OLDER)
    (workspace / LOCK).write_text(GOOD[: GOOD.index("size:") + 5])  # cut inside the stage entry
    (workspace / LAST_GOOD).parent.mkdir(parents=True)
    (workspace / LAST_GOOD).write_text("stages: [")  # a copy that is itself no good is skipped
    (message,) = recover(workspace)
    assert "restored it from git's HEAD" in message
    assert (workspace / LOCK).read_text() == OLDER

    subprocess.run(GIT + ["rm", "-q", str(LOCK)], cwd=workspace, check=True)
    subprocess.run(GIT + ["commit", "-qm", "no lock"], cwd=workspace, check=True)
    (workspace / LOCK).write_bytes(b"\xff\xfe")
    (message,) = recover(workspace)
    assert "(it is not UTF-8 text)" in message and "no good copy exists: removed it" in message
    assert not (workspace / LOCK).exists()


def test_a_good_lock_and_a_missing_one_are_left_alone(workspace: Path) -> None:
    assert recover(workspace) == []
    (workspace / LOCK).write_text(GOOD)
    assert recover(workspace) == [] and (workspace / LOCK).read_text() == GOOD
    (workspace / LOCK).write_text("")
    keep_good_copy(workspace)  # a bad lock never becomes the good copy
    assert not (workspace / LAST_GOOD).exists()


def test_a_cut_rwlock_is_removed_and_a_readable_one_kept(workspace: Path) -> None:
    rwlock = workspace / RWLOCK
    rwlock.parent.mkdir(parents=True)
    rwlock.write_text('{"read": {}, "write": {}}')
    assert recover(workspace) == [] and rwlock.exists()
    rwlock.write_text('{"read": {"')
    (message,) = recover(workspace)
    assert message.startswith(".dvc/tmp/rwlock was unreadable") and not rwlock.exists()
