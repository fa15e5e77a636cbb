"""Peak memory of fine-tuning against the micro-batch: the same optimizer steps, whole batches
against half batches accumulated twice.

A training step's peak is the activations autograd keeps for the backward pass, which grow with
the tokens of one forward pass (a micro-batch), not with the examples of an optimizer step. With
gradient accumulation the loss is still the token mean over the whole step
(:class:`interplay.training.finetune` weighs each micro-batch by the step's supervised tokens), so
halving the micro-batch and accumulating two should keep the validation loss and the speed while
cutting the peak. Each setting trains in a fresh process through the stage's real path
(``benchmarks/bench_training.py``'s child), on the same data and steps, in one precision.

Results: reports/bench_training_memory.json. Run:
``.venv/bin/python benchmarks/bench_training_memory.py [--precision float32] [--steps 6]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_training import RESULT_KEYS, relative_difference, run_child  # noqa: E402

from interplay.config.params import load_params  # noqa: E402
from interplay.models import precision as precisions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", nargs="+", default=["user", "recommender"], choices=["user", "recommender"])
    parser.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench_training_memory.json")
    args = parser.parse_args()

    params = load_params(ROOT / "params.yaml")
    report: dict = {"steps": args.steps, "threads": args.threads, "precision": precisions.resolve(args.precision), "roles": {}}
    for role in args.roles:
        default = params.finetune.for_role(role)
        examples = default.batch_size * default.gradient_accumulation_steps
        if examples % 2:
            raise SystemExit(f"{role}: {examples} examples a step cannot be halved")
        settings = {
            "whole": {"batch_size": examples, "gradient_accumulation_steps": 1},
            "halves": {"batch_size": examples // 2, "gradient_accumulation_steps": 2},
        }
        runs = {}
        for name, batch in settings.items():
            overrides = {"precision": args.precision, "max_steps": args.steps, "save_steps": 10_000, **batch}
            metrics = run_child(role, overrides, args.threads)
            runs[name] = {**batch, **{k: metrics[k] for k in RESULT_KEYS}}
            print(role, name, json.dumps(runs[name]), flush=True)
        whole, halves = runs["whole"], runs["halves"]
        report["roles"][role] = {
            "examples_per_step": examples,
            "max_tokens": default.max_tokens,
            "runs": runs,
            "peak_rss_halves_over_whole": round(halves["peak_rss_mib"] / whole["peak_rss_mib"], 3),
            "tokens_per_second_halves_over_whole": round(
                halves["supervised_tokens_per_second"] / whole["supervised_tokens_per_second"], 3
            ),
            "validation_loss_relative_difference": round(
                relative_difference(halves["validation_loss_after"], whole["validation_loss_after"]), 6
            ),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
