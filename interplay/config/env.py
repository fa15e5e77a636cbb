"""The offline environment every entry point runs in (SPEC, "Offline operation").

Set with ``setdefault`` so that a user who configured a Hub endpoint or wants downloads can
override any of them from the shell.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

OFFLINE_DEFAULTS: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_UPDATE_DOWNLOAD_COUNTS": "0",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_XET": "1",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DVC_NO_ANALYTICS": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "TOKENIZERS_PARALLELISM": "false",
}

#: Prefect gives its ephemeral server 20 s to answer. One took 14 to 24 s to start on an idle
#: 2-core machine of ours (more in a new Prefect home, whose database is made first), and under
#: the load of two test workers a flow failed with "Timed out while attempting to connect to
#: ephemeral Prefect API server".
#: A server that cannot start at all still fails, after this long.
PREFECT_DEFAULTS: dict[str, str] = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
}


def apply_offline_defaults(workspace: Path | None = None) -> None:
    """Fill in the offline variables and Prefect's startup allowance, and keep Prefect's state
    inside the workspace."""
    for key, value in {**OFFLINE_DEFAULTS, **PREFECT_DEFAULTS}.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("PREFECT_HOME", str((workspace or Path.cwd()) / ".prefect"))


def stage_env(root: Path) -> dict[str, str]:
    """Stages run this interpreter (first on PATH) and the workspace's own code (PYTHONPATH), so
    a scratch checkout of a release tag runs that tag's code, not an installed copy."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    return env
