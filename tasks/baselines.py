"""baselines stage: zero-shot pairs (base model, no adapters) and reference-dependent scripts (base model, told the target)."""

from __future__ import annotations

from pathlib import Path

from interplay.config.params import Params
from interplay.simulation.records import GENERATED_PATHS
from interplay.simulation.stage import simulate_pairs


def run(params: Params, root: Path) -> None:
    settings = params.simulation
    simulate_pairs(params, root, "zero_shot", settings.zero_shot.num_profiles, Path(GENERATED_PATHS["zero_shot"]))
    simulate_pairs(
        params, root, "reference_dependent", settings.reference_dependent.num_profiles,
        Path(GENERATED_PATHS["reference_dependent"]),
    )
