"""Stage ``preprocess``: ``data/raw/`` -> ``data/processed/`` tables and ``reports/preprocess.json``."""

from __future__ import annotations

import logging
from pathlib import Path

from interplay.config.params import Params
from interplay.preprocess.artifacts import write_outputs
from interplay.preprocess.pipeline import preprocess_raw

RAW_DIR = Path("data/raw")
PROCESSED_DIR = Path("data/processed")
REPORT = Path("reports/preprocess.json")

log = logging.getLogger(__name__)


def run(params: Params, root: Path) -> None:
    result = preprocess_raw(root / RAW_DIR, params)
    write_outputs(result, root / PROCESSED_DIR, root / REPORT)
    log.info(
        "preprocess: %d dialogues, %d profiles -> %s",
        result.report["dialogues"]["total"],
        result.report["profiles"]["total"],
        PROCESSED_DIR,
    )
