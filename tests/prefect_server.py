"""A local Prefect server for tests: started on 127.0.0.1, stopped by its process id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(ready: Callable[[], bool], proc: subprocess.Popen, timeout_s: float, failure: str,
                     poll_s: float = 0.5) -> None:
    """Poll ``ready`` (an OSError counts as not yet) until it holds; RuntimeError(``failure``) if the
    server exits or ``timeout_s`` passes first."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if ready():
                return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(failure)
        time.sleep(poll_s)


def _healthy(api: str) -> bool:
    with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
        return response.status == 200


def stop_process_group(proc: subprocess.Popen, timeout_s: float = 20) -> None:
    """Stop a server started with ``start_new_session=True``: by its process group id, never by name."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def prefect_server(home: Path, timeout_s: float = 120) -> Iterator[str]:
    """Yield the API URL of a fresh server whose state lives in ``home``."""
    port = free_port()
    env = dict(os.environ, PREFECT_HOME=str(home), PREFECT_UI_ENABLED="false",
               PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env.pop("PREFECT_API_URL", None)
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_until_ready(lambda: _healthy(api), proc, timeout_s, f"the Prefect server did not start; see {home / 'server.log'}")
        yield api
    finally:
        stop_process_group(proc)
        log.close()
