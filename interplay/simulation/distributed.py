"""Shards as Prefect tasks on a Dask cluster (``simulation.task_runner: dask``).

Each shard is one task; a worker process loads the models and the catalog once (a per-process
cache, keyed by what was loaded) and reuses them for every shard it is given. A shard's dialogues
depend only on its own seed, so the combined file is the same as a local run's.
"""

from __future__ import annotations

import functools
import json
import logging
import socket
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prefect import flow, task

from interplay.config.params import Params
from interplay.simulation import shards
from interplay.simulation.progress import Progress
from interplay.simulation.run import ShardJob, simulate_shard
from interplay.simulation.samples import Sample

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=2)
def _worker_state(params_json: str, root: str, variant: str) -> tuple[Any, Any]:
    """Models and title index of this worker process, loaded on its first shard."""
    from interplay.simulation.inputs import read_catalog
    from interplay.simulation.runtime import load_players

    params = Params.model_validate(json.loads(params_json))
    loaded = load_players(params, Path(root), variant)  # type: ignore[arg-type]
    index, _ = read_catalog(Path(root))
    return loaded.players, index


@task(task_run_name="shard-{index}", retries=1)
def simulate_shard_task(
    params_json: str, root: str, variant: str, job: ShardJob, index: int, profiles: list[Sample], work_dir: str
) -> str:
    players, title_index = _worker_state(params_json, root, variant)
    table, _ = simulate_shard(job, index, profiles, players, title_index)
    path = shards.shard_path(Path(work_dir), index)
    shards.write_parquet_atomic(table, path)
    return str(path)


def flow_api_url() -> str:
    """The Prefect API the running flow reports to: the configured ``PREFECT_API_URL``, or the
    temporary server Prefect started for this process when none is configured."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.client is None:
        raise RuntimeError("flow_api_url() is called outside a flow run")
    return str(context.client.api_url).rstrip("/")


def fresh_events_client() -> None:
    """Run on each worker before its shards: a long-lived worker keeps one Prefect events client,
    bound to the API of the first flow it served (Prefect reuses it whatever API a later task
    names), and task runs reach Prefect as events; drained, the next task makes one for its own
    flow's API."""
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=10, at_exit=False)


def _loopback(host: str) -> bool:
    return host in {"localhost", "::1"} or host.startswith("127.")


def remote_workers(api_url: str, workers: Iterable[str], local_hosts: Collection[str]) -> list[str]:
    """The workers that cannot reach ``api_url``: it is this machine's loopback (Prefect's
    temporary server), and they run on other machines."""
    if not _loopback(urlsplit(api_url).hostname or ""):
        return []
    hosts = {worker: urlsplit(worker).hostname or "" for worker in workers}
    return sorted(w for w, host in hosts.items() if not _loopback(host) and host not in local_hosts)


def local_hosts() -> set[str]:
    """This machine's names and addresses, as workers started on it may be listed."""
    name = socket.gethostname()
    try:
        return {name, *socket.gethostbyname_ex(name)[2]}
    except OSError:
        return {name}


@contextmanager
def reporting_to(api_url: str) -> Iterator[None]:
    """Tasks submitted here report to ``api_url``: Prefect sends the settings in force with each
    task to its Dask worker, so a worker started without ``PREFECT_API_URL`` reports to the
    flow's server instead of starting a temporary server of its own."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}):
        yield


def run_on_dask(
    params: Params, root: Path, variant: str, job: ShardJob, plan: list[list[Sample]],
    pending: list[int], work_dir: Path, n_workers: int = 2,
) -> list[str]:
    """Run the pending shards on the cluster at ``simulation.dask_address`` (or a local one); the
    shard task runs are recorded by the flow's Prefect server, with a progress artifact."""
    from prefect.context import FlowRunContext
    from prefect.futures import as_completed
    from prefect_dask import DaskTaskRunner

    address = params.simulation.dask_address
    runner = (
        DaskTaskRunner(address=address)
        if address
        else DaskTaskRunner(cluster_kwargs={"n_workers": n_workers, "threads_per_worker": 1, "processes": True})
    )
    params_json = params.model_dump_json()

    @flow(name=f"simulate-{variant}-shards", task_runner=runner)
    def shards_flow() -> list[str]:
        progress = Progress.of_plan(job.source, plan, pending)
        progress.report()
        client = FlowRunContext.get().task_runner.client
        client.run(fresh_events_client)
        api_url = flow_api_url()
        elsewhere = remote_workers(api_url, client.scheduler_info()["workers"], local_hosts())
        if elsewhere:
            log.warning(
                "Dask workers %s run on other machines and cannot reach this flow's Prefect API %s; they report to "
                "temporary servers of their own (README, 'Large releases and Dask clusters': start `prefect server "
                "start --host 0.0.0.0` and set PREFECT_API_URL)", ", ".join(elsewhere), api_url,
            )
        with nullcontext() if elsewhere else reporting_to(api_url):
            futures = {
                simulate_shard_task.submit(params_json, str(root), variant, job, i, plan[i], str(work_dir)): i
                for i in pending
            }
        for finished in as_completed(list(futures)):
            progress.advance(len(plan[futures[finished]]))
        return [future.result() for future in futures]

    return shards_flow()
