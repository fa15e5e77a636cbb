"""A simulation run: which profiles, who opens, shards simulated and combined.

Pure selection functions plus :func:`simulate_to_file`, the one place that touches disk: the
simulate and baselines stages run through it (:mod:`interplay.simulation.stage`), shards in this
process or on Dask alike, and so do the tests. The same functions serve Interplay and both
baselines (the same engine, other players).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
from tqdm.auto import tqdm

from interplay.dialogue.rows import DIALOGUE_SCHEMA, ROLES, Role
from interplay.preprocess.profiles import Profile
from interplay.preprocess.splits import unit_hash
from interplay.simulation import shards
from interplay.simulation.conversation import Conversation
from interplay.simulation.engine import EngineSettings, RolePlayer, run_conversations
from interplay.simulation.progress import Progress
from interplay.simulation.records import dialogue_row, sample_key, to_table
from interplay.simulation.samples import Sample, as_sample
from interplay.text.titles import TitleIndex

log = logging.getLogger(__name__)

#: Runs the pending shards of a plan (``plan``, ``pending`` indices, work folder), writing each
#: finished shard there: :func:`in_process`, or on Dask (:func:`interplay.simulation.distributed.run_on_dask`).
ShardRunner = Callable[[list[list[Profile | Sample]], list[int], Path], None]


def select_profiles(
    profiles: Sequence[Profile], splits: Sequence[str], count: int | None, seed: int
) -> list[Profile]:
    """Profiles of the given splits, in a seeded order, at most ``count`` of them."""
    chosen = [p for p in profiles if p.split in splits]
    chosen.sort(key=lambda p: (unit_hash(seed, p.profile_id), p.profile_id))
    return chosen[:count] if count is not None else chosen


def opening_role(profile: Profile, user_share: float | None, seed: int, sample: int = 0) -> Role:
    """The real dialogue's opener (the corpus's share), or a draw at ``user_share`` seeded by the
    sample (:mod:`interplay.simulation.samples`)."""
    if user_share is None:
        return "user" if profile.opening_role == "user" else "recommender"
    return "user" if unit_hash(seed, "opens:" + sample_key(profile.profile_id, sample)) < user_share else "recommender"


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
    #: Profiles a shard holds (the plan cuts the selected profiles into shards of this size).
    shard_size: int


def sampling_of(job: ShardJob, players: dict[Role, RolePlayer]) -> dict[str, Any]:
    """What, besides the models and the shard's seed, decides a shard's draws (each row's
    ``sampling``, :data:`interplay.dialogue.rows.SAMPLING`), read from the players that ran."""
    contexts = {players[role].generator.max_context_tokens for role in ROLES}
    if len(contexts) != 1:
        raise ValueError(f"the two roles' generators keep different contexts: {sorted(contexts)}")
    return {
        "shard_size": job.shard_size,
        "batch_size": job.engine.batch_size,
        "max_turns": job.engine.max_turns,
        "max_context_tokens": contexts.pop(),
        **{role: players[role].sampling.model_dump() for role in ROLES},
    }


def simulate_shard(
    job: ShardJob, index: int, profiles: Sequence[Profile | Sample], players: dict[Role, RolePlayer],
    title_index: TitleIndex, on_finished: Callable[[Conversation], None] | None = None,
) -> tuple[pa.Table, int]:
    """One shard's dialogues (in plan order) and the number of tokens generated; a plan holds
    profiles (one dialogue each) or samples of them."""
    samples = [as_sample(item) for item in profiles]
    conversations = [
        Conversation(profile=s.profile, opening_role=opening_role(s.profile, job.user_share, job.seed, s.index))
        for s in samples
    ]
    seed = shards.shard_seed(job.seed, index)
    done, stats = run_conversations(conversations, players, job.engine, title_index, seed, on_finished)
    replay = {"seed": job.seed, "shard": index, "shard_seed": seed, "sampling": sampling_of(job, players)}
    rows = [
        dialogue_row(
            c, source=job.source, sample=s.index, titles=job.titles, models=job.models, params_hash=job.params_hash,
            **replay,
        )
        for c, s in zip(done, samples, strict=True)
    ]
    return to_table(rows), stats.generated_tokens


def simulate_locally(
    job: ShardJob,
    players: dict[Role, RolePlayer],
    title_index: TitleIndex,
    plan: list[list[Profile | Sample]],
    pending: list[int],
    work_dir: Path,
) -> None:
    """Simulate the pending shards in this process, with a progress bar (dialogues, tok/s, ETA)
    and progress lines (:mod:`interplay.simulation.progress`)."""
    tokens = 0
    progress = Progress.of_plan(job.source, plan, pending)
    progress.report()

    def finished(_conversation: Conversation) -> None:
        bar.update(1)
        progress.advance()

    with tqdm(total=sum(len(plan[i]) for i in pending), desc=f"simulate {job.source}", unit="dialogue") as bar:
        for index in pending:
            table, generated = simulate_shard(job, index, plan[index], players, title_index, on_finished=finished)
            tokens += generated
            bar.set_postfix(tok_s=f"{tokens / max(bar.format_dict['elapsed'], 1e-9):.1f}")
            shards.write_parquet_atomic(table, shards.shard_path(work_dir, index))


def in_process(job: ShardJob, players: dict[Role, RolePlayer], title_index: TitleIndex) -> ShardRunner:
    """A :data:`ShardRunner` that simulates the pending shards here, with these players."""
    return partial(simulate_locally, job, players, title_index)


def simulate_to_file(
    job: ShardJob, profiles: Sequence[Profile | Sample], run_pending: ShardRunner, work_dir: Path, out_path: Path
) -> pa.Table:
    """Simulate the shards not yet in ``work_dir`` (``run_pending``), then combine all of them
    into ``out_path``: a resumed run writes the same bytes as an uninterrupted one."""
    plan = shards.cut(profiles, job.shard_size)
    pending = shards.pending_shards(work_dir, len(plan))
    log_resume(job.source, len(plan), pending)
    if pending:
        run_pending(plan, pending, work_dir)
    return shards.combine(work_dir, len(plan), DIALOGUE_SCHEMA, out_path)


def log_resume(source: str, total: int, pending: list[int]) -> None:
    if len(pending) < total:
        log.info("%s: resuming, %d of %d shards already done", source, total - len(pending), total)
