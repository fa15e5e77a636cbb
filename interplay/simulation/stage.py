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

from interplay.config.params import Params, SimulationParams
from interplay.grounding.notes import Grounder
from interplay.pipeline.runtime_keys import section_keys
from interplay.pipeline.stage_code import PROJECT_ROOT, stage_code
from interplay.pipeline.stage_keys import content_hash
from interplay.preprocess.artifacts import read_catalog as read_catalog_table
from interplay.preprocess.artifacts import read_dialogues
from interplay.simulation import samples, shards
from interplay.simulation.engine import EngineSettings
from interplay.simulation.inputs import CATALOG, DIALOGUES, read_catalog, read_profiles
from interplay.simulation.run import ShardJob, in_process, select_profiles, simulate_to_file
from interplay.simulation.runtime import Variant, load_players, model_identities
from interplay.simulation.samples import Sample

log = logging.getLogger(__name__)

WORK = Path("data/work")


#: Simulation keys that do not decide a variant's dialogues besides the runtime-only ones of
#: :data:`interplay.pipeline.runtime_keys.RUNTIME_KEYS`: another variant's settings, or (for a baseline) the
#: Interplay count. Everything else, ``batch_size`` included (it decides what is sampled
#: together), does.
_OTHER_VARIANTS: dict[str, set[str]] = {
    "interplay": {"zero_shot", "reference_dependent"},
    "zero_shot": {"num_profiles", "samples_per_profile", "reference_dependent"},
    "reference_dependent": {"num_profiles", "samples_per_profile", "zero_shot"},
}
#: The stage whose code runs each variant: the shards hash that stage's import closure.
_STAGE_OF = {"interplay": "simulate"}


def params_hash(params: Params, variant: str) -> str:
    """What of the parameters decides a variant's dialogues (recorded in every row)."""
    return shards.run_identity(
        {
            "seed": params.seed,
            "simulation": params.simulation.model_dump(exclude=_not_deciding(variant, params.simulation)),
            "retriever": params.retriever.model_dump() if variant == "interplay" else None,
            "end_marker": params.preprocess.end_marker,
            "accept_marker": params.preprocess.accept_marker,
            "match": params.preprocess.title_match_threshold,
        }
    )


def _not_deciding(variant: str, settings: SimulationParams) -> set[str]:
    """Keys left out of the hash; one sample per profile is left out too, so that the rows of
    runs from before samples existed keep their hash (and their bytes)."""
    single = {"samples_per_profile"} if settings.samples_per_profile == 1 else set()
    return set(section_keys("simulation")) | _OTHER_VARIANTS[variant] | single


def samples_per_profile(params: Params, variant: str) -> int:
    """Interplay's ``simulation.samples_per_profile``; the baselines simulate each profile once."""
    return params.simulation.samples_per_profile if variant == "interplay" else 1


def code_version(variant: str) -> str:
    """The hash of the code the variant's stage runs (its import closure, as ``dvc.yaml``
    declares it): any edit a rerun of the stage would execute starts the shards afresh."""
    files = stage_code(PROJECT_ROOT, stage_of(variant))
    return shards.run_identity({path: content_hash(PROJECT_ROOT / path) for path in files})


def stage_of(variant: str) -> str:
    """The ``dvc.yaml`` stage that simulates ``variant``."""
    return _STAGE_OF.get(variant, "baselines")


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
        accept_marker=params.preprocess.accept_marker,
        link_cutoff=params.preprocess.title_match_threshold,
        leak_threshold=None if variant == "reference_dependent" else params.preprocess.title_match_threshold,
    )


def simulate_pairs(params: Params, root: Path, variant: Variant, count: int | None, out: Path) -> Path:
    """Dialogues of one variant (see ``Variant``) from held-out profiles, sharded and resumable."""
    settings = params.simulation
    chosen = select_profiles(read_profiles(root), settings.profile_splits, count, params.seed)
    per_profile = samples_per_profile(params, variant)
    profiles = samples.expand(chosen, per_profile, params.seed)
    log.info("%s: %d profiles of %s x %d samples = %d dialogues", variant, len(chosen),
             "+".join(settings.profile_splits), per_profile, len(profiles))
    index, titles = read_catalog(root)
    job = ShardJob(
        source=variant,
        seed=params.seed,
        user_share=settings.user_opens_share,
        engine=engine_settings(params, variant, root),
        titles=titles,
        models=model_identities(params, root, variant),
        params_hash=params_hash(params, variant),
        shard_size=settings.shard_size,
    )
    identity = shards.run_identity(
        {"job": job.params_hash, "models": job.models, "profiles": [s.key for s in profiles],
         "code": code_version(variant), "train": content_hash(root / DIALOGUES) if job.engine.grounder else None}
    )

    def run_pending(plan: list[list[Sample]], pending: list[int], work_dir: Path) -> None:
        """Shards on Dask (``simulation.task_runner: dask``) or here; models load only if any is pending."""
        if settings.task_runner == "dask":
            from interplay.simulation.distributed import run_on_dask

            run_on_dask(params, root, variant, job, plan, pending, work_dir)
        else:
            in_process(job, load_players(params, root, variant).players, index)(plan, pending, work_dir)

    simulate_to_file(job, profiles, run_pending, root / WORK / variant / identity, root / out)
    return root / out
