"""Scratch workspaces for end-to-end tests: a git clone of the working tree beside ``shared/``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

GIT = ["git", "-c", "user.name=Interplay Test", "-c", "user.email=test@example.invalid"]


def _visible_files(repo: Path) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout
    return [f for f in out.split("\0") if f and (repo / f).is_file()]


def make_workspace(top: Path, repo: Path, corpora: Path, profile: str = "smoke") -> Path:
    """``top/main``: the working tree with ``profiles/<profile>.yaml`` as params.yaml, committed;
    ``top/shared`` links to the real shared folder, so ``../shared/corpora`` resolves as here."""
    (top / "shared").symlink_to(corpora.parent, target_is_directory=True)
    work = top / "main"
    for rel in _visible_files(repo):
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / rel, work / rel)
    shutil.copy(work / "profiles" / f"{profile}.yaml", work / "params.yaml")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=work, check=True)
    subprocess.run(GIT + ["add", "-A"], cwd=work, check=True)
    subprocess.run(GIT + ["commit", "-qm", "scratch"], cwd=work, check=True)
    subprocess.run(["git", "config", "user.name", "Interplay Test"], cwd=work, check=True)
    subprocess.run(["git", "config", "user.email", "test@example.invalid"], cwd=work, check=True)
    return work


def workspace_env(work: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PREFECT_HOME"] = str(work / ".prefect")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    env.pop("PREFECT_API_URL", None)
    env.update(extra)
    return env
