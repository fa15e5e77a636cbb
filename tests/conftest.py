"""Shared fixtures: where the repository and the shared corpora are, and the offline environment."""

from __future__ import annotations

import os
from pathlib import Path

# Tests use tiny models: one thread each is fastest, and keeps a shared 2-core machine usable.
# Set before torch is imported (here or in subprocesses, which inherit it).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402

from interplay.env import apply_offline_defaults

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"

apply_offline_defaults(REPO)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not (CORPORA / "redial" / "test_data.jsonl").is_file():
        pytest.fail(f"the shared corpora are missing: expected them in {CORPORA}")
    return CORPORA


@pytest.fixture(scope="session")
def finished_release(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, corpora: Path):
    """One uninterrupted smoke release, shared by every module that needs it (see finished_release.py)."""
    from finished_release import finish_release

    yield from finish_release(tmp_path_factory, repo_root, corpora)
