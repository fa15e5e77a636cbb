"""The simulate and baselines stages: read profiles and catalog, run, write the dialogue files.

All three variants run through the same engine: Interplay (the fine-tuned pair), zero-shot (the
base model in both roles) and reference-dependent (the base model writing both sides of a
script that names the target). Each writes
``<out>.parquet`` through shards kept under ``data/work/`` (named by the run's identity), so a
killed run resumes where it stopped.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from interplay.grounding.notes import Grounder
from interplay.params import Params
from interplay.preprocess.artifacts import read_catalog as read_catalog_table
from interplay.preprocess.artifacts import read_dialogues
from interplay.simulation import shards
from interplay.simulation.engine import EngineSettings
from interplay.simulation.records import DIALOGUE_SCHEMA
from interplay.simulation.run import ShardJob, log_resume, select_profiles, simulate_locally
from interplay.simulation.runtime import Variant, load_players, model_identities
from interplay.stage_keys import content_hash
from interplay.textmatch import TitleIndex

log = logging.getLogger(__name__)

PROFILES = Path("data/processed/profiles.parquet")
CATALOG = Path("data/processed/catalog.parquet")
DIALOGUES = Path("data/processed/dialogues.parquet")
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
    "reference_dependent": {"task_runner", "dask_address", "num_profiles", "zero_shot"},
}
#: The code a simulation's dialogues depend on: a change starts the shards afresh.
_CODE = (
    "interplay/simulation", "interplay/prompts.py", "interplay/textmatch.py", "interplay/training/chat.py",
    "interplay/end_marker.py", "interplay/precision.py", "interplay/grounding",
)


def params_hash(params: Params, variant: str) -> str:
    """What of the parameters decides a variant's dialogues (recorded in every row)."""
    return shards.run_identity(
        {
            "seed": params.seed,
            "simulation": params.simulation.model_dump(exclude=_NOT_DECIDING[variant]),
            "retriever": params.retriever.model_dump() if variant == "interplay" else None,
            "end_marker": params.preprocess.end_marker,
            "match": params.preprocess.title_match_threshold,
        }
    )


def code_version() -> str:
    package = Path(__file__).resolve().parents[2]
    return shards.run_identity({path: content_hash(package / path) for path in _CODE})


def grounder(params: Params, root: Path, variant: Variant) -> Grounder | None:
    """Interplay's notes under ``simulation.grounding: catalog``: the retriever fitted on the
    train dialogues. The baselines are never grounded (they are the paper's baselines)."""
    if variant != "interplay" or params.simulation.grounding != "catalog":
        return None
    catalog = read_catalog_table(root / CATALOG)
    return Grounder.fit(catalog, read_dialogues(root / DIALOGUES, splits=("train",)), params.retriever)


def engine_settings(params: Params, variant: Variant, root: Path | None = None) -> EngineSettings:
    """The engine's settings; only the reference-dependent script may name its target unasked."""
    return EngineSettings(
        grounder=grounder(params, root, variant) if root is not None else None,
        batch_size=params.simulation.batch_size,
        max_turns=params.simulation.max_turns,
        end_marker=params.preprocess.end_marker,
        link_cutoff=params.preprocess.title_match_threshold,
        leak_threshold=None if variant == "reference_dependent" else params.preprocess.title_match_threshold,
    )


def simulate_pairs(params: Params, root: Path, variant: Variant, count: int | None, out: Path) -> Path:
    """Dialogues of one variant (see ``Variant``) from held-out profiles, sharded and resumable."""
    settings = params.simulation
    profiles = select_profiles(read_profiles(root), settings.profile_splits, count, params.seed)
    index, titles = read_catalog(root)
    job = ShardJob(
        source=variant,
        seed=params.seed,
        user_share=settings.user_opens_share,
        engine=engine_settings(params, variant, root),
        titles=titles,
        models=model_identities(params, root, variant),
        params_hash=params_hash(params, variant),
    )
    identity = shards.run_identity(
        {"job": job.params_hash, "models": job.models, "profiles": [p["profile_id"] for p in profiles],
         "code": code_version(), "train": content_hash(root / DIALOGUES) if job.engine.grounder else None}
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
