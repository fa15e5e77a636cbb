"""The simulate and baselines stages: read profiles and catalog, run, write the dialogue files.

Interplay and zero-shot dialogues come from the same paired engine (with and without adapters);
reference-dependent dialogues are whole scripts from one model. Each writes
``<out>.parquet`` through shards kept under ``data/work/`` (named by the run's identity), so a
killed run resumes where it stopped.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import torch
from tqdm.auto import tqdm

from interplay.params import Params
from interplay.simulation import shards
from interplay.simulation.baselines import script_conversation, script_prompt
from interplay.simulation.engine import EngineSettings
from interplay.simulation.records import DIALOGUE_SCHEMA, dialogue_row, to_table
from interplay.simulation.run import ShardJob, log_resume, select_profiles, simulate_locally
from interplay.simulation.runtime import Variant, load_players, model_identities
from interplay.stage_keys import content_hash
from interplay.textmatch import TitleIndex

log = logging.getLogger(__name__)

PROFILES = Path("data/processed/profiles.parquet")
CATALOG = Path("data/processed/catalog.parquet")
WORK = Path("data/work")


def read_profiles(root: Path) -> list[dict[str, Any]]:
    return pq.read_table(root / PROFILES).to_pylist()


def read_catalog(root: Path) -> tuple[TitleIndex, dict[str, str]]:
    rows = pq.read_table(root / CATALOG, columns=["item_id", "title", "name", "year"]).to_pylist()
    index = TitleIndex.build((r["item_id"], r["name"], r["year"]) for r in rows)
    return index, {r["item_id"]: r["title"] for r in rows}


#: Simulation keys that do not decide a variant's dialogues (where they run, or another variant's
#: count); everything else, ``batch_size`` included (it decides what is sampled together), does.
_NOT_DECIDING: dict[str, set[str]] = {
    "interplay": {"task_runner", "dask_address", "zero_shot", "reference_dependent"},
    "zero_shot": {"task_runner", "dask_address", "num_profiles", "reference_dependent"},
    "reference_dependent": {"task_runner", "dask_address", "num_profiles", "zero_shot", "shard_size"},
}
#: The code a simulation's dialogues depend on: a change starts the shards afresh.
_CODE = ("interplay/simulation", "interplay/prompts.py", "interplay/textmatch.py", "interplay/training/chat.py")


def params_hash(params: Params, variant: str) -> str:
    """What of the parameters decides a variant's dialogues (recorded in every row)."""
    return shards.run_identity(
        {
            "seed": params.seed,
            "simulation": params.simulation.model_dump(exclude=_NOT_DECIDING[variant]),
            "end_marker": params.preprocess.end_marker,
            "match": params.preprocess.title_match_threshold,
        }
    )


def code_version() -> str:
    package = Path(__file__).resolve().parents[2]
    return shards.run_identity({path: content_hash(package / path) for path in _CODE})


def engine_settings(params: Params) -> EngineSettings:
    return EngineSettings(
        batch_size=params.simulation.batch_size,
        max_turns=params.simulation.max_turns,
        end_marker=params.preprocess.end_marker,
        link_cutoff=params.preprocess.title_match_threshold,
        leak_threshold=params.preprocess.title_match_threshold,
    )


def simulate_pairs(params: Params, root: Path, variant: Variant, count: int | None, out: Path) -> Path:
    """Interplay (adapters) or zero-shot (no adapters) dialogues from held-out profiles."""
    settings = params.simulation
    profiles = select_profiles(read_profiles(root), settings.profile_splits, count, params.seed)
    index, titles = read_catalog(root)
    job = ShardJob(
        source=variant,
        seed=params.seed,
        user_share=settings.user_opens_share,
        engine=engine_settings(params),
        titles=titles,
        models=model_identities(params, root, variant),
        params_hash=params_hash(params, variant),
    )
    identity = shards.run_identity(
        {"job": job.params_hash, "models": job.models, "profiles": [p["profile_id"] for p in profiles],
         "code": code_version()}
    )
    work_dir = root / WORK / variant / identity
    plan = shards.cut(profiles, settings.shard_size)
    pending = shards.pending_shards(work_dir, len(plan))
    log_resume(variant, len(plan), pending)
    if pending and settings.task_runner == "dask":
        from interplay.simulation.distributed import run_on_dask

        run_on_dask(params, root, variant, job, plan, pending, work_dir)
    elif pending:
        simulate_locally(job, plan, pending, load_players(params, root, variant).players, index, work_dir)
    shards.combine(work_dir, len(plan), DIALOGUE_SCHEMA, root / out)
    return root / out


def write_reference_dependent(params: Params, root: Path, out: Path) -> Path:
    """Whole scripts written by the base model, which is told the target title."""
    settings = params.simulation
    count = settings.reference_dependent.num_profiles
    profiles = select_profiles(read_profiles(root), settings.profile_splits, count, params.seed)
    index, titles = read_catalog(root)
    loaded = load_players(params, root, "zero_shot")
    writer = loaded.players["user"]
    sampling = writer.sampling.model_copy(update={"max_new_tokens": 40 * settings.max_turns})
    job_hash = params_hash(params, "reference_dependent")
    rows = []
    torch.manual_seed(shards.shard_seed(params.seed, 0))
    for start in tqdm(range(0, len(profiles), settings.batch_size), desc="reference_dependent", unit="batch"):
        batch = profiles[start : start + settings.batch_size]
        scripts, _ = writer.generator.generate(
            [script_prompt(p, settings.max_turns) for p in batch], sampling, writer.adapter
        )
        for profile, script in zip(batch, scripts):
            conversation = script_conversation(
                profile, script, max_turns=settings.max_turns, index=index,
                link_cutoff=params.preprocess.title_match_threshold,
            )
            rows.append(
                dialogue_row(
                    conversation, source="reference_dependent", titles=titles, seed=params.seed,
                    models={"user": loaded.identities["user"], "recommender": loaded.identities["user"]},
                    params_hash=job_hash,
                )
            )
    shards.write_parquet_atomic(to_table(rows), root / out)
    return root / out

