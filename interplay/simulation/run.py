"""A simulation run: which profiles, who opens, shards simulated and combined.

Pure selection functions plus :func:`simulate_to_file`, the one place that touches disk. The same
functions serve Interplay and the zero-shot baseline (the same engine without adapters).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from tqdm.auto import tqdm

from interplay.preprocess.splits import unit_hash
from interplay.simulation import shards
from interplay.simulation.conversation import Conversation, Role
from interplay.simulation.engine import EngineSettings, RolePlayer, run_conversations
from interplay.simulation.records import DIALOGUE_SCHEMA, dialogue_row, to_table
from interplay.textmatch import TitleIndex

log = logging.getLogger(__name__)


def select_profiles(
    profiles: Sequence[dict[str, Any]], splits: Sequence[str], count: int | None, seed: int
) -> list[dict[str, Any]]:
    """Profiles of the given splits, in a seeded order, at most ``count`` of them."""
    chosen = [p for p in profiles if p["split"] in splits]
    chosen.sort(key=lambda p: (unit_hash(seed, p["profile_id"]), p["profile_id"]))
    return chosen[:count] if count is not None else chosen


def opening_role(profile: dict[str, Any], user_share: float | None, seed: int) -> Role:
    """The real dialogue's opener (the corpus's share), or a seeded draw at ``user_share``."""
    if user_share is None:
        return "user" if profile.get("opening_role") == "user" else "recommender"
    return "user" if unit_hash(seed, "opens:" + profile["profile_id"]) < user_share else "recommender"


@dataclass(frozen=True)
class ShardJob:
    """Everything a worker needs to simulate shards, apart from the loaded models."""

    source: str
    seed: int
    user_share: float | None
    engine: EngineSettings
    titles: dict[str, str]
    models: dict[str, str]
    params_hash: str


def simulate_shard(
    job: ShardJob, index: int, profiles: list[dict[str, Any]], players: dict[Role, RolePlayer],
    title_index: TitleIndex, on_finished: Callable[[Conversation], None] | None = None,
) -> tuple[pa.Table, int]:
    """One shard's dialogues (in profile order) and the number of tokens generated."""
    conversations = [
        Conversation(profile=p, opening_role=opening_role(p, job.user_share, job.seed)) for p in profiles
    ]
    done, stats = run_conversations(
        conversations, players, job.engine, title_index, shards.shard_seed(job.seed, index), on_finished
    )
    rows = [
        dialogue_row(c, source=job.source, titles=job.titles, seed=job.seed, models=job.models, params_hash=job.params_hash)
        for c in done
    ]
    return to_table(rows), stats.generated_tokens


def simulate_locally(
    job: ShardJob,
    plan: list[list[dict[str, Any]]],
    pending: list[int],
    players: dict[Role, RolePlayer],
    title_index: TitleIndex,
    work_dir: Path,
) -> None:
    """Simulate the pending shards in this process, with a progress bar (dialogues, tok/s, ETA)."""
    tokens = 0
    with tqdm(total=sum(len(plan[i]) for i in pending), desc=f"simulate {job.source}", unit="dialogue") as bar:
        for index in pending:
            table, generated = simulate_shard(
                job, index, plan[index], players, title_index, on_finished=lambda _c: bar.update(1)
            )
            tokens += generated
            bar.set_postfix(tok_s=f"{tokens / max(bar.format_dict['elapsed'], 1e-9):.1f}")
            shards.write_parquet_atomic(table, shards.shard_path(work_dir, index))


def simulate_to_file(
    job: ShardJob,
    profiles: list[dict[str, Any]],
    shard_size: int,
    players: dict[Role, RolePlayer],
    title_index: TitleIndex,
    work_dir: Path,
    out_path: Path,
) -> pa.Table:
    """Simulate the shards not yet on disk in this process, then combine all of them."""
    plan = shards.cut(profiles, shard_size)
    pending = shards.pending_shards(work_dir, len(plan))
    log_resume(job.source, len(plan), pending)
    simulate_locally(job, plan, pending, players, title_index, work_dir)
    return shards.combine(work_dir, len(plan), DIALOGUE_SCHEMA, out_path)


def log_resume(source: str, total: int, pending: list[int]) -> None:
    if len(pending) < total:
        log.info("%s: resuming, %d of %d shards already done", source, total - len(pending), total)
