"""Shared fixtures: where the repository and the shared corpora are, and the offline environment."""

from __future__ import annotations

import os
from pathlib import Path

# Tests use tiny models: one thread each is fastest, and keeps a shared 2-core machine usable.
# Set before torch is imported (here or in subprocesses, which inherit it).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402

from interplay.config.env import apply_offline_defaults

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"

apply_offline_defaults(REPO)

# Under pytest-xdist (``make test`` runs two workers, one a core) each worker keeps its own Prefect
# state: two ephemeral Prefect servers writing one SQLite database lock each other out.
# Prefect makes its home without parents: a fresh clone has no .prefect/ yet.
if os.environ.get("PYTEST_XDIST_WORKER"):
    _home = Path(os.environ["PREFECT_HOME"]) / os.environ["PYTEST_XDIST_WORKER"]
    _home.mkdir(parents=True, exist_ok=True)
    os.environ["PREFECT_HOME"] = str(_home)

#: Modules that share the session's one finished release (:func:`finished_release`).
FINISHED_RELEASE_MODULES = {"test_kill_resume", "test_release_artifacts"}


def _scope(nodeid: str) -> str:
    """The unit one xdist worker runs whole: a test module, so that its module-scoped fixtures
    (a trained tiny pair, a simulated workspace) are built once, not on each worker; the modules
    that read the finished release are one unit, so that it is made once."""
    module = nodeid.split("::", 1)[0]
    return "finished release" if Path(module).stem in FINISHED_RELEASE_MODULES else module


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN001, ANN201  (xdist's types)
    """Module-at-a-time scheduling with :func:`_scope`'s units. (``--dist loadgroup`` would do it
    with marks, but xdist 3.8 cannot rename pytest 9's node ids, so its groups are ignored.)
    Workers take the next unit as they run low, so the slow modules sorted first (below) spread."""
    if config.getvalue("dist") not in {"load", "loadscope"}:
        return None  # a --dist the user chose
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # keep the slow-first order of the collection

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope(nodeid)

    return ModuleScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow modules (whole pipeline runs, minutes each) first, so that two workers start on
    them at once instead of one of them finishing last alone; each module keeps its own order."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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
