"""simulate stage: the fine-tuned pair talks live from held-out seed profiles."""

from __future__ import annotations

from pathlib import Path

from interplay.config.params import Params
from interplay.simulation.records import GENERATED_PATHS
from interplay.simulation.stage import simulate_pairs

OUT = Path(GENERATED_PATHS["interplay"])


def run(params: Params, root: Path) -> None:
    simulate_pairs(params, root, "interplay", params.simulation.num_profiles, OUT)
