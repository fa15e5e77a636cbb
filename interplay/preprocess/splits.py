"""Deterministic train / validation / test assignment by dialogue.

A dialogue's split depends only on the seed, its id and its file, never on which other
dialogues were read, so adding a file or a smoke-size limit does not reshuffle the rest.

A file named as a split keeps that split: a word of its name says which (``test_data.jsonl``,
``valid_data.jsonl`` — the name of the ReDial authors' and iEvaLM's validation file —,
INSPIRED's ``dev.tsv``). A split that no file is named for is carved, by a hash of the dialogue
id, out of the other files (those named ``train`` or after no split): ReDial's official release
has no validation file, INSPIRED's ``dev.tsv`` alone has neither train nor test. Two cases would
leave nothing to fine-tune on: a corpus that is one validation file is carved like an unnamed one
(it is all the data there is), and any other set of validation and test files without a file to
train on (a lone ``test_data.jsonl``, ``dev.tsv`` + ``test.tsv``) is refused.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from interplay.config.params import SplitParams
from interplay.corpus.schema import Split

#: Words of a file name (its stem, split at anything not a letter) that name a split.
SPLIT_WORDS: dict[str, Split] = {
    "train": "train",
    "training": "train",
    "valid": "validation",
    "validation": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
}


def named_split(path: Path | str) -> Split | None:
    """The split a file's name says it holds; None when it names none (or more than one)."""
    words = re.split(r"[^a-z]+", Path(path).stem.lower())
    named = {SPLIT_WORDS[w] for w in words if w in SPLIT_WORDS}
    return named.pop() if len(named) == 1 else None


@dataclass(frozen=True)
class SplitPlan:
    """Where each file's dialogues go: ``kept`` maps a file to the split it keeps (None: carved)."""

    kept: dict[str, Split | None]
    #: Whether validation / test dialogues are carved out of the carved files (no file keeps them).
    carve_validation: bool
    carve_test: bool

    def describe(self, file: Path | str) -> str:
        """The file's split for the report: the one it keeps, or ``carved``."""
        kept = self.kept[str(file)]
        return kept if kept in ("validation", "test") else "carved" if self._carves else "train"

    @property
    def _carves(self) -> bool:
        return self.carve_validation or self.carve_test

    @property
    def ships_test_file(self) -> bool:
        return not self.carve_test


def plan_splits(files: Sequence[Path | str]) -> SplitPlan:
    """The split plan of a corpus's dialogue files (see the module docstring)."""
    kept: dict[str, Split | None] = {str(f): named_split(f) for f in files}
    trainable = [f for f, split in kept.items() if split in (None, "train")]
    if not trainable:
        if list(kept.values()) == ["validation"]:
            kept[next(iter(kept))] = None  # a lone validation file is the whole corpus: carve it
        else:
            named = ", ".join(f"{Path(f).name} ({split})" for f, split in kept.items())
            keep = "keeps the split its name says" if len(kept) == 1 else "keep the split their names say"
            raise FileNotFoundError(
                f"no file to train on: {named} {keep}; add a training file "
                "(e.g. train_data.jsonl) or rename one that is not a validation or test split"
            )
    return SplitPlan(
        kept=kept,
        carve_validation="validation" not in kept.values(),
        carve_test="test" not in kept.values(),
    )


def unit_hash(seed: int, key: str) -> float:
    """A stable number in [0, 1) for ``(seed, key)``."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_split(dialogue_id: str, file: Path | str, seed: int, fractions: SplitParams, plan: SplitPlan) -> Split:
    kept = plan.kept[str(file)]
    if kept in ("validation", "test"):
        return kept
    u = unit_hash(seed, dialogue_id)
    if plan.carve_validation and u < fractions.validation:
        return "validation"
    if plan.carve_test and fractions.validation <= u < fractions.validation + fractions.test:
        return "test"
    return "train"
