"""Deterministic train / validation / test assignment by dialogue.

A dialogue's split depends only on the seed, its id and its file, never on which other
dialogues were read, so adding a file or a smoke-size limit does not reshuffle the rest.
Files whose name contains ``test`` stay test (ReDial's official split); other files are carved
into train and validation, and into test too only when the corpus ships no test file
(INSPIRED's ``dev.tsv``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from interplay.corpus.schema import Split
from interplay.params import SplitParams


def is_test_file(path: Path | str) -> bool:
    return "test" in Path(path).name.lower()


def ships_test_file(files: Iterable[Path | str]) -> bool:
    return any(is_test_file(f) for f in files)


def unit_hash(seed: int, key: str) -> float:
    """A stable number in [0, 1) for ``(seed, key)``."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_split(
    dialogue_id: str, file: Path | str, seed: int, fractions: SplitParams, corpus_has_test: bool
) -> Split:
    if is_test_file(file):
        return "test"
    u = unit_hash(seed, dialogue_id)
    if u < fractions.validation:
        return "validation"
    if not corpus_has_test and u < fractions.validation + fractions.test:
        return "test"
    return "train"
