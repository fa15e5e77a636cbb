"""baselines stage: zero-shot pairs (base model, no adapters) and reference-dependent scripts."""

from __future__ import annotations

from pathlib import Path

from interplay.params import Params
from interplay.simulation.records import GENERATED_PATHS
from interplay.simulation.stage import simulate_pairs, write_reference_dependent

def run(params: Params, root: Path) -> None:
    settings = params.simulation
    simulate_pairs(params, root, "zero_shot", settings.zero_shot.num_profiles, Path(GENERATED_PATHS["zero_shot"]))
    write_reference_dependent(params, root, Path(GENERATED_PATHS["reference_dependent"]))
