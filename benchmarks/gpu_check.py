"""GPU check: the bf16 fine-tuning path and the simulation engine on CUDA, through the stages' code.

A device machine cannot receive the default model's weights (too large to carry) nor download
them, so this builds a randomly initialized model with the default model's architecture and
tokenizer (``models/base`` without its weights, or ``--skeleton``): the cost per token is the
same, the text is noise. It then runs what the stages run on a GPU:

1. ``finetune_role`` for both roles with the default parameters (bf16 is chosen on a GPU);
2. ``load_players`` (each role's adapter merged into its own copy of the base, placed on the GPU
   in bf16; at 48949a9, which made the committed figures, both adapters on one base) and the engine's
   throughput as in ``bench_simulation.py``: (a) lock-step at batch 32, (b) one conversation at a
   time, (c) plain ``model.generate`` at batch 32 with the same sampling settings.

Writes ``reports/gpu_check.json`` (and ``$OUT/gpu_check.json`` when ``OUT`` is set) with the commit
it ran at: no CPU machine can regenerate it, so it says which code made its figures.
Run on a GPU machine from the repository root: ``python benchmarks/gpu_check.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from interplay.config.env import apply_offline_defaults  # noqa: E402

apply_offline_defaults(ROOT)

import torch  # noqa: E402
from bench_simulation import INDEX, Recorder, plain_rate, plain_same_prompts, profiles, rates  # noqa: E402
from provenance import current_commit  # noqa: E402

from interplay.config.params import load_params  # noqa: E402
from interplay.pipeline.hashing import sha256_file  # noqa: E402
from interplay.simulation.conversation import Conversation  # noqa: E402
from interplay.simulation.engine import EngineSettings, RolePlayer, run_conversations  # noqa: E402

SKELETON_FILES = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


def random_base(skeleton: Path, out: Path, seed: int = 0) -> None:
    """The skeleton's architecture and tokenizer with random weights, as ``base_model`` lays it out."""
    from transformers import AutoConfig, AutoModelForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    for name in SKELETON_FILES:
        if (skeleton / name).is_file():
            shutil.copy(skeleton / name, out / name)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(out), dtype=torch.float32)
    model.save_pretrained(out, safe_serialization=True)
    weights = {p.name: sha256_file(p) for p in sorted(out.glob("*.safetensors"))}
    provenance = {"spec": "random-init", "architecture": type(model).__name__, "weights_sha256": weights,
                  "num_parameters": sum(p.numel() for p in model.parameters()), "dtype": "float32"}
    (out / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")


def engine(players: dict, count: int, batch: int, turns: int) -> dict:
    settings = EngineSettings(batch_size=batch, max_turns=turns, end_marker="[END]")
    conversations = [Conversation(profile=p, opening_role="recommender") for p in profiles(count)]
    torch.cuda.synchronize()
    _, stats = run_conversations(conversations, players, settings, INDEX, seed=0)
    torch.cuda.synchronize()
    return {"dialogues": count, "batch": batch, "tokens": stats.generated_tokens, "seconds": round(stats.seconds, 2),
            "tokens_per_s": round(stats.generated_tokens / stats.seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skeleton", type=Path, default=ROOT / ".gpu" / "base", help="config and tokenizer files")
    parser.add_argument("--dialogues", type=int, default=128)
    parser.add_argument("--turns", type=int, default=4)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device")
    from interplay.simulation.runtime import load_players
    from interplay.training.roles import finetune_role

    params = load_params(ROOT / "params.yaml")
    base = ROOT / "models" / "base"
    if base.exists():
        raise SystemExit(f"gpu_check writes a random model to {base} and adapters beside it: run it in a scratch copy")
    random_base(args.skeleton, base)
    report: dict = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "model": "random-init SmolLM2-135M architecture",
                    "commit": current_commit(ROOT), "command": "python benchmarks/gpu_check.py --skeleton DIR"}
    for role in ("user", "recommender"):
        started = time.perf_counter()
        metrics = finetune_role(params, ROOT, role)
        report[f"finetune_{role}"] = {
            key: metrics[key] for key in ("precision", "train_steps", "train_seconds", "validation_loss_before",
                                          "validation_loss_after", "supervised_tokens_per_second")
        } | {"stage_seconds": round(time.perf_counter() - started, 1)}
    players = load_players(params, ROOT, "interplay").players
    generator = players["user"].generator
    report["inference_dtype"] = str(next(generator.model.parameters()).dtype)
    sampling = params.simulation.user
    engine(players, 8, 8, 2)  # warm-up
    recorder = Recorder(generator)
    recorded = {role: RolePlayer(recorder, p.adapter, p.sampling) for role, p in players.items()}  # type: ignore[arg-type]
    lockstep = engine(recorded, args.dialogues, 32, args.turns)
    single = engine(players, 2, 1, args.turns)
    plain = plain_same_prompts(generator, sampling, recorder.calls)
    bound = plain_rate(generator, sampling, 32, lockstep["tokens"])
    report |= rates(lockstep, single, plain, bound) | {
        "peak_gpu_memory_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1),
    }
    text = json.dumps(report, indent=2) + "\n"
    print(text)
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "gpu_check.json").write_text(text)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_check.json").write_text(text)


if __name__ == "__main__":
    main()
