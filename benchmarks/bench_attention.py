"""The attention kernels of generation at the engine's shapes: transformers' "sdpa" as it runs with
a padding mask against :func:`interplay.simulation.attention.grouped_attention`.

SmolLM2-135M's shape (9 query heads, 3 key/value heads, 64 wide), bf16 (what ``precision: auto``
runs where the CPU has native bf16 matmuls) or ``--dtype float32``, one layer, left-padded rows:

* prompts (several new tokens over cached ones): "sdpa" repeats the key/value heads
  (``repeat_kv``) before torch's kernel; the grouped kernel passes ``enable_gqa``;
* decoding (one new token): "sdpa" packs the query heads per key/value head (``pack_gqa``) into
  torch's flash kernel; the grouped kernel runs two batched matmuls over the grouped heads.

Best of ``--repeats`` timings per case, and the largest difference of the two outputs. A
layer's attention is one of the model's 30 a forward; what it buys the stage is measured by
``benchmarks/bench_simulate_stage.py --compare-commit``.

With ``--run DIR`` (a finished run: ``models/``, ``data/processed/``) it also measures what the
decoding arithmetic does to the model: real test dialogues fed one token at a time (the path
generation takes, states in the engine's cache) through the recommender (base + its adapter, merged
as the stage merges it) in float32 with "sdpa", and in bf16 with each kernel. Per kernel: the mean
KL divergence of its next-token distribution from float32's, the share of tokens where both rank
the same token first, and the negative log-likelihood of the real next tokens.

Results go to ``reports/bench_attention.json``.
Run: ``.venv/bin/python benchmarks/bench_attention.py --run /work/final``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from provenance import current_commit  # noqa: E402
from transformers.integrations.sdpa_attention import sdpa_attention_forward  # noqa: E402

from interplay.models.precision import cpu_description  # noqa: E402
from interplay.simulation.attention import grouped_attention  # noqa: E402

OUT = ROOT / "reports" / "bench_attention.json"
HEADS, KV_HEADS, DIM = 9, 3, 64
#: (rows, new tokens, columns attended): prompts of a turn and of a first turn, decoding at the
#: engine's batch (32), a thinned batch, and the baselines' shared batch (64).
CASES = [(32, 60, 700), (32, 200, 400), (32, 1, 700), (16, 1, 500), (64, 1, 600)]


def best_of(fn: Callable[[], object], repeats: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def case(rows: int, new: int, columns: int, dtype: torch.dtype, repeats: int) -> dict[str, object]:
    generator = torch.Generator().manual_seed(0)
    query = torch.randn(rows, HEADS, new, DIM, generator=generator).to(dtype)
    key = torch.randn(rows, KV_HEADS, columns, DIM, generator=generator).to(dtype)
    value = torch.randn(rows, KV_HEADS, columns, DIM, generator=generator).to(dtype)
    mask = torch.ones(rows, 1, new, columns, dtype=torch.bool)
    mask[:, :, :, : columns // 10] = False  # left padding
    mask[..., columns - new :] &= torch.ones(new, new, dtype=torch.bool).tril()  # causal over the new
    module = SimpleNamespace(num_key_value_groups=HEADS // KV_HEADS, is_causal=True)
    sdpa = lambda: sdpa_attention_forward(module, query, key, value, mask, scaling=DIM**-0.5)[0]  # noqa: E731
    grouped = lambda: grouped_attention(module, query, key, value, mask, scaling=DIM**-0.5)[0]  # noqa: E731
    sdpa_s, grouped_s = best_of(sdpa, repeats), best_of(grouped, repeats)
    return {
        "rows": rows, "new_tokens": new, "columns": columns,
        "sdpa_ms": round(sdpa_s * 1e3, 3), "grouped_ms": round(grouped_s * 1e3, 3),
        "speedup": round(sdpa_s / grouped_s, 2),
        "max_abs_difference": float((sdpa().float() - grouped().float()).abs().max()),
    }


def decode_accuracy(run: Path, dialogues: int, tokens: int) -> dict[str, object]:
    """Kernels against float32 on real test dialogues, decoded one token at a time."""
    import pandas as pd

    from interplay.simulation.attention import use_grouped_attention
    from interplay.simulation.prefix_cache import PreallocatedCache
    from interplay.simulation.runtime import merged
    from interplay.training.finetune import load_base

    model, tokenizer = load_base(run / "models" / "base")
    model = merged(model, run / "models" / "recommender" / "adapter").eval()
    frame = pd.read_parquet(run / "data" / "processed" / "dialogues.parquet")
    rows = []
    for messages in frame[frame["split"] == "test"]["messages"].head(dialogues):
        chat = [{"role": "assistant" if m["role"] == "recommender" else "user", "content": m["content"]} for m in messages]
        ids = tokenizer(tokenizer.apply_chat_template(chat, tokenize=False), add_special_tokens=False)["input_ids"]
        rows.append((ids * (tokens // max(len(ids), 1) + 1))[:tokens])  # short dialogues repeated to length
    ids = torch.tensor(rows)

    def log_probs(dtype: torch.dtype, kernel: str) -> torch.Tensor:
        model.to(dtype)
        if kernel == "sdpa":
            model.set_attn_implementation("sdpa")
        else:
            use_grouped_attention(model)
        cache, mask, steps = PreallocatedCache(tokens), ids.new_zeros((len(rows), 0)), []
        with torch.no_grad():
            for t in range(tokens - 1):
                mask = torch.cat([mask, mask.new_ones((len(rows), 1))], dim=1)
                logits = model(input_ids=ids[:, t : t + 1], attention_mask=mask, position_ids=torch.full((len(rows), 1), t),
                               cache=cache, use_cache=True).logits[:, -1]
                steps.append(torch.log_softmax(logits.float(), dim=-1))
        return torch.stack(steps, dim=1)

    targets = ids[:, 1:, None]
    reference = log_probs(torch.float32, "sdpa")
    result: dict[str, object] = {
        "dialogues": len(rows), "tokens_each": tokens, "tokens_scored": int(targets.numel()),
        "model": "base + recommender adapter (merged)",
        "float32_sdpa_nll": round(float(-reference.gather(-1, targets).mean()), 4),
    }
    for kernel in ("sdpa", "grouped"):
        scored = log_probs(torch.bfloat16, kernel)
        result[f"bfloat16_{kernel}"] = {
            "kl_from_float32": round(float((reference.exp() * (reference - scored)).sum(-1).mean()), 5),
            "same_top_token_share": round(float((scored.argmax(-1) == reference.argmax(-1)).float().mean()), 4),
            "nll": round(float(-scored.gather(-1, targets).mean()), 4),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dtype", choices=["bfloat16", "float32"], default="bfloat16")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--run", type=Path, help="a finished run's root: also measure decoding accuracy on real dialogues")
    parser.add_argument("--dialogues", type=int, default=16, help="test dialogues scored (--run)")
    parser.add_argument("--tokens", type=int, default=320, help="tokens of each, decoded one at a time (--run)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    results = [case(*shape, dtype, args.repeats) for shape in CASES]
    report = {
        "command": "python benchmarks/bench_attention.py " + " ".join(sys.argv[1:]),
        "commit": current_commit(ROOT),
        "cpu_description": cpu_description(),
        "dtype": args.dtype, "threads": args.threads, "repeats": args.repeats,
        "heads": HEADS, "key_value_heads": KV_HEADS, "head_dim": DIM,
        "cases": results,
    }
    if args.run is not None:
        report["decode_accuracy"] = decode_accuracy(args.run.resolve(), args.dialogues, args.tokens)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for row in results:
        print(f"rows {row['rows']:>3} new {row['new_tokens']:>4} columns {row['columns']:>4}: sdpa {row['sdpa_ms']:8.3f} ms, "
              f"grouped {row['grouped_ms']:8.3f} ms ({row['speedup']}x), max |diff| {row['max_abs_difference']:.2e}")
    if "decode_accuracy" in report:
        print(json.dumps(report["decode_accuracy"], indent=2))


if __name__ == "__main__":
    main()
