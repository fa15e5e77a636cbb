"""Fine-tuning throughput and memory of one role: fp32 against bf16, on the same data and steps.

Each precision trains in a fresh process (so that its peak RSS, read from the process's own
``VmHWM``, is its own) through the stage's real path (:func:`interplay.training.roles` loading,
:func:`interplay.training.finetune.train_adapter`), with the default fine-tuning settings but a
fixed number of steps. Reported per precision: supervised tokens per second, validation loss
after the same steps, peak RSS; and the ratios bf16 / fp32 measured in this one run.

Needs the preprocessed training sets and the base model (``dvc repro preprocess base_model``).
Results go to reports/bench_training.json. Run: ``.venv/bin/python benchmarks/bench_training.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from interplay.config.env import apply_offline_defaults
apply_offline_defaults(Path({root!r}))
import torch
torch.set_num_threads({threads})
from interplay.models import precision as precisions
from interplay.config.params import load_params
from interplay.training.data import encode_rows, read_sft_rows, subsample
from interplay.training.finetune import load_base, train_adapter
from interplay.training.roles import role_base_dir, sft_path

root = Path({root!r})
params = load_params(root / "params.yaml")
overrides = {overrides!r}
settings = params.finetune.for_role({role!r}).model_copy(update=overrides)
base_dir = role_base_dir(params, root, {role!r})
model, tokenizer = load_base(base_dir, precisions.dtype_of(precisions.resolve(settings.precision)))
train = encode_rows(tokenizer, subsample(read_sft_rows(sft_path(root, {role!r}, "train")), None, params.seed), settings.max_tokens, settings.long_dialogues == "windows")
validation = encode_rows(tokenizer, subsample(read_sft_rows(sft_path(root, {role!r}, "validation")), settings.max_eval_rows, params.seed), settings.max_tokens, settings.long_dialogues == "windows")
metrics = train_adapter(model, tokenizer, train, validation, settings, seed=params.seed,
                        out_dir=Path({tmp!r}) / "adapter", checkpoint_dir=Path({tmp!r}) / "checkpoints")
status = Path("/proc/self/status").read_text()
metrics["peak_rss_mib"] = round(int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]) / 1024, 1)
print("RESULT " + json.dumps(metrics))
"""


#: What each child run reports, of the stage's metrics and its peak RSS.
RESULT_KEYS = ("supervised_tokens_per_second", "validation_loss_before", "validation_loss_after",
               "train_seconds", "train_steps", "peak_rss_mib", "precision")


def relative_difference(value: float, reference: float) -> float:
    return abs(value - reference) / reference


def run_child(role: str, overrides: dict, threads: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        code = CHILD.format(root=str(ROOT), role=role, overrides=overrides, tmp=tmp, threads=threads)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed ({overrides}):\n{done.stderr[-3000:]}")
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", default="user", choices=["user", "recommender"])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch", type=int, default=None, help="batch size (default: params.yaml)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench_training.json")
    args = parser.parse_args()

    results = {}
    for precision in ("float32", "bfloat16"):
        overrides = {"precision": precision, "max_steps": args.steps, "save_steps": 10_000}
        if args.batch:
            overrides |= {"batch_size": args.batch, "gradient_accumulation_steps": 1}
        metrics = run_child(args.role, overrides, args.threads)
        results[precision] = {k: metrics[k] for k in RESULT_KEYS}
        print(precision, json.dumps(results[precision]))
    fp32, bf16 = results["float32"], results["bfloat16"]
    report = {
        "role": args.role,
        "steps": args.steps,
        "threads": args.threads,
        "runs": results,
        "bf16_over_fp32_tokens_per_second": round(
            bf16["supervised_tokens_per_second"] / fp32["supervised_tokens_per_second"], 2
        ),
        "validation_loss_relative_difference": round(
            relative_difference(bf16["validation_loss_after"], fp32["validation_loss_after"]), 4
        ),
        "goals": {"bf16_speedup_at_least": 2.5, "loss_within": 0.02, "peak_rss_mib_below": 3072},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
