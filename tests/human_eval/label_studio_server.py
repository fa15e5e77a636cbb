"""A real Label Studio for tests: its own virtual environment, 127.0.0.1, a fresh data folder, an
admin created non-interactively with a known legacy API token, stopped by its process id.

Label Studio pins its own Django and friends, so it lives in a virtual environment of its own
(``$INTERPLAY_LABEL_STUDIO_VENV``, else ``.label-studio-venv/`` in the checkout, which ``.ci/run``
makes); the project's environment never imports it, only talks to it over HTTP.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect_server import free_port, stop_process_group, wait_until_ready

#: Where ``.ci/run`` installs it (README, "Human evaluation").
DEFAULT_VENV = ".label-studio-venv"
#: The first start migrates a fresh SQLite database: minutes on a busy 2-core machine.
START_TIMEOUT_S = float(os.environ.get("INTERPLAY_LABEL_STUDIO_START_TIMEOUT_S", "900"))


def label_studio_executable(repo: Path) -> Path | None:
    """The ``label-studio`` command of its own environment, or None when it is not installed."""
    venv = Path(os.environ.get("INTERPLAY_LABEL_STUDIO_VENV") or repo / DEFAULT_VENV)
    executable = venv / "bin" / "label-studio"
    return executable if executable.is_file() and os.access(executable, os.X_OK) else None


@dataclass(frozen=True)
class LabelStudio:
    """A running server and the admin's token: :meth:`call` is one authenticated JSON request."""

    url: str
    token: str

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: HTTP {exc.code}: {exc.read()[:500]!r}") from None
        return json.loads(raw) if raw else None

    def answers(self) -> bool:
        """Whether the API answers an authenticated request (it does once migrations are done)."""
        try:
            self.call("GET", "/api/projects")
        except AssertionError:
            return False
        return True


def _environment(data_dir: Path) -> dict[str, str]:
    """Offline and quiet: no version check against PyPI, no analytics, no Sentry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "DJANGO_"))}
    env.update(
        LABEL_STUDIO_BASE_DATA_DIR=str(data_dir),
        LATEST_VERSION_CHECK="false",
        COLLECT_ANALYTICS="false",
        SENTRY_DSN="",
        FRONTEND_SENTRY_DSN="",
    )
    return env


@contextmanager
def label_studio(executable: Path, home: Path, timeout_s: float = START_TIMEOUT_S) -> Iterator[LabelStudio]:
    """Start Label Studio with its data in ``home`` and yield it once its API answers."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    token = secrets.token_hex(20)
    command = [
        str(executable), "start", "--no-browser", "--data-dir", str(home / "data"),
        "--internal-host", "127.0.0.1", "--port", str(port),
        "--username", "admin@example.com", "--password", secrets.token_urlsafe(16),
        "--user-token", token, "--enable-legacy-api-token", "--log-level", "WARNING",
    ]
    log_path = home / "label-studio.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        command, env=_environment(home / "data"), cwd=home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = LabelStudio(f"http://127.0.0.1:{port}", token)
    try:
        failure = f"Label Studio did not answer on port {port}; see {log_path}"
        wait_until_ready(server.answers, proc, timeout_s, failure, poll_s=2)
        yield server
    finally:
        stop_process_group(proc, timeout_s=30)
        log.close()
