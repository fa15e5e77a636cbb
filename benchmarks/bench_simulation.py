"""Simulation throughput and memory: the lock-step engine against two references.

On the default model (SmolLM2-135M-Instruct, no adapters: adapters do not change the cost much),
generated tokens per second of
  (a) the lock-step engine at batch 32,
  (b) the same engine one conversation at a time,
  (c) plain ``model.generate`` at batch 32 on the same prompts: every batch (a) generated, replayed
      from its full prompt with the engine's sampling settings and stops (what the engine would
      cost without keeping prompt states between turns and without its turn logic);
  (c') plain ``model.generate`` at batch 32 on first-turn prompts, every row running to
      ``max_new_tokens``, as many tokens as (a): an upper bound no multi-turn engine reaches
      (short prompts, no stops, no padding).
Goals: (a) >= 5 x (b) and (a) >= 0.8 x (c); (a) / (c') is reported too. Then (a) again with the
weights in bf16 (what ``simulation.precision: auto`` runs on a CPU with bf16 matmuls): its rate
against fp32's (goal >= 1.8), and each engine's FLOP rate (about 2 x parameters a token) as a share
of the matmul rate this machine reaches in that precision. Then peak RSS of
simulating 100 and 400 dialogues with a tiny model (each in a fresh process): memory must not
grow with the number of dialogues (goal: 400 dialogues peak within 10% of 100's, the noise of a
peak RSS read between processes).
Results go to reports/bench_simulation.json with each goal's verdict (:data:`GOALS`), which it
prints. Run: ``.venv/bin/python benchmarks/bench_simulation.py``; ``--check-goals`` adds the
verdicts to the committed JSON without measuring again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from goals import Goal, check, lines, recheck  # noqa: E402
from provenance import current_commit  # noqa: E402

from interplay.config.env import apply_offline_defaults  # noqa: E402

apply_offline_defaults(ROOT)

import torch  # noqa: E402

from interplay.config.params import PACKAGED_BASE_MODEL, SamplingParams  # noqa: E402
from interplay.models.precision import cpu_description  # noqa: E402
from interplay.preprocess.profiles import Profile  # noqa: E402
from interplay.simulation.conversation import Conversation  # noqa: E402
from interplay.simulation.engine import EngineSettings, RolePlayer, TurnGenerator, reply_length, run_conversations  # noqa: E402
from interplay.text.titles import TitleIndex  # noqa: E402

INDEX = TitleIndex.build([("1", "Zebra Quest", 1999)])
OUT = ROOT / "reports" / "bench_simulation.json"
GOALS = (
    Goal("a_over_b", ">=", 5.0, "the lock-step engine at batch 32 at least 5x one conversation at a time"),
    Goal("a_over_c", ">=", 0.8, "at least 0.8x plain model.generate at batch 32 on the same prompts"),
    Goal("bf16.bf16_over_fp32_engine", ">=", 1.8, "bf16 weights at least 1.8x fp32 where the CPU has bf16 matmuls"),
    Goal("peak_rss_400_over_100", "<=", 1.1, "memory does not grow with the number of dialogues"),
)


def derived(report: dict) -> dict:
    """Figures the goals read that the measurements imply: peak RSS of 400 dialogues over 100's."""
    rss = report["peak_rss_mib_tiny"]
    return {"peak_rss_400_over_100": round(rss["400"] / rss["100"], 3)}


def profiles(n: int) -> list[Profile]:
    genres = ["comedy", "horror", "drama", "science fiction", "romance", "thriller", "animation", "crime"]
    return [
        Profile.from_row({
            "profile_id": f"b{i:04d}", "dialogue_id": f"d{i:04d}", "split": "test",
            "preference_summary": f"You love {genres[i % 8]} movies and funny dialogue; you did not enjoy slow films.",
            "target_attributes": {}, "target_attributes_text": f"A {genres[(i + 3) % 8]} movie from the {1970 + 10 * (i % 5)}s.",
            "target_item_ids": ["1"], "target_titles": ["Zebra Quest (1999)"],
            "opening_role": "recommender",
        })
        for i in range(n)
    ]


def base_model_dir() -> Path:
    local = ROOT / "models" / "base"
    if (local / "config.json").is_file():
        return local
    from interplay.models.base import materialize_base

    out = Path(tempfile.mkdtemp()) / "base"
    materialize_base(PACKAGED_BASE_MODEL, out)
    return out


@dataclass
class Recorder:
    """A generator that keeps every batch of chats it is asked for: the prompts (c) replays."""

    inner: TurnGenerator
    calls: list[list[list[dict]]] = field(default_factory=list)

    def generate(self, chats, sampling, adapter, **kwargs):  # noqa: ANN001, ANN201
        self.calls.append(list(chats))
        return self.inner.generate(chats, sampling, adapter, **kwargs)


def engine_rate(
    generator: TurnGenerator | Recorder, sampling: SamplingParams, count: int, batch: int, turns: int
) -> dict:
    players = {role: RolePlayer(generator, None, sampling) for role in ("user", "recommender")}  # type: ignore[arg-type]
    settings = EngineSettings(batch_size=batch, max_turns=turns, end_marker="[END]")
    conversations = [Conversation(profile=p, opening_role="recommender") for p in profiles(count)]
    _, stats = run_conversations(conversations, players, settings, INDEX, seed=0)
    return {"dialogues": count, "batch": batch, "tokens": stats.generated_tokens, "seconds": round(stats.seconds, 2),
            "tokens_per_s": round(stats.generated_tokens / stats.seconds, 2)}


@torch.no_grad()
def plain_same_prompts(generator: TurnGenerator, sampling: SamplingParams, calls: list[list[list[dict]]]) -> dict:
    """(c): each batch the engine generated, as plain left-padded ``model.generate`` from the full
    prompt (no states kept between turns), with the engine's settings and stops; tokens counted
    the same way (up to each row's end of turn)."""
    options = generator.generation_options(sampling, 0)  # its width is set per batch below
    stop, pad = set(options["eos_token_id"]), generator.tokenizer.pad_token_id
    device = next(generator.model.parameters()).device
    torch.manual_seed(0)
    produced, started = 0, time.perf_counter()
    for chats in calls:
        prompts = [generator.prompt_ids(chat, sampling.max_new_tokens) for chat in chats]
        width = max(len(ids) for ids in prompts)
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in prompts], device=device)
        mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in prompts], device=device)
        options["logits_processor"][0].prompt_width = width
        out = generator.model.generate(input_ids=input_ids, attention_mask=mask, **options)
        for row in out[:, width:].tolist():
            produced += reply_length(row, stop)
    seconds = time.perf_counter() - started
    return {"batches": len(calls), "tokens": produced, "seconds": round(seconds, 2), "tokens_per_s": round(produced / seconds, 2)}


@torch.no_grad()
def plain_rate(generator: TurnGenerator, sampling: SamplingParams, batch: int, tokens_goal: int) -> dict:
    """(c'): an upper bound, first-turn prompts only, every row running to ``max_new_tokens``."""
    from interplay.simulation.conversation import recommender_view

    ids = generator.prompt_ids(recommender_view([]), sampling.max_new_tokens)
    device = next(generator.model.parameters()).device
    encoded = {"input_ids": torch.tensor([ids] * batch, device=device),
               "attention_mask": torch.ones(batch, len(ids), dtype=torch.long, device=device)}
    produced, started = 0, time.perf_counter()
    while produced < tokens_goal:
        out = generator.model.generate(  # the engine's sampling settings, without its stops
            **encoded, max_new_tokens=sampling.max_new_tokens, min_new_tokens=sampling.max_new_tokens,
            do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k,
            logits_processor=generator.generation_options(sampling, len(ids))["logits_processor"],
            pad_token_id=generator.tokenizer.pad_token_id,
        )
        produced += (out.shape[1] - encoded["input_ids"].shape[1]) * batch
    seconds = time.perf_counter() - started
    return {"batch": batch, "tokens": produced, "seconds": round(seconds, 2), "tokens_per_s": round(produced / seconds, 2)}


def rates(lockstep: dict, single: dict, plain: dict, bound: dict) -> dict:
    """The four measurements and the ratios the goals are stated in."""
    return {
        "a_lockstep_batch32": lockstep,
        "b_one_at_a_time": single,
        "c_plain_generate_same_prompts_batch32": plain,
        "c_prime_plain_generate_first_turn_prompts_no_stops": bound,
        "a_over_b": round(lockstep["tokens_per_s"] / single["tokens_per_s"], 2),
        "a_over_c": round(lockstep["tokens_per_s"] / plain["tokens_per_s"], 2),
        "a_over_c_prime": round(lockstep["tokens_per_s"] / bound["tokens_per_s"], 2),
    }


_RSS_CHILD = """
import sys
sys.path.insert(0, {root!r}); sys.path.insert(0, {root!r} + '/tests')
from pathlib import Path
from tiny_lm import save_tiny
from interplay.training.finetune import load_base
from interplay.config.params import SamplingParams
from interplay.simulation.engine import EngineSettings, RolePlayer, TurnGenerator
from interplay.simulation.run import ShardJob, in_process, simulate_to_file
sys.path.insert(0, {root!r} + '/benchmarks')
from bench_simulation import profiles, INDEX
model, tok = load_base(save_tiny(Path({tmp!r}) / 'tiny'))
gen = TurnGenerator(model.eval(), tok, 256)
s = SamplingParams(max_new_tokens=8)
players = {{r: RolePlayer(gen, None, s) for r in ('user', 'recommender')}}
job = ShardJob('interplay', 0, None, EngineSettings(batch_size=16, max_turns=6, end_marker='[END]'), {{}}, {{'user': 'u', 'recommender': 'r'}}, 'h', 32)
simulate_to_file(job, profiles({n}), in_process(job, players, INDEX), Path({tmp!r}) / 'work', Path({tmp!r}) / 'out.parquet')
print(next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:')))
"""


def peak_rss_mib(n: int) -> float:
    """The child's own peak (VmHWM, reset at exec): ``ru_maxrss`` would carry over the peak of the
    process that forked it, here the benchmark itself with the default model loaded."""
    with tempfile.TemporaryDirectory() as tmp:
        code = _RSS_CHILD.format(root=str(ROOT), tmp=tmp, n=n)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return round(int(out.stdout.strip().splitlines()[-1]) / 1024, 1)


def matmul_gflops(dtype: torch.dtype, repeats: int = 100) -> float:
    """The machine's matmul rate at a shape of the model (512 x 576 @ 576 x 1536), in GFLOP/s."""
    a, b = torch.randn(512, 576, dtype=dtype), torch.randn(576, 1536, dtype=dtype)
    for _ in range(5):
        a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * 512 * 576 * 1536 * repeats / (time.perf_counter() - started) / 1e9


def share_of_matmul_rate(tokens_per_s: float, parameters: int, gflops: float) -> float:
    """Decoding costs about 2 x parameters FLOPs a token: the engine's rate as a share of the
    matmul rate the machine reaches."""
    return round(tokens_per_s * 2 * parameters / (gflops * 1e9), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=int, default=64, help="dialogues for (a)")
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=40, help="max new tokens per turn (the default simulation's)")
    parser.add_argument("--check-goals", action="store_true", help="add the goals' verdicts to the committed JSON")
    args = parser.parse_args()
    if args.check_goals:
        print("\n".join(lines(recheck(OUT, GOALS, derived)["goals"])))
        return
    from interplay.training.finetune import load_base

    model, tokenizer = load_base(base_model_dir())
    generator = TurnGenerator(model.eval(), tokenizer, max_context_tokens=768)
    sampling = SamplingParams(max_new_tokens=args.new_tokens)
    recorder = Recorder(generator)
    lockstep = engine_rate(recorder, sampling, args.dialogues, 32, args.turns)
    single = engine_rate(generator, sampling, 2, 1, args.turns)
    plain = plain_same_prompts(generator, sampling, recorder.calls)
    bound = plain_rate(generator, sampling, 32, lockstep["tokens"])
    parameters = sum(p.numel() for p in model.parameters())
    fp32_gflops = matmul_gflops(torch.float32)
    generator.model = model.to(torch.bfloat16)  # what simulation.precision "auto" runs where the CPU has bf16
    lockstep_bf16 = engine_rate(generator, sampling, args.dialogues, 32, args.turns)
    bf16_gflops = matmul_gflops(torch.bfloat16)
    report = {
        "commit": current_commit(ROOT),
        "model": PACKAGED_BASE_MODEL,
        "cpu": cpu_description(),
        "torch_threads": torch.get_num_threads(),
        **rates(lockstep, single, plain, bound),
        "bf16": {
            "a_lockstep_batch32": lockstep_bf16,
            "bf16_over_fp32_engine": round(lockstep_bf16["tokens_per_s"] / lockstep["tokens_per_s"], 2),
            "matmul_gflops": {"float32": round(fp32_gflops, 1), "bfloat16": round(bf16_gflops, 1)},
            "engine_share_of_matmul_rate": {
                "float32": share_of_matmul_rate(lockstep["tokens_per_s"], parameters, fp32_gflops),
                "bfloat16": share_of_matmul_rate(lockstep_bf16["tokens_per_s"], parameters, bf16_gflops),
            },
        },
        "peak_rss_mib_tiny": {"100": peak_rss_mib(100), "400": peak_rss_mib(400)},
    }
    report |= derived(report)
    report["goals"] = check(report, GOALS)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print("\n".join(lines(report["goals"])))


if __name__ == "__main__":
    main()
