"""Stage ``publish``: build ``release/`` and, with ``publish.target: hub``, push it and tag the version."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from interplay.config.params import Params

log = logging.getLogger(__name__)


#: Where a release bound for the Hub is built: it replaces ``release/`` only once pushed, so a
#: failed push leaves ``release/`` as it was (its card never names a Hub version that is not there).
STAGING_DIR = Path(".release.staging")


def run(params: Params, root: Path) -> None:
    from interplay.publish.folder import RELEASE_DIR, build_release, replace_folder

    settings = params.publish
    if settings.target == "local":
        shutil.rmtree(root / STAGING_DIR, ignore_errors=True)  # what a killed push to the Hub left
        folder = build_release(params, root)
        log.info("publish.target is local: %s is ready (nothing pushed)", folder.path)
        return

    from interplay.publish.hub import push_release

    assert settings.repo_id is not None  # checked when the params were read
    staged = build_release(params, root, out_dir=root / STAGING_DIR)
    try:
        result = push_release(
            staged.path,
            settings.repo_id,
            settings.version,
            private=settings.private,
            retries=settings.retries,
            backoff_s=settings.backoff_s,
            timeout_s=settings.timeout_s,
        )
    except BaseException:
        shutil.rmtree(staged.path, ignore_errors=True)
        raise
    replace_folder(staged.path, root / RELEASE_DIR)
    log.info("publish: %s %s (%s) -> %s", result.repo_id, result.version, result.action, result.url)
