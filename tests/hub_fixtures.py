"""The loopback Hub fixture: ``tests/loopback_hub.py`` run as a process on 127.0.0.1.

Import the fixture into a test module (``from hub_fixtures import loopback_hub``). The server
accepts only :data:`FAKE_TOKEN`, a recognisable fake, so that tests can check it is sent and that
it never lands in a log or a file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER = Path(__file__).with_name("loopback_hub.py")
FAKE_TOKEN = "hf_FAKEloopbackTOKEN0123456789abcdefXYZ"


@dataclass
class LoopbackHub:
    url: str
    root: Path
    log: Path
    process: subprocess.Popen

    def _control(self, route: str, payload: dict) -> None:
        request = urllib.request.Request(
            f"{self.url}/_loopback/{route}",
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def fail_next(self, count: int, status: int = 503) -> None:
        """Make the next ``count`` requests answer ``status`` (test control route)."""
        self._control("fail", {"count": count, "status": status})

    def echo_credentials(self, on: bool) -> None:
        """Make the hub echo each request's Authorization header back (test control route)."""
        self._control("echo", {"credentials": on})

    def repo_state(self, repo_id: str, repo_type: str = "dataset") -> dict:
        return json.loads((self.root / "repos" / f"{repo_type}s" / f"{repo_id}.json").read_text())

    def client_env(self, hf_home: Path) -> dict[str, str]:
        """Environment for a client process talking to this hub (and nothing else)."""
        env = dict(os.environ)
        env.update(
            HF_ENDPOINT=self.url,
            HF_HUB_DISABLE_XET="1",
            HF_HUB_OFFLINE="0",
            HF_DATASETS_OFFLINE="0",
            HF_HOME=str(hf_home),
            HF_TOKEN=FAKE_TOKEN,
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_UPDATE_DOWNLOAD_COUNTS="0",
        )
        return env


@pytest.fixture(scope="module")
def loopback_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackHub]:
    base = tmp_path_factory.mktemp("loopback_hub")
    root, log = base / "store", base / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env["LOOPBACK_HUB_TOKEN"] = FAKE_TOKEN
    with log.open("wb") as log_handle:
        process = subprocess.Popen(
            [sys.executable, str(SERVER), "--port", "0", "--root", str(root)],
            stdout=subprocess.PIPE,
            stderr=log_handle,
            env=env,
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the loopback hub did not start: {line!r}; see {log}")
        yield LoopbackHub(url=line.removeprefix("listening on "), root=root, log=log, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
