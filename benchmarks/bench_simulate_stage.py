"""The simulate stage's own code path, timed and taken apart: where a dialogue's time goes.

Runs ``interplay.simulation.stage.simulate_pairs`` (grounding and candidate notes, note stripping,
linking, retries and resampling, the sampling of ``params.yaml``) on N held-out profiles with the
trained models of a finished default run, in a workspace of links to them (read-only), and writes
``reports/bench_simulate_stage.json``:

* dialogues per hour (of the simulation loop, and of the whole stage with model loading and the
  retriever's fit), tokens generated and tokens encoded (prefill);
* where the loop's time goes: prefill, decode forward, logits processing and sampling, retriever
  and notes, tokenization, key/value cache bookkeeping, turn checks and linking, everything else.
  The sections are measured by wrapping the functions that do each (the model's ``forward``, the
  logits processors, the grounder, ...) from outside, so the same timing runs on any commit's
  code and costs nothing when the benchmark is not running;
* the matmul limit of this machine in the same run: a 576x1536 matmul (the model's MLP shape) at
  the stage's batch size, in fp32 and bf16, and the decode rate it allows at 2 x parameters FLOP a
  token; the stage's decode throughput as a share of it.

``--compare-commit faa04ac`` runs the same measurement on that commit's code too (a temporary git
worktree, in a subprocess with PYTHONPATH pointing at it), so before and after are side by side
on one machine. The goals of issue 26 are checked and printed as met / not met.

``--pool 32:16 --pool 64:32`` measures this code once per pool setting instead (profiles per shard
and rows per generation batch, overriding ``params.yaml``; the pool holds two batches) and writes
``reports/bench_simulate_pool.json``: how the in-flight pool's size moves the rate.

``--context-step 1 --context-step 4`` measures this code once per
``interplay.simulation.engine.CONTEXT_STEP`` (messages a prompt over its budget drops at a time)
and writes ``reports/bench_context_step.json``: the prefill tokens, those encoded again because
a prompt's cut moved, the context the prompts kept (tokens a prompt on average), and the rate.

Run: ``nice -n 5 .venv/bin/python benchmarks/bench_simulate_stage.py --profiles 64 --compare-commit faa04ac``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FINAL = Path("/work/final")
SPEEDUP_GOAL = 5.0
DECODE_SHARE_GOAL = 0.5
#: Sections of the simulation loop, as reported (each a sum of the measured sections it names).
SUMMARY = {
    "prefill": ("prefill",),
    "decode_forward": ("decode_forward",),
    "logits_processing_and_sampling": ("logits_processors", "generate_loop"),
    "retriever_and_notes": ("retriever_and_notes",),
    "tokenization": ("tokenization",),
    "kv_cache_bookkeeping": ("kv_cache",),
    "turn_checks_and_linking": ("turn_checks_and_linking",),
    "batching_and_other_engine": ("engine_generate", "engine_loop"),
}
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
               "HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}


class Sections:
    """Exclusive wall time per named section: a section nested in another counts only in itself."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.tokens: Counter[str] = Counter()
        self._children: list[float] = []

    @contextlib.contextmanager
    def section(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        self._children.append(0.0)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[name] += elapsed - self._children.pop()
            self.calls[name] += 1
            if self._children:
                self._children[-1] += elapsed

    def wrap(self, owner: Any, attribute: str, name: str | Callable[..., str]) -> None:
        """Replace ``owner.attribute`` by a timed call (``name`` may pick the section per call)."""
        inner = getattr(owner, attribute)

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.section(name(*args, **kwargs) if callable(name) else name):
                return inner(*args, **kwargs)

        setattr(owner, attribute, timed)


# ----------------------------------------------------------------------------- child: one commit


def _first_module(*names: str) -> Any:
    """The first of these modules that exists in the code under test (module paths moved)."""
    import importlib

    for name in names:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError:
            continue
    raise ModuleNotFoundError(f"none of {names}")


def _optional_module(name: str) -> Any:
    """The module if the code under test has it (older commits do not), else None."""
    try:
        return _first_module(name)
    except ModuleNotFoundError:
        return None


def workspace(tmp: Path, base: Path, user: Path, recommender: Path, processed: Path) -> Path:
    """A stage root whose inputs are links to a finished run's (nothing there is written)."""
    root = tmp / "root"
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    for link, target in (("models/base", base), ("models/user", user), ("models/recommender", recommender),
                         ("data/processed", processed)):
        (root / link).symlink_to(target.resolve(), target_is_directory=True)
    return root


def instrument(sections: Sections) -> dict[str, Any]:
    """Wrap the functions of each section in the code under test; returns handles the run needs."""
    import torch
    import transformers

    from interplay.grounding import notes
    from interplay.simulation import engine, prefix_cache, run, stage

    handles: dict[str, Any] = {"tokenizers": set()}
    for method in ("candidates_for", "candidates_for_each", "candidate_note", "item_note", "wish_note"):
        if hasattr(notes.Grounder, method):
            sections.wrap(notes.Grounder, method, "retriever_and_notes")
    for function in ("ground",):
        sections.wrap(engine, function, "retriever_and_notes")
    for function in ("turn_problem", "add_turn"):
        sections.wrap(engine, function, "turn_checks_and_linking")
    for method in ("layout", "store_batch", "drop"):
        sections.wrap(prefix_cache.PrefixCache, method, "kv_cache")
    _count_prompts(sections, prefix_cache.PrefixCache)
    sections.wrap(engine.TurnGenerator, "prompt_ids", "tokenization")
    sections.wrap(engine.TurnGenerator, "generate", "engine_generate")
    sections.wrap(transformers.LogitsProcessorList, "__call__", "logits_processors")
    for module in (engine, _optional_module("interplay.simulation.decoding")):  # the engine's own sampling step
        for name in getattr(module, "TIMED_SAMPLING", ()):
            sections.wrap(module, name, "generate_loop")
    run_conversations = run.run_conversations

    def counted(*args: Any, **kwargs: Any) -> Any:
        with sections.section("engine_loop"):
            done, stats = run_conversations(*args, **kwargs)
        sections.tokens["generated_tokens"] += stats.generated_tokens
        sections.tokens["retries"] += stats.retries
        return done, stats

    run.run_conversations = counted
    sections.wrap(stage, "grounder", "setup_retriever_fit")

    load_players = stage.load_players

    def loaded(*args: Any, **kwargs: Any) -> Any:
        with sections.section("setup_model_load"):
            players = load_players(*args, **kwargs)
        for player in players.players.values():
            _instrument_model(sections, player.generator, handles)
        return players

    stage.load_players = loaded
    handles["torch"] = torch
    return handles


def _count_prompts(sections: Sections, cache_type: Any) -> None:
    """Count each prompt's tokens, and the tokens encoded again because its cut moved: a prompt
    that reuses fewer tokens than the previous prompt of its conversation and role held."""
    layout = cache_type.layout
    held: dict[Any, int] = {}

    def counted(self: Any, keys: Any, prompts: Any, *args: Any, **kwargs: Any) -> Any:
        for key, ids in zip(keys, prompts):
            reused = self.reusable(key, ids)
            sections.tokens["prompts"] += 1
            sections.tokens["prompt_tokens"] += len(ids)
            if reused < held.get(key, 0) - 1:  # the last token of a prompt is re-run anyway
                sections.tokens["cut_moves"] += 1
                sections.tokens["tokens_encoded_after_a_cut_moved"] += len(ids) - reused
            held[key] = len(ids)
        return layout(self, keys, prompts, *args, **kwargs)

    cache_type.layout = counted


def _instrument_model(sections: Sections, generator: Any, handles: dict[str, Any]) -> None:
    """Time the model's forward (prefill: more than one new column; decode: one), its generate
    loop, and its tokenizer's decoding, once per model."""
    model = generator.model
    if getattr(model, "_bench_timed", False):
        return
    model._bench_timed = True
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    forward = inner.forward

    def timed_forward(*args: Any, **kwargs: Any) -> Any:
        ids = kwargs.get("input_ids")
        if ids is None and args:
            ids = args[0]
        rows, width = ids.shape
        name = "prefill" if width > 1 else "decode_forward"
        sections.tokens[f"{name}_columns"] += rows * width
        if name == "prefill" and kwargs.get("attention_mask") is not None:
            sections.tokens["prefill_tokens"] += int(kwargs["attention_mask"][:, -width:].sum())
        with sections.section(name):
            return forward(*args, **kwargs)

    inner.forward = timed_forward
    sections.wrap(model, "generate", "generate_loop")
    tokenizer_type = type(generator.tokenizer)
    if tokenizer_type not in handles["tokenizers"]:
        handles["tokenizers"].add(tokenizer_type)
        for method in ("decode", "batch_decode"):
            sections.wrap(tokenizer_type, method, "tokenization")


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One measurement of the code on ``sys.path``: the stage on ``args.profiles`` profiles."""
    sections = Sections()
    handles = instrument(sections)
    torch = handles["torch"]
    torch.set_num_threads(args.threads)
    params_module = _first_module("interplay.config.params", "interplay.params")
    from interplay.simulation import stage

    params = params_module.load_params(Path(args.code_root) / "params.yaml")
    if args.step:  # --context-step: this step instead of the engine's
        from interplay.simulation import engine

        engine.CONTEXT_STEP = args.step
    if args.shard_size or args.batch_size:  # --pool: this pool instead of params.yaml's
        pool = {"shard_size": args.shard_size, "batch_size": args.batch_size}
        simulation = params.simulation.model_copy(update={k: v for k, v in pool.items() if v})
        params = params.model_copy(update={"simulation": simulation})
    with tempfile.TemporaryDirectory() as tmp:
        root = workspace(Path(tmp), args.base, args.user, args.recommender, args.processed)
        out = Path("data/simulated/dialogues.parquet")
        started = time.perf_counter()
        stage.simulate_pairs(params, root, "interplay", args.profiles, out)
        stage_seconds = time.perf_counter() - started
        data = (root / out).read_bytes()
        import pyarrow.parquet as pq

        table = pq.read_table(root / out)
    loop = sum(v for k, v in sections.seconds.items() if not k.startswith("setup_"))
    outcomes = Counter(table.column("outcome").to_pylist())
    turns = sum(table.column("num_turns").to_pylist())
    return {
        "dialogues": table.num_rows,
        "turns": turns,
        "outcomes": dict(sorted(outcomes.items())),
        "output_sha256": hashlib.sha256(data).hexdigest(),
        "stage_seconds": round(stage_seconds, 2),
        "loop_seconds": round(loop, 2),
        "setup_seconds": {k.removeprefix("setup_"): round(v, 2) for k, v in sections.seconds.items()
                          if k.startswith("setup_")},
        "sections_seconds": {k: round(v, 3) for k, v in sorted(sections.seconds.items())},
        "section_calls": dict(sorted(sections.calls.items())),
        "tokens": dict(sorted(sections.tokens.items())),
        "precision": params.simulation.precision,
        "model_ids": sorted(set(table.column("user_model").to_pylist())),
        "batch_size": params.simulation.batch_size,
        "shard_size": params.simulation.shard_size,
        "torch_threads": torch.get_num_threads(),
    }


# ----------------------------------------------------------------------------- parent


def matmul_limit(batch: int, parameters: int, repeats: int = 400) -> dict[str, Any]:
    """GFLOP/s of a (batch x 576) @ (576 x 1536) matmul in fp32 and bf16, and the decode rate
    (tokens/s) it allows at 2 x parameters FLOP a token."""
    import torch

    result: dict[str, Any] = {"shape": f"{batch}x576 @ 576x1536", "parameters": parameters}
    for dtype in (torch.float32, torch.bfloat16):
        a, b = torch.randn(batch, 576, dtype=dtype), torch.randn(576, 1536, dtype=dtype)
        for _ in range(20):
            a @ b
        best = float("inf")
        for _ in range(5):  # best of five: the cores are shared, the limit is what they can do
            started = time.perf_counter()
            for _ in range(repeats):
                a @ b
            best = min(best, time.perf_counter() - started)
        gflops = 2 * batch * 576 * 1536 * repeats / best / 1e9
        name = str(dtype).removeprefix("torch.")
        result[name] = {"gflops": round(gflops, 1), "tokens_per_s_limit": round(gflops * 1e9 / (2 * parameters), 1)}
    return result


def parameter_count(base: Path) -> int:
    from safetensors import safe_open

    total = 0
    for path in sorted(base.glob("*.safetensors")):
        with safe_open(str(path), "pt") as f:
            for key in f.keys():
                shape = f.get_slice(key).get_shape()
                count = 1
                for size in shape:
                    count *= size
                total += count
    return total


def summarize(raw: dict[str, Any], limit: dict[str, Any]) -> dict[str, Any]:
    """Rates, the breakdown of the loop's time, and decode throughput against the matmul limit."""
    seconds = raw["sections_seconds"]
    loop = raw["loop_seconds"]
    breakdown = {name: round(sum(seconds.get(p, 0.0) for p in parts), 2) for name, parts in SUMMARY.items()}
    breakdown["everything_else"] = round(loop - sum(breakdown.values()), 2)
    tokens = raw["tokens"]
    decode_columns = tokens.get("decode_forward_columns", 0)
    decode_seconds = seconds.get("decode_forward", 0.0) + breakdown["logits_processing_and_sampling"]
    precision = "bfloat16" if "bfloat16" in " ".join(raw["model_ids"]) else "float32"
    limit_rate = limit[precision]["tokens_per_s_limit"]
    generated = tokens.get("generated_tokens", 0)
    decode_rate = generated / decode_seconds if decode_seconds else 0.0
    return {
        "dialogues": raw["dialogues"],
        "dialogues_per_hour": round(raw["dialogues"] / loop * 3600, 1),
        "dialogues_per_hour_with_setup": round(raw["dialogues"] / raw["stage_seconds"] * 3600, 1),
        "loop_seconds": loop,
        "stage_seconds": raw["stage_seconds"],
        "setup_seconds": raw["setup_seconds"],
        "precision": precision,
        "tokens_generated": generated,
        "decode_columns_with_finished_rows": decode_columns,
        "retries": tokens.get("retries", 0),
        "tokens_encoded_prefill": tokens.get("prefill_tokens", 0),
        "prefill_columns_with_padding": tokens.get("prefill_columns", 0),
        "time_breakdown_seconds": breakdown,
        "time_breakdown_share": {k: round(v / loop, 3) for k, v in breakdown.items()},
        "decode": {
            "tokens_per_s": round(decode_rate, 1),
            "definition": "tokens generated (up to each reply's end of turn) per second of decode forward "
                          "+ logits processing and sampling",
            "forward_only_columns_per_s": round(decode_columns / seconds["decode_forward"], 1)
            if seconds.get("decode_forward") else None,
            "matmul_limit_tokens_per_s": limit_rate,
            "share_of_matmul_limit": round(decode_rate / limit_rate, 3),
        },
        "raw": raw,
    }


def run_child(code_root: Path, args: argparse.Namespace, pool: tuple[int, int] | None = None,
              step: int | None = None) -> dict[str, Any]:
    """The benchmark in a fresh process on the code at ``code_root`` (with ``pool``: that many
    profiles per shard and rows per batch; with ``step``: that context step)."""
    env = {**os.environ, **OFFLINE_ENV, "PYTHONPATH": str(code_root), "OMP_NUM_THREADS": str(args.threads)}
    env["PREFECT_HOME"] = str(Path(tempfile.gettempdir()) / "bench-simulate-stage-prefect")
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        command = [sys.executable, str(Path(__file__).resolve()), "--child", "--code-root", str(code_root),
                   "--result", result.name, "--profiles", str(args.profiles), "--threads", str(args.threads),
                   "--base", str(args.base), "--user", str(args.user), "--recommender", str(args.recommender),
                   "--processed", str(args.processed)]
        if pool:
            command += ["--shard-size", str(pool[0]), "--batch-size", str(pool[1])]
        if step:
            command += ["--step", str(step)]
        subprocess.run(command, env=env, check=True, cwd=code_root)
        return json.loads(Path(result.name).read_text())


@contextlib.contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """A temporary git worktree of ``commit`` (removed afterwards)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-stage-")) / "code"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), commit],
                   check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)], check=False)


def goals(this: dict[str, Any], before: dict[str, Any] | None, commit: str | None) -> dict[str, Any]:
    speedup = this["dialogues_per_hour"] / before["dialogues_per_hour"] if before else None
    share = this["decode"]["share_of_matmul_limit"]
    return {
        "dialogues_per_hour_vs_compare_commit": {
            "goal": f">= {SPEEDUP_GOAL}x the code of {commit}" if commit else f">= {SPEEDUP_GOAL}x",
            "speedup": round(speedup, 2) if speedup else None,
            "status": "not measured" if speedup is None else ("met" if speedup >= SPEEDUP_GOAL else "not met"),
        },
        "decode_share_of_matmul_limit": {
            "goal": f">= {DECODE_SHARE_GOAL}", "share": share,
            "status": "met" if share >= DECODE_SHARE_GOAL else "not met",
        },
    }


def git_head(path: Path) -> str:
    out = subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + ("+changes" if dirty else "")


def _pool(text: str) -> tuple[int, int]:
    shard, _, batch = text.partition(":")
    if not (shard.isdigit() and batch.isdigit()) or not int(shard) or not int(batch):
        raise argparse.ArgumentTypeError(f"--pool {text!r}: expected SHARD:BATCH, two positive integers")
    return int(shard), int(batch)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=16, help="held-out profiles simulated (64: the goal's)")
    parser.add_argument("--base", type=Path, default=FINAL / "models" / "base")
    parser.add_argument("--user", type=Path, default=FINAL / "models" / "user")
    parser.add_argument("--recommender", type=Path, default=FINAL / "models" / "recommender")
    parser.add_argument("--processed", type=Path, default=FINAL / "data" / "processed")
    parser.add_argument("--compare-commit", help="also measure this commit's code (a temporary git worktree)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the stage uses every core)")
    parser.add_argument("--out", type=Path, help="default: reports/bench_simulate_stage.json "
                        "(with --pool: reports/bench_simulate_pool.json)")
    parser.add_argument("--note", default="rates compare within this file (measured side by side), not with other "
                        "machines or runs", help="how the machine was shared during the run, for the JSON")
    parser.add_argument("--pool", action="append", type=_pool, metavar="SHARD:BATCH",
                        help="measure this code with this pool (profiles per shard : rows per batch); repeatable")
    parser.add_argument("--context-step", action="append", type=int, metavar="MESSAGES",
                        help="measure this code with this engine.CONTEXT_STEP; repeatable")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--step", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--shard-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--code-root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse()
    if args.child:
        sys.path.insert(0, str(args.code_root))
        args.result.write_text(json.dumps(child(args)))
        return
    sys.path.insert(0, str(ROOT))
    import torch

    from interplay.config.params import load_params
    from interplay.models.precision import cpu_description

    torch.set_num_threads(args.threads)
    parameters = parameter_count(args.base)
    if args.pool:
        write(pools(args, cpu_description(), parameters), args.out or ROOT / "reports" / "bench_simulate_pool.json")
        return
    if args.context_step:
        write(steps(args, cpu_description(), parameters), args.out or ROOT / "reports" / "bench_context_step.json")
        return
    limit = matmul_limit(load_params(ROOT / "params.yaml").simulation.batch_size, parameters)
    report: dict[str, Any] = {
        "command": command_line(),
        "cpu_description": cpu_description(),
        "torch_threads": args.threads,
        "profiles": args.profiles,
        "models": {"base": str(args.base), "user": str(args.user), "recommender": str(args.recommender),
                   "processed": str(args.processed)},
        "note": args.note,
        "matmul_limit": limit,
    }
    before = None
    if args.compare_commit:
        with worktree(args.compare_commit) as code:
            before = summarize(run_child(code, args), limit)
            before["commit"] = args.compare_commit
        report["compare_commit"] = before
    this = summarize(run_child(ROOT, args), limit)
    this["commit"] = git_head(ROOT)
    report["this_code"] = this
    if before:
        report["same_output_bytes"] = before["raw"]["output_sha256"] == this["raw"]["output_sha256"]
    report["goals"] = goals(this, before, args.compare_commit)
    write(report, args.out or ROOT / "reports" / "bench_simulate_stage.json")
    print(table(report))


def command_line() -> str:
    return " ".join(["python", "benchmarks/bench_simulate_stage.py", *sys.argv[1:]])


def write(report: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")


def pools(args: argparse.Namespace, cpu: dict[str, Any], parameters: int) -> dict[str, Any]:
    """This code once per ``--pool``, one after another on one machine, into one report."""
    runs = []
    for shard, batch in args.pool:
        summary = summarize(run_child(ROOT, args, (shard, batch)), matmul_limit(batch, parameters))
        runs.append({"shard_size": shard, "batch_size": batch,
                     **{k: summary[k] for k in ("dialogues", "dialogues_per_hour", "loop_seconds", "tokens_generated",
                                                "tokens_encoded_prefill", "time_breakdown_seconds", "decode")},
                     "output_sha256": summary["raw"]["output_sha256"]})
    report = _variants(args, cpu, runs)
    for run in runs:
        print(f"shard {run['shard_size']:>4} batch {run['batch_size']:>3}: {run['dialogues_per_hour']:>8} dialogues/h "
              f"({run['dialogues_per_hour_over_first']}x), decode {run['decode']['tokens_per_s']} tok/s")
    return report


def _variants(args: argparse.Namespace, cpu: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The report of runs of this code measured one after another: each run's rate over the first's."""
    for run in runs:
        run["dialogues_per_hour_over_first"] = round(run["dialogues_per_hour"] / runs[0]["dialogues_per_hour"], 2)
    return {"command": command_line(), "commit": git_head(ROOT), "cpu_description": cpu, "torch_threads": args.threads,
            "profiles": args.profiles, "note": args.note, "runs": runs}


def steps(args: argparse.Namespace, cpu: dict[str, Any], parameters: int) -> dict[str, Any]:
    """This code once per ``--context-step``, one after another on one machine, into one report."""
    from interplay.config.params import load_params

    limit = matmul_limit(load_params(ROOT / "params.yaml").simulation.batch_size, parameters)
    runs = []
    for step in args.context_step:
        summary = summarize(run_child(ROOT, args, step=step), limit)
        tokens = summary["raw"]["tokens"]
        runs.append({"context_step": step,
                     **{k: summary[k] for k in ("dialogues", "dialogues_per_hour", "loop_seconds",
                                                "tokens_encoded_prefill", "time_breakdown_seconds")},
                     "messages": summary["raw"]["turns"],
                     "prompts": tokens.get("prompts", 0),
                     "mean_prompt_tokens": round(tokens.get("prompt_tokens", 0) / max(tokens.get("prompts", 0), 1), 1),
                     "cut_moves": tokens.get("cut_moves", 0),
                     "tokens_encoded_after_a_cut_moved": tokens.get("tokens_encoded_after_a_cut_moved", 0),
                     "outcomes": summary["raw"]["outcomes"],
                     "output_sha256": summary["raw"]["output_sha256"]})
    report = _variants(args, cpu, runs)
    for run in runs:
        run["re_encoded_share_of_prefill"] = round(
            run["tokens_encoded_after_a_cut_moved"] / max(run["tokens_encoded_prefill"], 1), 3)
        print(f"context step {run['context_step']}: {run['dialogues_per_hour']} dialogues/h "
              f"({run['dialogues_per_hour_over_first']}x), prefill {run['tokens_encoded_prefill']} tokens, "
              f"{run['re_encoded_share_of_prefill']} of them after a cut moved, "
              f"{run['mean_prompt_tokens']} tokens a prompt")
    return report


def table(report: dict[str, Any]) -> str:
    """The side-by-side table and the goals, for the terminal."""
    columns = [("this code " + report["this_code"]["commit"], report["this_code"])]
    if "compare_commit" in report:
        columns.insert(0, (report["compare_commit"]["commit"], report["compare_commit"]))
    rows = [("dialogues", "dialogues"), ("dialogues/hour (loop)", "dialogues_per_hour"),
            ("dialogues/hour (with setup)", "dialogues_per_hour_with_setup"), ("loop s", "loop_seconds"),
            ("tokens generated", "tokens_generated"), ("tokens encoded (prefill)", "tokens_encoded_prefill")]
    lines = [f"{'':34}" + "".join(f"{name:>26}" for name, _ in columns)]
    lines += [f"{label:34}" + "".join(f"{col[key]!s:>26}" for _, col in columns) for label, key in rows]
    lines += [f"  {name + ' s':32}" + "".join(f"{col['time_breakdown_seconds'][name]!s:>26}" for _, col in columns)
              for name in [*SUMMARY, "everything_else"]]
    lines += [f"{'decode tok/s (share of limit)':34}" + "".join(
        f"{col['decode']['tokens_per_s']!s:>18} ({col['decode']['share_of_matmul_limit']})" for _, col in columns)]
    limit = report["matmul_limit"]
    lines.append(f"matmul {limit['shape']}: fp32 {limit['float32']['gflops']} GFLOP/s, "
                 f"bf16 {limit['bfloat16']['gflops']} GFLOP/s")
    for name, goal in report["goals"].items():
        lines.append(f"goal {name}: {goal['goal']}: {goal['status']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
