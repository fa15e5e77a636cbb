"""Shared fixtures: where the repository and the shared corpora are, and the offline environment."""

from __future__ import annotations

from pathlib import Path

import pytest

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
