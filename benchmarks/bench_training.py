"""Fine-tuning throughput, loss and memory of one role: fp32 against bf16, on the same data and steps.

Modes, each trained in a fresh process (so that its peak RSS, read from the process's own
``VmHWM``, is its own) through the stage's real path (:func:`interplay.training.data` encoding,
:func:`interplay.training.finetune.train_adapter`), with the default fine-tuning settings of
``params.yaml`` but a fixed number of steps and validation rows:

- ``float32``: every weight and every op in fp32.
- ``bf16-autocast``: mixed precision as torch AMP does it: every weight held in fp32, forward and
  loss under bf16 autocast, the LoRA weights and AdamW state in fp32.
- ``bf16-autocast-bf16-base``: the same, with the frozen base weights held in bf16 (what the stage
  does in bf16: :func:`interplay.models.precision.training_base_dtype`).
- ``bf16-before``: bf16 as the code of ``--before`` (default 9f207e5) trained, run from that
  commit's ``interplay`` package (``git archive``): the base held in bf16, LoRA in fp32, and no autocast
  during training (the Trainer's autocast wraps ``model.forward``, which the loss never calls).

Reported per mode: supervised tokens per second (and per CPU second of training, less moved by
other processes on a shared machine), validation loss before and after the same steps, peak RSS; per bf16 mode, its speed and loss against fp32 and whether the goals are met (tokens/s
>= 2.2x fp32 where bf16 is native, validation loss within 2% of fp32, peak RSS under 3 GB). A bf16
against fp32 matmul at SmolLM2's shapes, in the same run, says what ratio the hardware allows.

Needs the preprocessed training sets and the base model (``dvc repro preprocess base_model``) under
``--data-root`` (default: this checkout). Results go to reports/bench_training.json. Run:
``nice -n 5 .venv/bin/python benchmarks/bench_training.py [--steps 30] [--data-root DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, {code!r})
from interplay.config.env import apply_offline_defaults
apply_offline_defaults(Path({code!r}))
import torch
torch.set_num_threads({threads})
from interplay.config.params import load_params
from interplay.training.data import encode_rows, read_sft_rows, subsample
from interplay.training.finetune import load_base, train_adapter
from interplay.training.roles import role_base_dir, sft_path

data = Path({data!r})
params = load_params(Path({params!r}))
settings = params.finetune.for_role({role!r}).model_copy(update={overrides!r})
model, tokenizer = load_base(role_base_dir(params, data, {role!r}), getattr(torch, {base_dtype!r}))
windows = settings.long_dialogues == "windows"
train = encode_rows(tokenizer, subsample(read_sft_rows(sft_path(data, {role!r}, "train")), settings.max_train_rows,
                    params.seed), settings.max_tokens, windows)
validation = encode_rows(tokenizer, subsample(read_sft_rows(sft_path(data, {role!r}, "validation")),
                         settings.max_eval_rows, params.seed), settings.max_tokens, windows)
import time
from transformers import TrainerCallback
cpu = {{}}
class CpuTime(TrainerCallback):
    def on_train_begin(self, args, state, control, **kwargs):
        cpu["begin"] = time.process_time()
    def on_train_end(self, args, state, control, **kwargs):
        cpu["end"] = time.process_time()
metrics = train_adapter(model, tokenizer, train, validation, settings, seed=params.seed,
                        out_dir=Path({tmp!r}) / "adapter", checkpoint_dir=Path({tmp!r}) / "checkpoints",
                        callbacks=[CpuTime()])
tokens = metrics["supervised_tokens_per_second"] * metrics["train_seconds"]
metrics["train_cpu_seconds"] = round(cpu["end"] - cpu["begin"], 2)
metrics["supervised_tokens_per_cpu_second"] = round(tokens / metrics["train_cpu_seconds"], 2)
status = Path("/proc/self/status").read_text()
metrics["peak_rss_mib"] = round(int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]) / 1024, 1)
metrics["base_dtype"] = {base_dtype!r}
print("RESULT " + json.dumps(metrics))
"""

#: What each child run reports, of the stage's metrics and its peak RSS.
RESULT_KEYS = ("supervised_tokens_per_second", "validation_loss_before", "validation_loss_after",
               "train_seconds", "train_steps", "peak_rss_mib", "precision")
#: Training's CPU time (all threads), beside the wall clock: the machine is shared, and a ratio of
#: CPU time is less moved by other processes than one of wall time.
CPU_KEYS = ("train_cpu_seconds", "supervised_tokens_per_cpu_second")

#: mode -> (precision setting, dtype the frozen base is held in, runs the code of ``--before``).
MODES: dict[str, tuple[str, str, bool]] = {
    "float32": ("float32", "float32", False),
    "bf16-autocast": ("bfloat16", "float32", False),
    "bf16-autocast-bf16-base": ("bfloat16", "bfloat16", False),
    "bf16-before": ("bfloat16", "bfloat16", True),
}

#: Goals of issue 26 item 4 for a bf16 mode against fp32.
GOALS = {"tokens_per_second_ratio_at_least": 2.2, "validation_loss_within": 0.02, "peak_rss_mib_below": 3072}


def relative_difference(value: float, reference: float) -> float:
    return abs(value - reference) / reference


def run_child(
    role: str,
    overrides: dict,
    threads: int,
    base_dtype: str | None = None,
    code: Path = ROOT,
    data: Path = ROOT,
) -> dict:
    """Train in a fresh process with the code under ``code`` and the data and base under ``data``;
    the base is held in ``base_dtype`` (default: what the stage holds it in for that precision)."""
    if base_dtype is None:
        from interplay.models import precision as precisions

        resolved = precisions.resolve(overrides.get("precision", "auto"))
        base_dtype = str(precisions.training_base_dtype(resolved)).removeprefix("torch.")
    with tempfile.TemporaryDirectory() as tmp:
        source = CHILD.format(code=str(code), data=str(data), params=str(ROOT / "params.yaml"), role=role,
                              overrides=overrides, tmp=tmp, threads=threads, base_dtype=base_dtype)
        done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed ({overrides}, base {base_dtype}):\n{done.stderr[-3000:]}")
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def matmul_gflops(threads: int, tokens: int = 640, shape: tuple[int, int] = (576, 1536)) -> dict[str, float]:
    """GFLOP/s of one projection of SmolLM2-135M (``tokens`` x 576 @ 576 x 1536) in fp32 and bf16:
    the speed-up the hardware allows a matmul-bound step."""
    import torch

    torch.set_num_threads(threads)
    rates = {}
    for dtype in (torch.float32, torch.bfloat16):
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(tokens, shape[0], generator=generator).to(dtype)
        w = torch.randn(shape[0], shape[1], generator=generator).to(dtype)
        for _ in range(5):
            x @ w
        times = []
        for _ in range(30):
            started = time.perf_counter()
            x @ w
            times.append(time.perf_counter() - started)
        # the fastest of 30: on a shared machine the others measure who else ran
        rates[str(dtype).removeprefix("torch.")] = round(2 * tokens * shape[0] * shape[1] / min(times) / 1e9, 1)
    rates["bf16_over_fp32"] = round(rates["bfloat16"] / rates["float32"], 2)
    return rates


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout.strip()


def export_package(commit: str, out: Path) -> None:
    """The ``interplay`` package as of ``commit``, written under ``out`` (``git archive``: the
    repository's worktrees and refs stay untouched)."""
    out.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit, "interplay"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)


def compare(run: dict, fp32: dict, native_bf16: bool) -> dict:
    """A bf16 mode against fp32: ratios and whether each goal is met (the speed goal only binds
    where the CPU has native bf16)."""
    ratio = run["supervised_tokens_per_second"] / fp32["supervised_tokens_per_second"]
    cpu_ratio = run["supervised_tokens_per_cpu_second"] / fp32["supervised_tokens_per_cpu_second"]
    loss = relative_difference(run["validation_loss_after"], fp32["validation_loss_after"])
    return {
        "tokens_per_second_over_fp32": round(ratio, 2),
        "tokens_per_cpu_second_over_fp32": round(cpu_ratio, 2),
        "validation_loss_relative_difference": round(loss, 4),
        "goals_met": {
            "tokens_per_second_ratio": (ratio >= GOALS["tokens_per_second_ratio_at_least"]) if native_bf16 else None,
            "validation_loss": loss <= GOALS["validation_loss_within"],
            "peak_rss": run["peak_rss_mib"] < GOALS["peak_rss_mib_below"],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", default="user", choices=["user", "recommender"])
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per mode (the stage's own: params.yaml)")
    parser.add_argument("--eval-rows", type=int, default=32, help="validation rows (the same for every mode)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--parallel", action="store_true",
                        help="train every mode at once, each in its own process: on a shared machine all see "
                             "the same load (compare tokens per CPU second); peak RSS stays per process")
    parser.add_argument("--before", default="9f207e5", help="commit whose bf16 training `bf16-before` runs")
    parser.add_argument("--data-root", type=Path, default=ROOT, help="folder holding data/processed and models/base")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench_training.json")
    args = parser.parse_args()
    if "float32" not in args.modes:
        raise SystemExit("--modes must include float32, the reference of every ratio")

    from interplay.config.params import load_params
    from interplay.models import precision as precisions

    default = load_params(ROOT / "params.yaml").finetune.for_role(args.role)
    overrides = {"max_steps": args.steps, "save_steps": 10_000, "max_eval_rows": args.eval_rows}
    native = precisions.cpu_has_fast_bf16()
    started = time.perf_counter()
    matmul = matmul_gflops(args.threads)
    print("matmul GFLOP/s", json.dumps(matmul), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        before_code = Path(tmp) / "before"
        if any(MODES[m][2] for m in args.modes):
            export_package(args.before, before_code)

        def measure(mode: str) -> dict:
            precision, base_dtype, before = MODES[mode]
            load = os.getloadavg()[0]
            metrics = run_child(args.role, {**overrides, "precision": precision}, args.threads, base_dtype,
                                code=before_code if before else ROOT, data=args.data_root)
            result = {
                **{k: metrics[k] for k in RESULT_KEYS + CPU_KEYS},
                "base_dtype": base_dtype,
                "code": args.before if before else "this commit",
                "load_average_1min_before_after": [round(load, 2), round(os.getloadavg()[0], 2)],
            }
            print(mode, json.dumps(result), flush=True)
            return result

        with ThreadPoolExecutor(max_workers=len(args.modes) if args.parallel else 1) as pool:
            results = dict(zip(args.modes, pool.map(measure, args.modes)))

    fp32 = results["float32"]
    comparisons = {m: compare(r, fp32, native) for m, r in results.items() if m != "float32"}
    stage_mode = "bf16-autocast-bf16-base" if precisions.training_base_dtype("bfloat16") == precisions.dtype_of(
        "bfloat16") else "bf16-autocast"
    report = {
        "role": args.role,
        "steps": args.steps,
        "steps_note": f"{args.steps} optimizer steps per mode (the stage trains {default.max_steps}) and "
                      f"{args.eval_rows} validation rows (the stage: {default.max_eval_rows or 'all'}), to keep "
                      "the benchmark short",
        "benchmark_wall_seconds": round(time.perf_counter() - started, 1),
        "settings": {**default.model_dump(include={"batch_size", "gradient_accumulation_steps", "max_tokens",
                                                   "learning_rate", "lora_r", "lora_target_modules"}), **overrides},
        "threads": args.threads,
        "modes_ran": "at once, each in its own process" if args.parallel else "one after another",
        "cpu_description": precisions.cpu_description(),
        "auto_resolves_to": precisions.resolve("auto"),
        "stage_bf16_mode": stage_mode,
        "commit": git("rev-parse", "HEAD") + (" (with uncommitted changes)" if git("status", "--porcelain") else ""),
        "command": " ".join(["python", *sys.argv]),
        "matmul_gflops": matmul,
        "runs": results,
        "against_fp32": comparisons,
        "goals": GOALS,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("cpu_description", "matmul_gflops", "stage_bf16_mode")}, indent=2))
    for mode, comparison in comparisons.items():
        met = ", ".join(f"{goal}: {'n/a' if ok is None else 'met' if ok else 'NOT met'}"
                        for goal, ok in comparison["goals_met"].items())
        print(f"{mode}: {comparison['tokens_per_second_over_fp32']}x fp32 tokens/s "
              f"({comparison['tokens_per_cpu_second_over_fp32']}x per CPU second), validation loss "
              f"{comparison['validation_loss_relative_difference']:.2%} from fp32, peak RSS "
              f"{results[mode]['peak_rss_mib']:.0f} MiB; goals: {met}")
    print(f"float32: peak RSS {fp32['peak_rss_mib']:.0f} MiB; "
          f"peak_rss: {'met' if fp32['peak_rss_mib'] < GOALS['peak_rss_mib_below'] else 'NOT met'}")


if __name__ == "__main__":
    main()
