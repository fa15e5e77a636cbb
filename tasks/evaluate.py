"""Stage ``evaluate``: every SPEC metric for Interplay, the baselines and the real test dialogues.

Writes ``reports/metrics.json`` (DVC metrics), ``reports/evaluation.md`` and
``reports/figures/*.png`` (DVC plots).
"""

from __future__ import annotations

from pathlib import Path

from interplay.config.params import Params


def run(params: Params, root: Path) -> None:
    from interplay.evaluation import run_evaluation

    run_evaluation(params, root)
