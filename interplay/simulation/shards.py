"""Shards: the unit of work, of resumption and of distribution.

Profiles are cut into fixed shards; each finished shard is written atomically (temporary file,
then rename), so a killed run leaves only whole shards behind, and a rerun skips them. Shards live
in a work folder named by the run's identity, outside DVC's outputs (DVC deletes a stage's outputs
before running it, which would throw the finished shards away). Because each shard is simulated
from its own seed, the combined file is byte-identical whether or not the run was interrupted.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def run_identity(parts: dict[str, Any]) -> str:
    """A short, stable name for everything that decides a run's dialogues."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def cut(items: Sequence[Any], shard_size: int) -> list[list[Any]]:
    return [list(items[i : i + shard_size]) for i in range(0, len(items), shard_size)]


def shard_seed(seed: int, index: int) -> int:
    """Each shard's own seed, independent of the shards run before it."""
    return int.from_bytes(hashlib.sha256(f"{seed}:shard:{index}".encode()).digest()[:4], "big")


def shard_path(work_dir: Path, index: int) -> Path:
    return work_dir / f"shard-{index:05d}.parquet"


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    """Write next to the target, then rename: readers see the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, temporary, compression="zstd")
    os.replace(temporary, path)


def pending_shards(work_dir: Path, count: int) -> list[int]:
    return [i for i in range(count) if not shard_path(work_dir, i).is_file()]


def combine(work_dir: Path, count: int, schema: pa.Schema, out_path: Path) -> pa.Table:
    """All shards, in order, as one file; fails if any shard is missing."""
    missing = pending_shards(work_dir, count)
    if missing:
        raise RuntimeError(f"{work_dir}: shards {missing} are not finished")
    tables = [pq.read_table(shard_path(work_dir, i), schema=schema) for i in range(count)]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    write_parquet_atomic(table, out_path)
    return table
