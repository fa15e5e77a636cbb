"""The simulate stage's shards on an existing Dask cluster (a real scheduler and two worker
processes, started as a user would, knowing nothing of Prefect) report to the flow's Prefect
server, not to temporary servers of their own, and the run's progress reaches it too."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytest.importorskip("distributed", reason="dask distributed is not installed (pip install 'dask[distributed]')")

from dask_cluster import dask_cluster  # noqa: E402
from prefect_server import prefect_server  # noqa: E402
from test_simulation_stage import _params, workspace  # noqa: E402, F401  (the tiny workspace fixture)

from interplay.simulation.distributed import remote_workers  # noqa: E402
from interplay.simulation.stage import simulate_pairs  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARDS_FLOW = "simulate-interplay-shards"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[Path]]]:
    """A scheduler and two one-thread workers; the workers get the code but no Prefect API."""
    folder = tmp_path_factory.mktemp("dask")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {"PYTHONPATH": str(REPO), "PREFECT_HOME": str(folder / "worker-home"), "OMP_NUM_THREADS": "1"}
    with dask_cluster(folder, 2, env) as running:
        yield running


def _latest_shards_run(api: str | None, shards: int) -> tuple[dict[str, str], list[float]]:
    """Task name -> state of the latest shards flow run on the server at ``api`` (None: this
    process's own temporary server), and the progress artifact's values on that run. Task runs
    reach a server as events: wait up to a minute for ``shards`` finished ones."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterId,
    )
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deadline = time.monotonic() + 60
    with temporary_settings({PREFECT_API_URL: api} if api else {}), get_client(sync_client=True) as client:
        (run,) = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[SHARDS_FLOW])), sort=FlowRunSort.START_TIME_DESC, limit=1
        )
        while True:
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            finished = {t.name: t.state_name for t in tasks}
            if list(finished.values()).count("Completed") >= shards or time.monotonic() > deadline:
                break
            time.sleep(1)
        on_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
        artifacts = client.read_artifacts(artifact_filter=on_run)
    return finished, [a.data for a in artifacts if a.type == "progress"]


def _simulate_on(address: str, shard_size: int) -> Path:
    """Four dialogues in shards of ``shard_size`` (another size, another run: no shard is reused)."""
    params = _params(task_runner="dask", shard_size=shard_size, dask_address=address)
    return simulate_pairs(params, Path.cwd(), "interplay", 4, Path("cluster.parquet"))


@pytest.mark.slow
def test_shards_report_to_the_flows_own_temporary_server(
    workspace: Path, cluster: tuple[str, list[Path]], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """No PREFECT_API_URL anywhere (what ``make run`` does): the flow's temporary server records
    every shard, and no worker starts a server of its own."""
    address, logs = cluster
    monkeypatch.chdir(workspace)
    out = _simulate_on(address, shard_size=1)
    assert pq.read_table(out).num_rows == 4
    tasks, _ = _latest_shards_run(None, 4)
    assert tasks == {f"shard-{i}": "Completed" for i in range(4)}
    assert not any("temporary server" in log.read_text() for log in logs)


@pytest.mark.slow
def test_shards_and_progress_reach_a_prefect_server(
    workspace: Path, cluster: tuple[str, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """A real ``prefect server start``, known to the flow only (the README's recipe): every
    shard's task run and the run's progress (done at 100%) are on it."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    address, logs = cluster
    monkeypatch.chdir(workspace)
    with prefect_server(tmp_path / "server") as api:
        with temporary_settings({PREFECT_API_URL: api}):
            _simulate_on(address, shard_size=2)
        tasks, progress = _latest_shards_run(api, 2)
    assert tasks == {f"shard-{i}": "Completed" for i in range(2)}
    assert progress == [100.0]
    assert not any("temporary server" in log.read_text() for log in logs)


def test_workers_elsewhere_are_told_apart_from_this_machines() -> None:
    """A temporary server listens on this machine's loopback: workers on other machines cannot
    reach it (the flow then warns and leaves them their own servers); a configured server can be."""
    workers = ["tcp://127.0.0.1:4001", "tcp://10.0.0.7:4002", "tcp://192.168.1.5:4003"]
    assert remote_workers("http://127.0.0.1:8507/api", workers, {"192.168.1.5"}) == ["tcp://10.0.0.7:4002"]
    assert remote_workers("http://10.0.0.1:4200/api", workers, set()) == []
