"""Scheduled refresh: release a new version only when an input changed.

The decision is the input fingerprint of :mod:`interplay.releases.versions` (corpus checksum, parameters
and code of every stage, without the version name) against the last release's. Unchanged: the run
records "no change" and publishes nothing. Changed: the patch version is bumped in params.yaml and
the release flow runs with tagging.

Serve it (the process stays up and runs the schedule from ``params.yaml``, section ``refresh``)::

    prefect server start &                         # or any Prefect API; PREFECT_API_URL points to it
    .venv/bin/python -m flows.refresh serve

Trigger a run by hand with ``prefect deployment run 'refresh/interplay-refresh'``, or run one
refresh here and now with ``.venv/bin/python -m flows.refresh once``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from interplay.config.env import apply_offline_defaults

apply_offline_defaults()

from prefect import flow, get_run_logger  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

from flows.release import release  # noqa: E402
from interplay.config.params import load_params  # noqa: E402
from interplay.releases.versions import input_fingerprint, next_version, releases, set_version  # noqa: E402

log = logging.getLogger(__name__)


@flow(name="refresh", log_prints=True)
def refresh(root: str | None = None) -> str:
    """Returns the new version, or ``"no change"``."""
    logger = get_run_logger()
    workspace = Path(root or Path.cwd()).resolve()
    history = releases(workspace)
    fingerprint = input_fingerprint(workspace)
    if history and history[-1]["fingerprint"] == fingerprint:
        logger.info("no change since %s: nothing to publish", history[-1]["version"])
        create_markdown_artifact(  # the decision, in the UI next to the release runs it skipped
            key="refresh", markdown=f"No change since {history[-1]['version']}: nothing published.",
            description="What this refresh decided",
        )
        return "no change"
    version = load_params(workspace / "params.yaml").publish.version
    if history and {r["version"] for r in history} & {version}:
        version = next_version(history[-1]["version"])
        set_version(workspace, version)
    logger.info("inputs changed: releasing %s", version)
    release(root=str(workspace), tag=True)  # its run carries the evaluation and release artifacts
    create_markdown_artifact(
        key="refresh", markdown=f"Inputs changed: released {version}.", description="What this refresh decided"
    )
    return version


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Scheduled refresh of the Interplay dataset.")
    parser.add_argument("command", choices=["serve", "once"], help="serve the deployment, or refresh once")
    args = parser.parse_args(argv)
    if args.command == "once":
        print(refresh())
        return
    settings = load_params(Path("params.yaml")).refresh
    refresh.serve(
        name=settings.deployment_name,
        schedules=[Cron(settings.cron, timezone=settings.timezone)],
        parameters={"root": str(Path.cwd().resolve())},
    )


if __name__ == "__main__":
    main()
