"""The ReDial recommendation benchmark of the catalog retriever (``interplay/grounding``).

Protocol (the standard one of KBRD, UniCRS, CRSLab): for every recommender message that mentions a
movie not mentioned before in its dialogue, rank the catalog from the conversation before that
message; each such movie is one sample, a hit at k when it is among the top k. The retriever is
fitted on the train split only; its weights are chosen by a grid on the validation split and
scored on the official test split.

    python benchmarks/bench_recommendation.py            # needs data/processed (dvc repro preprocess)

Writes ``reports/bench_recommendation.json`` and ``reports/recommendation.md``, the page written
from the JSON (``--render`` rewrites it from the committed JSON without measuring).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from provenance import current_commit  # noqa: E402

from interplay.config.params import RetrieverParams, load_params  # noqa: E402
from interplay.corpus.schema import Dialogue  # noqa: E402
from interplay.grounding.retriever import SIGNALS, CatalogRetriever, Said, combine, fit_retriever, said_of, top_rows  # noqa: E402
from interplay.preprocess.artifacts import read_catalog, read_dialogues  # noqa: E402

KS = (1, 10, 50)
#: Published figures of the same protocol on ReDial (full 10k train dialogues; ours sees the corpus's train split).
PUBLISHED = {"KBRD": {"1": 0.028, "10": 0.169, "50": 0.366}, "UniCRS": {"1": 0.050, "10": 0.215, "50": 0.413}}
GRID = {
    "attributes_weight": (0.0, 0.5, 1.0),
    "text_weight": (0.0, 0.25, 0.5),
    "content_weight": (0.25, 0.5, 1.0),
    "comention_weight": (0.0, 0.25, 0.5),
    "context_weight": (0.0, 0.1, 0.25),
    "popularity_weight": (0.15, 0.3, 0.6),
}


def samples(dialogues: list[Dialogue]) -> list[tuple[list[Said], list[str]]]:
    """(conversation before the message, movies it mentions first) per recommender message."""
    out = []
    for dialogue in dialogues:
        seen: set[str] = set()
        by_turn: dict[int, list] = {}
        for mention in dialogue.item_mentions:
            by_turn.setdefault(mention.turn, []).append(mention)
        for turn, message in enumerate(dialogue.messages):
            mentions = by_turn.get(turn, [])
            new = [m.item_id for m in mentions if m.item_id not in seen]
            if message.role == "recommender" and new:
                out.append((said_of(dialogue, turn), list(dict.fromkeys(new))))
            seen.update(m.item_id for m in mentions)
    return out


def recall(ranked: list[np.ndarray], targets: list[list[int]]) -> dict[str, float]:
    hits = {k: 0 for k in KS}
    total = 0
    for order, wanted in zip(ranked, targets):
        rank_of = {int(item): r for r, item in enumerate(order)}
        for item in wanted:
            total += 1
            r = rank_of.get(item)
            for k in KS:
                hits[k] += r is not None and r < k
    return {str(k): round(hits[k] / max(total, 1), 4) for k in KS}


def evaluate(retriever: CatalogRetriever, cached: list[dict], targets: list[list[int]], params: RetrieverParams) -> dict[str, float]:
    ranked = [top_rows(combine(sig, params), retriever.base_title, max(KS)) for sig in cached]
    return recall(ranked, targets)


def prepare(retriever: CatalogRetriever, split_samples) -> tuple[list[dict], list[list[int]]]:
    cached, targets = [], []
    for said, wanted in tqdm(split_samples, desc="signals", unit=" samples", disable=None, leave=False):
        cached.append(retriever.signals(said))
        targets.append([retriever.position[i] for i in wanted if i in retriever.position])
    return cached, targets


def render_markdown(result: dict) -> str:
    """reports/recommendation.md, every figure from the report (``--render`` rewrites it from the JSON)."""
    best = result["validation_best"]
    lines = [
        "# ReDial recommendation benchmark",
        "",
        f"Retriever fitted on {result['train_dialogues']} train dialogues; {result['samples']['test']} test samples "
        f"(each movie a recommender message mentions first). Fit {result['fit_s']:.1f} s, a ranking "
        f"{result['rank_ms']:.1f} ms. Command: `python benchmarks/bench_recommendation.py`; written from "
        "`reports/bench_recommendation.json`.",
        "",
        "| system | R@1 | R@10 | R@50 |",
        "| --- | --- | --- | --- |",
    ]
    for name, r in result["test"].items():
        lines.append(f"| {name} | {r['1']:.3f} | {r['10']:.3f} | {r['50']:.3f} |")
    for name, r in result["published"].items():
        lines.append(f"| {name} (published, 10k train dialogues) | {r['1']:.3f} | {r['10']:.3f} | {r['50']:.3f} |")
    lines += ["", f"Validation-best weights: `{json.dumps(best['weights'])}` (validation R@10 {best['recall']['10']:.3f})."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processed", type=Path, default=ROOT / "data/processed")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("--render", action="store_true", help="rewrite recommendation.md from the committed JSON")
    args = parser.parse_args()
    if args.render:
        result = json.loads((args.out / "bench_recommendation.json").read_text(encoding="utf-8"))
        (args.out / "recommendation.md").write_text(render_markdown(result), encoding="utf-8")
        return
    params = load_params(ROOT / "params.yaml").retriever
    catalog = read_catalog(args.processed / "catalog.parquet")
    dialogues = read_dialogues(args.processed / "dialogues.parquet")
    train = [d for d in dialogues if d.split == "train"]
    by_split = {s: samples([d for d in dialogues if d.split == s]) for s in ("validation", "test")}

    started = time.perf_counter()
    retriever = fit_retriever(catalog, train, params)
    fit_s = time.perf_counter() - started
    said, _ = by_split["test"][len(by_split["test"]) // 2]
    started = time.perf_counter()
    for _ in range(50):
        retriever.rank(said, 5)
    rank_ms = (time.perf_counter() - started) / 50 * 1000

    validation = prepare(retriever, by_split["validation"])
    grid = []
    for values in itertools.product(*GRID.values()):
        candidate = params.model_copy(update=dict(zip(GRID, values)))
        grid.append((evaluate(retriever, *validation, candidate), dict(zip(GRID, values))))
    grid.sort(key=lambda g: (-g[0]["10"], -g[0]["50"], -g[0]["1"], json.dumps(g[1], sort_keys=True)))
    best = params.model_copy(update=grid[0][1])

    test = prepare(retriever, by_split["test"])
    zero = {f"{name}_weight": 0.0 for name in SIGNALS}
    rows = {
        f"{name} alone": evaluate(retriever, *test, params.model_copy(update=zero | {f"{name}_weight": 1.0}))
        for name in SIGNALS
    }
    rows |= {
        "params.yaml weights": evaluate(retriever, *test, params),
        "validation-best weights": evaluate(retriever, *test, best),
    }
    result = {
        "commit": current_commit(ROOT),
        "protocol": "ReDial test split: each movie a recommender message mentions first is one sample",
        "train_dialogues": len(train),
        "samples": {s: sum(len(t) for _, t in v) for s, v in by_split.items()},
        "fit_s": round(fit_s, 2),
        "rank_ms": round(rank_ms, 2),
        "params": params.model_dump(),
        "validation_best": {"weights": grid[0][1], "recall": grid[0][0]},
        "validation_top5": [{"weights": w, "recall": r} for r, w in grid[:5]],
        "test": rows,
        "published": PUBLISHED,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_recommendation.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    page = render_markdown(result)
    (args.out / "recommendation.md").write_text(page, encoding="utf-8")
    print(page, end="")


if __name__ == "__main__":
    main()
