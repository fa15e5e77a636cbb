"""Train on generated, test on real (issue 27, item 2).

With the models and processed data of a finished run (``--root``, default /work/final):

1. **Generate** dialogues from train-split profiles only with the project's own stage code
   (``interplay.simulation.stage.simulate_pairs``, ``simulation.profile_splits: [train]``):
   Interplay (the fine-tuned pair) and reference-dependent (the trained script writer). They are
   kept in a workspace under ``--work`` (links to the run's models and data), in the stage's own
   shards named by their parameters, so a killed run resumes and a rerun reuses them.
2. **Train** each role (user, recommender) from the base model with the project's recipe
   (``interplay.training.finetune.train_adapter``, the role's ``finetune`` settings, ``--steps``
   steps for every source: an equal budget) on N dialogues of each source
   (:func:`interplay.evaluation.downstream.equal_size_sets`): the real train dialogues of the same
   profiles, Interplay's, reference-dependent's, and real + Interplay (N/2 + N/2, disjoint
   profiles). Every dialogue becomes the sft row preprocessing makes of a real one, without notes.
3. **Evaluate** on the real test split, never in any training set: per-token NLL and perplexity
   of the real turns of each role, and for the recommender Recall@1/10 of re-ranking the catalog
   retriever's top 50 (fitted on train dialogues) by the model's likelihood of each title, with
   bootstrap intervals over dialogues; the retriever's own order is the reference row. No model is
   shown candidate notes, in training or evaluation, so no source is favoured by them.

Adapters and evaluation results are cached under ``--work`` too (keyed by what made them).
Writes ``reports/downstream.json`` and ``reports/downstream.md``; ``--render`` rewrites the page
from the JSON. The issue's goals are printed as met / not met from the figures.

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_downstream.py --sizes 32 --steps 25``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from provenance import current_commit  # noqa: E402

JSON_PATH = Path("reports/downstream.json")
PAGE_PATH = Path("reports/downstream.md")
FINAL = Path("/work/final")
ROLES = ("user", "recommender")
KS = (1, 10)
#: Validation dialogues of each training run (the trainer's loss before and after; not a result).
VALIDATION_DIALOGUES = 8
GENERATED = {"interplay": "interplay", "reference_dependent": "reference_dependent"}
log = logging.getLogger("bench_downstream")


def workspace(work: Path, run_root: Path) -> Path:
    """A stage root under ``work`` whose inputs are links to the finished run's models and data
    (nothing of the run is written); what the stage writes there stays, for resume and reuse."""
    root = work / "root"
    for link in ("models/base", "models/user", "models/recommender", "models/script", "data/processed"):
        path = root / link
        path.parent.mkdir(parents=True, exist_ok=True)
        target = (run_root / link).resolve()
        if path.is_symlink() and path.resolve() == target:
            continue
        if path.is_symlink():
            path.unlink()
        path.symlink_to(target, target_is_directory=True)
    return root


class Stopwatch:
    """Wall and process CPU seconds since it was made: the machine's other work (or a pause of
    this process) lengthens the first, not the second."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> dict[str, float]:
        return {"wall_s": round(time.perf_counter() - self.wall, 1), "cpu_s": round(time.process_time() - self.cpu, 1)}


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def generation_params(params: Any) -> Any:
    """The run's parameters, simulating train-split profiles."""
    simulation = params.simulation.model_copy(update={"profile_splits": ["train"]})
    return params.model_copy(update={"simulation": simulation})


def generate(params: Any, root: Path, variant: str, count: int) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """``count`` dialogues of ``variant`` from train profiles (the stage's shards resume)."""
    import pyarrow.parquet as pq

    from interplay.simulation.stage import simulate_pairs

    clock = Stopwatch()
    out = Path(f"data/generated/{variant}-{count}.parquet")
    simulate_pairs(params, root, variant, count, out)
    return pq.read_table(root / out).to_pylist(), clock.read()


def train_role(params: Any, root: Path, work: Path, role: str, rows: list[dict[str, Any]],
               validation_rows: list[dict[str, Any]], steps: int, tag: str) -> tuple[Path, dict[str, Any]]:
    """The role's adapter trained on ``rows`` (cached under ``work/adapters`` by its fingerprint)."""
    from interplay.models import precision as precisions
    from interplay.models.base import PROVENANCE_FILE
    from interplay.training.data import encode_rows
    from interplay.training.finetune import fingerprint, load_base, train_adapter
    from interplay.training.roles import role_base_dir

    settings = params.finetune.for_role(role).model_copy(update={"max_steps": steps})
    base_dir = role_base_dir(params, root, role)
    provenance = json.loads((base_dir / PROVENANCE_FILE).read_text(encoding="utf-8"))
    model, tokenizer = load_base(base_dir, precisions.training_base_dtype(precisions.resolve(settings.precision)))
    windows = settings.long_dialogues == "windows"
    train = encode_rows(tokenizer, rows, settings.max_tokens, windows)
    validation = encode_rows(tokenizer, validation_rows, settings.max_tokens, windows)
    key = fingerprint(settings, params.seed, provenance["weights_sha256"], train)[:16]
    out_dir = work / "adapters" / tag / role / key
    done = out_dir / "downstream_metrics.json"
    if done.exists():
        return out_dir, {**json.loads(done.read_text()), "cached": True}
    metrics = train_adapter(model, tokenizer, train, validation, settings, seed=params.seed, out_dir=out_dir,
                            checkpoint_dir=work / "checkpoints" / tag / role)
    metrics.update(train_rows=len(rows), train_examples=len(train))
    done.write_text(json.dumps(metrics, indent=2) + "\n")
    return out_dir, {**metrics, "cached": False}


def test_data(root: Path, params: Any, nll_dialogues: int, min_events: int) -> dict[str, Any]:
    """The real test dialogues scored: a seeded sample for NLL, and whole dialogues in a seeded
    order until at least ``min_events`` recommendation events for recall."""
    from interplay.evaluation.downstream import recommendation_events, seeded_sample
    from interplay.preprocess.artifacts import read_dialogues, read_profiles

    processed = root / "data" / "processed"
    test = sorted(read_dialogues(processed / "dialogues.parquet", splits=("test",)), key=lambda d: d.dialogue_id)
    profile_of = {p.dialogue_id: p for p in read_profiles(processed / "profiles.parquet") if p.split == "test"}
    profiled = [d for d in test if d.dialogue_id in profile_of]
    nll = {"user": seeded_sample(profiled, nll_dialogues, params.seed),
           "recommender": seeded_sample(test, nll_dialogues, params.seed)}
    ranked, events = [], []
    shuffled = list(test)
    random.Random(params.seed).shuffle(shuffled)
    for dialogue in shuffled:
        if len(events) >= min_events:
            break
        found = recommendation_events([dialogue])
        if found:
            ranked.append(dialogue)
            events.extend(found)
    return {"nll": nll, "profile_of": profile_of, "event_dialogues": ranked, "events": events}


def retriever_candidates(root: Path, params: Any, dialogues: list[Any], events: list[Any], k: int) -> list[list[str]]:
    """The retriever's top ``k`` for the conversation before each event (fitted on train only)."""
    from interplay.grounding.retriever import fit_retriever, said_of
    from interplay.preprocess.artifacts import read_catalog, read_dialogues

    processed = root / "data" / "processed"
    catalog = read_catalog(processed / "catalog.parquet")
    train = read_dialogues(processed / "dialogues.parquet", splits=("train",))
    retriever = fit_retriever(catalog, train, params.retriever)
    by_id = {d.dialogue_id: d for d in dialogues}
    contexts = {(e.dialogue_id, e.turn): said_of(by_id[e.dialogue_id], e.turn) for e in events}
    keys = list(contexts)
    ranked = dict(zip(keys, retriever.rank_batch([contexts[key] for key in keys], k), strict=True))
    return [ranked[(e.dialogue_id, e.turn)] for e in events]


def evaluate_model(params: Any, root: Path, role: str, adapter: Path | None, data: dict[str, Any],
                   candidates: list[list[str]] | None, titles: dict[str, str], resamples: int,
                   context_tokens: int | None = None, parts: tuple[str, ...] = ("nll", "recall")) -> dict[str, Any]:
    """Real-turn NLL of ``role`` (and, for the recommender, the re-ranking recalls), each with its
    per-dialogue sums under ``per_dialogue`` (for the paired comparisons); only ``parts``."""
    from interplay.models import precision as precisions
    from interplay.training.finetune import load_base
    from interplay.training.roles import load_with_adapter, role_base_dir

    base_dir = role_base_dir(params, root, role)
    if adapter is None:
        model, tokenizer = load_base(base_dir, precisions.dtype_of(precisions.resolve("auto")))
        model.eval()
    else:
        model, tokenizer = load_with_adapter(base_dir, adapter)
    computed = []
    if "nll" in parts:
        computed.append(_nll_part(params, role, model, tokenizer, data, resamples))
    if "recall" in parts and role == "recommender" and candidates is not None:
        computed.append(_recall_part(params, model, tokenizer, data, candidates, titles, resamples, context_tokens))
    result: dict[str, Any] = {"per_dialogue": {}}
    for part in computed:
        result["per_dialogue"].update(part.pop("per_dialogue"))
        result.update(part)
    return result


def _nll_part(params: Any, role: str, model: Any, tokenizer: Any, data: dict[str, Any], resamples: int) -> dict[str, Any]:
    from interplay.evaluation.downstream import by_dialogue, example_losses, nll_figure, real_turn_chat
    from interplay.training.chat import encode_windows

    pre = params.preprocess
    settings = params.finetune.for_role(role)
    clock = Stopwatch()
    examples, owners = [], []
    for dialogue in data["nll"][role]:
        chat = real_turn_chat(dialogue, data["profile_of"].get(dialogue.dialogue_id), role, pre.end_marker,
                              pre.accept_marker)
        if chat is None:
            continue
        for example in encode_windows(tokenizer, chat, settings.max_tokens):
            examples.append(example)
            owners.append(dialogue.dialogue_id)
    losses = example_losses(model, examples, tokenizer.pad_token_id, settings.eval_batch_size)
    sums, _ = by_dialogue([loss for loss, _ in losses], owners)
    tokens, _ = by_dialogue([count for _, count in losses], owners)
    return {"nll": nll_figure(sums, tokens, resamples, params.seed), "nll_time": clock.read(),
            "per_dialogue": {"nll": [sums.tolist(), tokens.tolist()]}}


def _recall_part(params: Any, model: Any, tokenizer: Any, data: dict[str, Any], candidates: list[list[str]],
                 titles: dict[str, str], resamples: int, context_tokens: int | None) -> dict[str, Any]:
    from interplay.evaluation.downstream import (
        by_dialogue,
        hits_at,
        ratio_figure,
        recommender_context,
        rerank,
        title_log_likelihoods,
    )
    from interplay.training.chat import truncate_messages

    pre = params.preprocess
    settings = params.finetune.for_role("recommender")
    clock = Stopwatch()
    by_id = {d.dialogue_id: d for d in data["event_dialogues"]}
    scored: dict[tuple[str, int], list[str]] = {}
    reranked = []
    for event, shortlist in zip(data["events"], candidates, strict=True):
        key = (event.dialogue_id, event.turn)
        if key not in scored:
            chat = recommender_context(by_id[event.dialogue_id], event.turn, pre.end_marker, pre.accept_marker)
            chat = truncate_messages(tokenizer, chat, context_tokens or settings.max_tokens - 32)
            prompt = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
            ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            scores = title_log_likelihoods(model, tokenizer, ids, [titles[i] for i in shortlist])
            scored[key] = rerank(shortlist, scores)
        reranked.append(scored[key])
    owners = [e.dialogue_id for e in data["events"]]
    gold = [e.item_id for e in data["events"]]
    result: dict[str, Any] = {"per_dialogue": {}}
    for k in KS:
        hits, counts = by_dialogue(hits_at(reranked, gold, k), owners)
        result[f"recall@{k}"] = ratio_figure(hits, counts, resamples, params.seed)
        result["per_dialogue"][f"recall@{k}"] = [hits.tolist(), counts.tolist()]
    result["recall_time"] = clock.read()
    return result


def evaluation(path: Path, compute: Any, recommender: bool) -> dict[str, Any]:
    """The model's evaluation, kept at ``path``. A result kept before per-dialogue sums were (commit
    b694edc) gets its NLL part computed again (about a minute); its recalls stay as they were,
    without per-dialogue hits (their paired comparisons are null; the page says so)."""
    kept = json.loads(path.read_text()) if path.exists() else {}
    missing = tuple(part for part, done in (("nll", "nll" in kept.get("per_dialogue", {})),
                                             ("recall", not recommender or "recall@10" in kept)) if not done)
    if missing:
        fresh = compute(missing)
        per_dialogue = {**kept.get("per_dialogue", {}), **fresh.pop("per_dialogue")}
        kept = {**kept, **fresh, "per_dialogue": per_dialogue}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(kept, indent=2) + "\n")
    return kept


#: The paired comparisons of each size: (role, metric, first source, second source).
COMPARISONS = (
    ("user", "nll", "interplay", "reference_dependent"),
    ("recommender", "nll", "interplay", "reference_dependent"),
    ("recommender", "recall@10", "interplay", "reference_dependent"),
    ("recommender", "recall@10", "real_plus_interplay", "real"),
)


def comparisons(evaluations: dict[str, dict[str, Any]], resamples: int, seed: int) -> list[dict[str, Any]]:
    """Each of :data:`COMPARISONS` over the test dialogues both models scored (the same ones:
    paired); null, with the reason, where a cached evaluation kept no per-dialogue figures."""
    from interplay.evaluation.downstream import paired_figure

    out = []
    for role, metric, first, second in COMPARISONS:
        a = evaluations[first][role]["per_dialogue"].get(metric)
        b = evaluations[second][role]["per_dialogue"].get(metric)
        row = {"role": role, "metric": metric, "first": first, "second": second}
        if a is None or b is None:
            row.update(difference=None, difference_ci=None, p_value=None,
                       why_null="an evaluation kept before per-dialogue figures were (b694edc) was reused")
        else:
            row.update(paired_figure((a[0], a[1]), (b[0], b[1]), resamples, seed))
        out.append(row)
    return out


def retriever_row(data: dict[str, Any], candidates: list[list[str]], resamples: int, seed: int) -> dict[str, Any]:
    from interplay.evaluation.downstream import by_dialogue, hits_at, ratio_figure

    owners = [e.dialogue_id for e in data["events"]]
    gold = [e.item_id for e in data["events"]]
    row = {}
    for k in KS:
        hits, counts = by_dialogue(hits_at(candidates, gold, k), owners)
        row[f"recall@{k}"] = ratio_figure(hits, counts, resamples, seed)
    return row


def goals(sizes: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's goals at each size, from the figures (null where a figure is missing)."""
    out = []
    for size, block in sizes.items():
        results = block["results"]
        for role in ROLES:
            ours, theirs = (results[s][role]["nll"]["value"] for s in ("interplay", "reference_dependent"))
            met = None if ours is None or theirs is None else ours <= theirs
            out.append({"size": size, "goal": f"{role} real-turn NLL: Interplay-trained <= reference-dependent-trained",
                        "figures": [ours, theirs], "met": met})
        mixed = results["real_plus_interplay"]["recommender"].get("recall@10") or {}
        real = results["real"]["recommender"].get("recall@10") or {}
        met = None
        if mixed.get("ci") and real.get("ci"):
            met = mixed["value"] > real["value"] and mixed["ci"][0] > real["ci"][1]
        out.append({"size": size, "goal": "recommender Recall@10: real + Interplay > real, intervals not overlapping",
                    "figures": [mixed.get("ci"), real.get("ci")], "met": met})
    return out


def generate_all(gen_params: Any, root: Path, size: int) -> dict[str, Any]:
    """Both generated sources at the largest size, in the seeded profile order: the first N of
    them are what a run at size N would generate from (:func:`select_profiles` takes a prefix)."""
    from interplay.evaluation.downstream import generated_units
    from interplay.preprocess.artifacts import read_profiles
    from interplay.simulation.run import select_profiles

    profiles = read_profiles(root / "data" / "processed" / "profiles.parquet")
    chosen = select_profiles(profiles, ["train"], size, gen_params.seed)
    if len(chosen) < size:  # one dialogue a profile: the real source has one per profile too
        raise SystemExit(f"--sizes {size}: the run has only {len(chosen)} train profiles, the largest size possible")
    order = {p.profile_id: i for i, p in enumerate(chosen)}
    train_profiles = {p.profile_id: p for p in chosen}
    out: dict[str, Any] = {"profiles": chosen, "units": {}, "outcomes": {}, "time": {}}
    for variant in GENERATED:
        rows, spent = generate(gen_params, root, variant, size)
        rows.sort(key=lambda r: order[r["profile_id"]])
        out["units"][variant] = generated_units(rows, train_profiles)
        out["time"][variant] = spent
        kinds = sorted({r["outcome"] for r in rows})
        out["outcomes"][variant] = {o: sum(r["outcome"] == o for r in rows) for o in kinds}
    return out


def run_size(args: argparse.Namespace, params: Any, root: Path, size: int, generated: dict[str, Any],
             data: dict[str, Any], candidates: list[list[str]], titles: dict[str, str]) -> dict[str, Any]:
    from interplay.evaluation.downstream import SOURCES, equal_size_sets, real_units, sft_rows
    from interplay.preprocess.artifacts import read_dialogues, read_profiles

    processed = root / "data" / "processed"
    profiles = read_profiles(processed / "profiles.parquet")
    timings: dict[str, Any] = {"training": {}, "evaluation": {}}
    kept = read_dialogues(processed / "dialogues.parquet", splits=("train", "validation"))
    dialogues = {d.dialogue_id: d for d in kept}
    real = real_units(generated["profiles"][:size], dialogues)
    units = generated["units"]
    sets = equal_size_sets(real, units["interplay"][:size], units["reference_dependent"][:size], size)
    validation = sorted((d for d in dialogues.values() if d.split == "validation"), key=lambda d: d.dialogue_id)
    val_profiles = {p.dialogue_id: p for p in profiles if p.split == "validation"}
    results: dict[str, Any] = {}
    evaluations: dict[str, dict[str, Any]] = {}
    training: dict[str, Any] = {}
    pre = params.preprocess
    for source in SOURCES:
        results[source], training[source] = {}, {}
        for role in ROLES:
            rows = sft_rows(sets[source], role, pre.end_marker, pre.accept_marker)
            val_units = [_unit(d, val_profiles.get(d.dialogue_id)) for d in validation
                         if role == "recommender" or d.dialogue_id in val_profiles][:VALIDATION_DIALOGUES]
            val_rows = sft_rows(val_units, role, pre.end_marker, pre.accept_marker)
            clock = Stopwatch()
            adapter, metrics = train_role(params, root, args.work, role, rows, val_rows, args.steps, f"{size}-{source}")
            timings["training"][f"{source}/{role}"] = clock.read()
            training[source][role] = {k: metrics.get(k) for k in ("train_rows", "train_examples", "train_steps",
                                                                   "train_loss", "train_seconds", "cached")}
            clock = Stopwatch()
            key = digest([str(adapter), args.resamples, args.nll_dialogues, args.events, args.candidates,
                          args.context_tokens])
            evaluations.setdefault(source, {})[role] = evaluation(
                args.work / "results" / f"{size}-{source}-{role}-{key}.json",
                lambda parts, role=role, adapter=adapter: evaluate_model(
                    params, root, role, adapter, data, candidates if role == "recommender" else None, titles,
                    args.resamples, args.context_tokens, parts),
                recommender=role == "recommender",
            )
            results[source][role] = {k: v for k, v in evaluations[source][role].items() if k != "per_dialogue"}
            timings["evaluation"][f"{source}/{role}"] = clock.read()
            log.info("size %d %s/%s: %s", size, source, role, json.dumps(results[source][role]))
    return {"dialogues_per_source": size, "training": training, "results": results,
            "comparisons": comparisons(evaluations, args.resamples, params.seed), "timings": timings}


def _unit(dialogue: Any, profile: Any) -> Any:
    """A validation dialogue as a unit (a recommender example needs no profile)."""
    from interplay.evaluation.downstream import Unit

    return Unit(dialogue, profile)  # type: ignore[arg-type]


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from interplay.config.params import load_params
    from interplay.models.precision import cpu_description
    from interplay.preprocess.artifacts import read_catalog

    torch.set_num_threads(args.threads)
    params = load_params(args.root / "params.yaml")
    gen_params = generation_params(params)
    root = workspace(args.work, args.root)
    clock = Stopwatch()
    data = test_data(root, params, args.nll_dialogues, args.events)
    candidates = retriever_candidates(root, params, data["event_dialogues"], data["events"], args.candidates)
    catalog = read_catalog(root / "data" / "processed" / "catalog.parquet")
    titles = {item.item_id: item.title for item in catalog.items}
    setup = clock.read()
    generated = generate_all(gen_params, root, max(args.sizes))
    sizes = {}
    for size in sorted(args.sizes):
        sizes[str(size)] = run_size(args, params, root, size, generated, data, candidates, titles)
    return {
        "commit": current_commit(ROOT),
        "command": " ".join(["python", "benchmarks/bench_downstream.py", *sys.argv[1:]]),
        "machine": {"cpu": cpu_description(), "torch_threads": torch.get_num_threads(),
                    "cuda": torch.cuda.is_available(), "nice": os.nice(0)},
        "protocol": {
            "steps": args.steps,
            "mixture": "real + Interplay: the first N/2 of the real source with the last N/2 of Interplay's "
                       "(disjoint train profiles), N in all, the same steps as every source",
            "real_source": "the real train dialogues of the same train profiles that seeded the generated ones",
            "notes": "no source's training rows and no evaluation prompt hold grounding notes (the reference-"
                     "dependent baseline has none), so none is favoured by them",
            "nll": "mean NLL per token of the real test turns of the role (markers removed, none added), "
                   "windows of the role's max_tokens; interval: bootstrap over dialogues",
            "recall": f"recommender messages naming an item not named before in the test dialogue; the retriever's "
                      f"top {args.candidates} (fitted on train) re-ranked by the sum of the model's log-probabilities "
                      f"of the title 'Title (Year)' as the start of its reply; interval: bootstrap over dialogues",
            "nll_dialogues": {role: len(data["nll"][role]) for role in ROLES},
            "recommendation_events": len(data["events"]),
            "event_dialogues": len(data["event_dialogues"]),
            "resamples": args.resamples,
            "context_tokens": args.context_tokens,
        },
        "retriever": retriever_row(data, candidates, args.resamples, params.seed),
        "setup_time": setup,
        "generation": {"dialogues": max(args.sizes), "outcomes": generated["outcomes"], "time": generated["time"],
                       "profiles": "train split only, the first N of the seeded profile order for size N"},
        "sizes": sizes,
        "goals": goals(sizes),
    }


def _cell(figure: dict[str, Any] | None, digits: int = 3) -> str:
    if not figure or figure.get("value") is None:
        return "null"
    ci = figure.get("ci")
    return f"{figure['value']:.{digits}f}" + (f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]" if ci else "")


def render_markdown(data: dict[str, Any]) -> str:
    from interplay.evaluation.intervals import format_p

    protocol = data["protocol"]
    lines = [
        "# Train on generated, test on real",
        "",
        f"Written by `benchmarks/bench_downstream.py` (commit {data['commit']}): `{data['command']}`.",
        "",
        f"Each role is fine-tuned from the base model for {protocol['steps']} steps (the project's recipe) on N "
        "dialogues of each source and scored on the real ReDial test split, never in any training set.",
        f"- Real source: {protocol['real_source']}. Mixture: {protocol['mixture']}.",
        f"- Notes: {protocol['notes']}.",
        f"- NLL: {protocol['nll']} ({protocol['nll_dialogues']['user']} user / "
        f"{protocol['nll_dialogues']['recommender']} recommender dialogues).",
        f"- Recall: {protocol['recall']} ({protocol['recommendation_events']} events in "
        f"{protocol['event_dialogues']} dialogues).",
        f"- Generated: {data['generation']['dialogues']} dialogues of each generated source from "
        f"{data['generation']['profiles']}; outcomes {json.dumps(data['generation']['outcomes'])}; time (wall / CPU "
        "seconds) " + "; ".join(f"{k} {v['wall_s']} / {v['cpu_s']}" for k, v in data["generation"]["time"].items())
        + ".",
        "",
    ]
    for size, block in data["sizes"].items():
        lines += [f"## N = {size} dialogues per source", "",
                  "| source | user NLL [95% CI] | user ppl | recommender NLL [95% CI] | recommender ppl "
                  "| R@1 [95% CI] | R@10 [95% CI] |",
                  "|---|---|---|---|---|---|---|"]
        for source, roles in block["results"].items():
            user, rec = roles["user"], roles["recommender"]
            lines.append(f"| {source} | {_cell(user['nll'])} | {user['nll']['perplexity']} | {_cell(rec['nll'])} | "
                         f"{rec['nll']['perplexity']} | {_cell(rec.get('recall@1'))} | {_cell(rec.get('recall@10'))} |")
        retriever = data["retriever"]
        lines.append(f"| retriever alone (reference) | – | – | – | – | {_cell(retriever['recall@1'])} | "
                     f"{_cell(retriever['recall@10'])} |")
        if block.get("comparisons"):
            lines += ["", "Paired over the test dialogues both models scored (difference first − second, paired "
                      "bootstrap 95% CI, permutation p; lower NLL is better, higher recall):", "",
                      "| role | metric | first − second | difference [95% CI] | p |", "|---|---|---|---|---|"]
        for row in block.get("comparisons", []):
            if row["difference"] is None:
                cells = f"null ({row.get('why_null', 'not computed')}) | –"
            else:
                low, high = row["difference_ci"]
                cells = f"{row['difference']:+.3f} [{low:+.3f}, {high:+.3f}] | {format_p(row['p_value'])}"
            lines.append(f"| {row['role']} | {row['metric']} | {row['first']} − {row['second']} | {cells} |")
        timings = block["timings"]
        lines += ["",
                  "Timings (wall and process CPU seconds; a part found in the cache under `--work` costs "
                  "little here, the cost when it ran is in the JSON's results):", ""]
        for part in ("training", "evaluation"):
            lines.append(f"- {part}: " + "; ".join(f"{name} {t['wall_s']} / {t['cpu_s']}"
                                                   for name, t in timings[part].items()))
        lines.append("")
    lines += ["## Goals", ""]
    for goal in data["goals"]:
        verdict = {True: "met", False: "not met", None: "not computed"}[goal["met"]]
        lines.append(f"- N = {goal['size']}: {goal['goal']}: **{verdict}** (figures {goal['figures']})")
    if data.get("note"):
        lines += ["", data["note"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=FINAL, help="a finished run's checkout (models/, data/processed/)")
    parser.add_argument("--work", type=Path, default=ROOT / "data" / "work" / "downstream")
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--nll-dialogues", type=int, default=100)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--context-tokens", type=int, default=None,
                        help="conversation tokens a title is scored after (default: the recommender's max_tokens - 32)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / JSON_PATH)
    parser.add_argument("--page", type=Path, default=ROOT / PAGE_PATH)
    parser.add_argument("--note", default=None, help="a sentence for the page (e.g. the machine's load)")
    parser.add_argument("--render", action="store_true", help="rewrite the page from the JSON only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.render:
        args.page.write_text(render_markdown(json.loads(args.out.read_text())))
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args.work = args.work.resolve()
    clock = Stopwatch()
    data = measure(args)
    data["total_time"] = clock.read()
    if args.note:
        data["note"] = args.note
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    args.page.write_text(render_markdown(data))
    for goal in data["goals"]:
        verdict = {True: "met", False: "not met", None: "not computed"}[goal["met"]]
        print(f"N={goal['size']}: {goal['goal']}: {verdict} {goal['figures']}")


if __name__ == "__main__":
    main()
