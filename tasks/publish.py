"""Stage ``publish``: build ``release/`` and, with ``publish.target: hub``, push it and tag the version."""

from __future__ import annotations

import logging
from pathlib import Path

from interplay.params import Params

log = logging.getLogger(__name__)


def run(params: Params, root: Path) -> None:
    from interplay.publish.folder import build_release

    settings = params.publish
    folder = build_release(params, root)
    if settings.target == "local":
        log.info("publish.target is local: %s is ready (nothing pushed)", folder.path)
        return

    from interplay.publish.hub import push_release

    assert settings.repo_id is not None  # checked when the params were read
    result = push_release(
        folder.path,
        settings.repo_id,
        settings.version,
        private=settings.private,
        retries=settings.retries,
        backoff_s=settings.backoff_s,
    )
    log.info("publish: %s %s (%s) -> %s", result.repo_id, result.version, result.action, result.url)
