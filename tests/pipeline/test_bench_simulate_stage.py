"""benchmarks/bench_simulate_stage.py: how it counts the prompt tokens encoded again after a cut."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_simulate_stage", ROOT / "benchmarks" / "bench_simulate_stage.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


class _Store:
    """A prefix store that reuses the longest common prefix with what a key held last."""

    def __init__(self) -> None:
        self.held: dict[Any, list[int]] = {}

    def reusable(self, key: Any, ids: list[int]) -> int:
        held = self.held.get(key, [])
        return next((i for i, (a, b) in enumerate(zip(held, ids)) if a != b), min(len(held), len(ids)))

    def layout(self, keys: list[Any], prompts: list[list[int]], pad: int = 0) -> None:
        for key, ids in zip(keys, prompts):
            self.held[key] = ids


def test_a_moved_cut_counts_the_tokens_encoded_again() -> None:
    sections = bench.Sections()
    bench._count_prompts(sections, _Store)
    store = _Store()
    system = [1, 2, 3]
    store.layout(["a"], [system + [10, 11]])               # first prompt
    store.layout(["a"], [system + [10, 11, 12, 13]])       # grows: reuses all it held
    store.layout(["a"], [system + [12, 13, 14]])           # cut moved: only the system prompt reused
    store.layout(["b"], [system + [20]])                   # another conversation's first prompt
    assert sections.tokens["prompts"] == 4
    assert sections.tokens["prompt_tokens"] == 5 + 7 + 6 + 4
    assert sections.tokens["cut_moves"] == 1
    assert sections.tokens["tokens_encoded_after_a_cut_moved"] == 3
