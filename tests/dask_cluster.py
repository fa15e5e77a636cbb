"""A real Dask cluster for tests and measurements: one ``dask scheduler`` and ``dask worker``
processes on 127.0.0.1, each stopped by its process (group) id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from prefect_server import free_port


@contextmanager
def _process(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


@contextmanager
def dask_cluster(
    folder: Path, workers: int, env: dict[str, str], timeout_s: float = 120
) -> Iterator[tuple[str, list[Path]]]:
    """Yield the scheduler's address and each worker's log once ``workers`` (one thread each)
    have joined. ``env`` is what the workers see: the test decides what they know."""
    from distributed import Client

    folder.mkdir(parents=True, exist_ok=True)
    address = f"tcp://127.0.0.1:{free_port()}"
    cli = [sys.executable, "-m", "dask"]
    logs = [folder / f"worker-{i}.log" for i in range(workers)]
    with ExitStack() as stack:
        scheduler = stack.enter_context(_process(
            cli + ["scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
            env, folder / "scheduler.log",
        ))
        for i, log in enumerate(logs):
            stack.enter_context(_process(
                cli + ["worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1",
                       "--no-dashboard", "--name", f"worker-{i}", "--local-directory", str(folder / f"w{i}")],
                env, log,
            ))
        with Client(address, timeout=timeout_s) as client:
            client.wait_for_workers(workers, timeout=timeout_s)
        assert scheduler.poll() is None, (folder / "scheduler.log").read_text()
        yield address, logs
