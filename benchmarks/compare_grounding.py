"""Interplay grounded (``simulation.grounding: catalog``) beside the paper's pure setting (``none``).

Each variant is a full default run in its own clone (the default ``make run`` trains only the
grounded one):

    git clone <repo> ../ungrounded && cd ../ungrounded && cp profiles/ungrounded.yaml params.yaml && make run
    python benchmarks/compare_grounding.py reports/metrics.json ../ungrounded/reports/metrics.json

Writes ``reports/grounding.json`` (the Interplay metrics of each run's ``reports/metrics.json``, the
commit this ran at and ``--about``) and ``reports/grounding.md`` from it, one metric a row so that
the two variants read side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from provenance import current_commit  # noqa: E402

KEYS = (
    "num_dialogues", "success_rate", "match_score", "half_match_rate", "recall@1", "recall@5",
    "recall@10", "leakage_rate", "leak_attempt_rate", "item_turn_share", "avg_turns", "avg_words_per_turn_user",
    "avg_words_per_turn_recommender", "realism_auc", "turn_realism_auc_user",
    "turn_realism_auc_recommender", "outcome_accepted", "outcome_gave_up", "outcome_max_turns",
    "outcome_leak_guard", "outcome_error",
)


def _cell(value: object) -> str:
    if value is None:
        return "–"
    return str(value) if isinstance(value, int) else f"{float(value):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("grounded", type=Path, help="metrics.json of the grounding: catalog run")
    parser.add_argument("ungrounded", type=Path, help="metrics.json of the grounding: none run")
    parser.add_argument("--about", default="", help="where and how the two runs were made")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "grounding.md")
    args = parser.parse_args()
    report = {
        "commit": current_commit(ROOT),
        "inputs": {"catalog (default)": str(args.grounded), "none (the paper's setting)": str(args.ungrounded)},
        "runs": {
            "catalog (default)": json.loads(args.grounded.read_text("utf-8"))["interplay"],
            "none (the paper's setting)": json.loads(args.ungrounded.read_text("utf-8"))["interplay"],
        },
        "about": args.about,
    }
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    page = render_markdown(report)
    args.out.write_text(page, encoding="utf-8")
    print(page, end="")


def render_markdown(report: dict) -> str:
    """reports/grounding.md from reports/grounding.json."""
    runs = report["runs"]
    lines = [
        "# Interplay with and without catalog grounding",
        "",
        "Both are full default runs (same budget, seed and 64 held-out profiles); only "
        "`simulation.grounding` differs. Written by `benchmarks/compare_grounding.py` at commit "
        f"{report['commit']} from `reports/grounding.json`.",
        "",
        "| metric | " + " | ".join(runs) + " |",
        "| --- | " + " | ".join("---:" for _ in runs) + " |",
    ]
    for key in KEYS:
        lines.append(f"| {key} | " + " | ".join(_cell(m.get(key)) for m in runs.values()) + " |")
    if report["about"]:
        lines += ["", report["about"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
