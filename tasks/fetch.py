"""Stage ``fetch``: the raw corpus and its catalog into ``data/raw/`` (see interplay.corpus.fetch)."""

from __future__ import annotations

from pathlib import Path

from interplay.config.params import Params
from interplay.corpus.fetch import fetch_corpus

RAW_DIR = Path("data/raw")


def run(params: Params, root: Path) -> None:
    fetch_corpus(params.corpus, root / RAW_DIR, base_dir=root)
