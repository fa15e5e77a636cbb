"""Role training sets: rows from the SFT parquet files to padded, length-grouped batches."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from interplay.training.chat import IGNORE_INDEX, Encoded, Message, encode_example, encode_windows

logger = logging.getLogger(__name__)


def read_sft_rows(path: Path) -> list[dict[str, Any]]:
    """``dialogue_id`` and ``messages`` of an SFT parquet file, as plain Python objects."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["dialogue_id", "messages"])
    return [
        {"dialogue_id": str(row["dialogue_id"]), "messages": [dict(m) for m in row["messages"]]}
        for row in table.to_pylist()
    ]


def subsample(rows: Sequence[dict[str, Any]], limit: int | None, seed: int) -> list[dict[str, Any]]:
    """A seeded subset that does not depend on the files' row order (ordered by dialogue id)."""
    ordered = sorted(rows, key=lambda r: r["dialogue_id"])
    if limit is None or limit >= len(ordered):
        return ordered
    return sorted(random.Random(seed).sample(ordered, limit), key=lambda r: r["dialogue_id"])


def encode_rows(
    tokenizer: Any, rows: Iterable[dict[str, Any]], max_tokens: int, windows: bool = True
) -> list[Encoded]:
    """Encode each row as the windows of ``max_tokens`` it spans (:func:`encode_windows`), or
    truncated to one example (:func:`encode_example`); rows without trained tokens are dropped."""
    encoded = []
    dropped = 0
    for row in rows:
        messages: list[Message] = row["messages"]
        if windows:
            examples = encode_windows(tokenizer, messages, max_tokens)
        else:
            example = encode_example(tokenizer, messages, max_tokens)
            examples = [example] if example is not None else []
        if not examples:
            dropped += 1
        encoded.extend(examples)
    if dropped:
        logger.info("dropped %d rows without trained-role tokens", dropped)
    return encoded


def to_dataset(examples: Sequence[Encoded]):
    """A ``datasets.Dataset`` with a ``length`` column, which the Trainer groups batches by."""
    from datasets import Dataset

    return Dataset.from_dict(
        {
            "input_ids": [e.input_ids for e in examples],
            "labels": [e.labels for e in examples],
            "length": [e.length for e in examples],
        }
    )


#: Batches are padded to a multiple of this many tokens. On the CPU every new tensor shape costs
#: oneDNN a new kernel (about a second a shape with bf16 matmuls): a few dozen widths instead of
#: hundreds keeps that one-off, for ~5% more padding.
PAD_MULTIPLE = 32


@dataclass(frozen=True)
class PadCollator:
    """Right-pads a batch to a multiple of ``multiple`` tokens; padding never counts for the loss
    (label -100, attention 0)."""

    pad_token_id: int
    multiple: int = PAD_MULTIPLE

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        longest = max(len(f["input_ids"]) for f in features)
        width = -(-longest // self.multiple) * self.multiple
        ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(features), width), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        for i, f in enumerate(features):
            n = len(f["input_ids"])
            ids[i, :n] = torch.as_tensor(f["input_ids"])
            labels[i, :n] = torch.as_tensor(f["labels"])
            mask[i, :n] = 1
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def padding_fraction(lengths: Sequence[int], batches: Iterable[Sequence[int]]) -> float:
    """Share of padding tokens over all tokens when each batch is padded to its longest."""
    padded = real = 0
    for batch in batches:
        sizes = [lengths[i] for i in batch]
        padded += max(sizes) * len(sizes)
        real += sum(sizes)
    return 1 - real / padded if padded else 0.0


def sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Batches of examples of similar length, for evaluation (order does not matter there)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
