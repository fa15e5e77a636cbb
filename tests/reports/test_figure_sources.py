"""Every figure of README.md and reports/*.md comes from an artifact of the same commit.

The README is written by hand, so its figures that a JSON in ``reports/`` holds are listed here
(:data:`README_FIGURES`) and checked against that JSON: regenerating a JSON without updating the
README fails here, naming the figure. The pages a benchmark writes must equal what it renders from
its committed JSON, benchmarks that state goals carry their verdicts, and the one JSON no CPU machine
can regenerate names the commit and command that made it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports"

#: (what the README says, "{}" for each figure; the JSON in reports/; each figure's key path; format)
README_FIGURES: list[tuple[str, str, list[tuple[str, ...]], str]] = [
    ("({} against {} GFLOP/s", "bench_simulation.json",
     [("bf16", "matmul_gflops", "bfloat16"), ("bf16", "matmul_gflops", "float32")], "{:.0f}"),
    ("the lock-step engine generated {}x as many tokens", "bench_simulation.json",
     [("bf16", "bf16_over_fp32_engine")], "{}"),
    ("fitted on the {} train dialogues of the default corpus", "bench_recommendation.json",
     [("train_dialogues",)], "{:,}"),
    ("Recall@1/10/50 {} / {} / {}", "bench_recommendation.json",
     [("test", "params.yaml weights", k) for k in ("1", "10", "50")], "{:.3f}"),
    ("popularity alone {} / {} / {}", "bench_recommendation.json",
     [("test", "popularity alone", k) for k in ("1", "10", "50")], "{:.3f}"),
    ("KBRD, trained on all 10k, {} / {} / {}", "bench_recommendation.json",
     [("published", "KBRD", k) for k in ("1", "10", "50")], "{:.3f}"),
    (("it is {} / {} (user / recommender) for Interplay, {} / {} for zero-shot and {} / {} for the trained "
      "reference-dependent writer"), "metrics.json",
     [(system, f"turn_realism_auc_{role}") for system in ("interplay", "zero_shot", "reference_dependent")
      for role in ("user", "recommender")], "{:.3f}"),
    ("rest on {} and {} dialogues", "metrics.json",
     [("zero_shot", "num_dialogues"), ("reference_dependent", "num_dialogues")], "{}"),
    (("the user role trained at {}x the supervised tokens a second of fp32, against {}x with the kernel "
      "before"), "bench_training.json",
     [("against_fp32", "bf16-autocast-bf16-base", "tokens_per_second_over_fp32"),
      ("against_fp32", "bf16-before", "tokens_per_second_over_fp32")], "{}"),
    ("at {} MiB peak RSS and a validation loss whose relative difference from fp32's is {}", "bench_training.json",
     [("runs", "bf16-autocast-bf16-base", "peak_rss_mib"),
      ("against_fp32", "bf16-autocast-bf16-base", "validation_loss_relative_difference")], "{}"),
    (("made {} dialogues an hour against {} with 32 and 16, the former default ({}x; 64 profiles, one after "
      "another): decode ran faster ({} against {} tokens/s)"), "bench_simulate_pool.json",
     [("runs", 1, "dialogues_per_hour"), ("runs", 0, "dialogues_per_hour"), ("runs", 1, "dialogues_per_hour_over_first"),
      ("runs", 1, "decode", "tokens_per_s"), ("runs", 0, "decode", "tokens_per_s")], "{}"),
    ("the halves peaked at {} MiB for the user and {} for the recommender against {} and {}",
     "bench_training_memory.json",
     [("roles", "user", "runs", "halves", "peak_rss_mib"), ("roles", "recommender", "runs", "halves", "peak_rss_mib"),
      ("roles", "user", "runs", "whole", "peak_rss_mib"), ("roles", "recommender", "runs", "whole", "peak_rss_mib")],
     "{:.0f}"),
    ("{} on generated text and {} on real, and {} (recall {}) on a held-out sample", "linking.json",
     [("samples", "tuning_generated", "precision"), ("samples", "tuning_real", "precision"),
      ("samples", "heldout_real", "precision"), ("samples", "heldout_real", "recall")], "{:.3f}"),
    ("on 300 held-out endings it accepts for {} of them, with precision {} against {} for always accepting "
     "(recall {})", "acceptance.json",
     [("predicted_accept_share",), ("model", "precision"), ("always_accept", "precision"), ("model", "recall")],
     "{:.3f}"),
    ("the user adapter trained at {} supervised tokens/s and the recommender at {}, and the lock-step engine "
     "generated {} tokens/s at batch 32: {} of plain `generate`", "gpu_check.json",
     [("finetune_user", "supervised_tokens_per_second"), ("finetune_recommender", "supervised_tokens_per_second"),
      ("a_lockstep_batch32", "tokens_per_s"), ("a_over_c",)], "{}"),
    ("the stage made {} dialogues an hour against {} ({}x;", "bench_simulate_stage.json",
     [("this_code", "dialogues_per_hour"), ("compare_commit", "dialogues_per_hour"),
      ("goals", "dialogues_per_hour_vs_compare_commit", "speedup")], "{}"),
    ("decoded {} tokens/s, {} of what the bf16 matmul rate allows", "bench_simulate_stage.json",
     [("this_code", "decode", "tokens_per_s"), ("this_code", "decode", "share_of_matmul_limit")], "{}"),
    ("({} decode columns for {} tokens, against {} for {})", "bench_simulate_stage.json",
     [("this_code", "decode_columns_with_finished_rows"), ("this_code", "tokens_generated"),
      ("compare_commit", "decode_columns_with_finished_rows"), ("compare_commit", "tokens_generated")], "{:,}"),
    ("(sampling {} s against {})", "bench_simulate_stage.json",
     [("this_code", "time_breakdown_seconds", "logits_processing_and_sampling"),
      ("compare_commit", "time_breakdown_seconds", "logits_processing_and_sampling")], "{:.1f}"),
    ("({} tokens encoded against {})", "bench_simulate_stage.json",
     [("this_code", "tokens_encoded_prefill"), ("compare_commit", "tokens_encoded_prefill")], "{:,}"),
    *[(f"| {engine} | {{}} | {{}} | {{}} | {{}} |", "bench_engines.json",
       [("engines", engine, key) for key in ("precision", "tokens", "seconds", "tokens_per_s")], "{}")
      for engine in ("torch: engine decoding", "torch: transformers generate", "ctranslate2: float32",
                     "ctranslate2: int8", "ctranslate2: int8_float32")],
    ("The simulate stage made its 2,000 dialogues in {} s, {} dialogues an hour", "bench_release.json",
     [("release-2k", "stages", "simulate", "seconds"), ("release-2k", "figures", "simulate_dialogues_per_hour")], "{}"),
    ("the stages took {} minutes, install aside. Scaled linearly, 10,000 dialogues would take {} hours",
     "bench_release.json",
     [("release-2k", "figures", "stages_minutes"), ("release-2k", "figures", "extrapolated_hours_for_10000")], "{}"),
    ("the simulate process peaked at {} MiB of resident memory against {} MiB for the 64 dialogues",
     "bench_release.json",
     [("release-2k", "memory", "simulate", "peak_rss_mib"), ("default-e726978", "memory", "simulate", "peak_rss_mib")], "{}"),
    ("({} MiB after {} minutes, {} after {}, {} after {};", "bench_release.json",
     [("release-2k", "simulate_memory_timeline", "points", point, column) for point in (1, 3, 9) for column in (2, 0)],
     "{}"),
    ("Its baselines, byte-identical to the f331548 run's, took {} s against 375.1", "bench_release.json",
     [("default-e726978", "stages", "baselines", "seconds")], "{}"),
    ("simulate stage peaked at {} MiB against 5512.7 in e726978's, and its baselines stage at {} against 7369.2",
     "bench_release.json",
     [("default-d5c69c6", "memory", "simulate", "peak_rss_mib"), ("default-d5c69c6", "memory", "baselines", "peak_rss_mib")], "{}"),
    ("Each fine-tuning stage stays near 3 GiB (the user's {} MiB)", "bench_release.json",
     [("default-d5c69c6", "memory", "finetune_user", "peak_rss_mib")], "{}"),
    ("its {} dialogues in {} s, {} dialogues an hour; the stages took {} minutes", "bench_release.json",
     [("release-1k", "figures", "dialogues"), ("release-1k", "stages", "simulate", "seconds"),
      ("release-1k", "figures", "simulate_dialogues_per_hour"), ("release-1k", "figures", "stages_minutes")], "{:,}"),
    ("and 10,000 dialogues would take {} hours scaled linearly", "bench_release.json",
     [("release-1k", "figures", "extrapolated_hours_for_10000")], "{}"),
    ("The simulate process peaked at {} MiB (the peak so far:", "bench_release.json",
     [("release-1k", "memory", "simulate", "peak_rss_mib")], "{}"),
    ("one shard of 128 profiles against two of 64 made {} dialogues an hour against {} ({}x;",
     "bench_simulate_shards.json",
     [("runs", 1, "dialogues_per_hour"), ("runs", 0, "dialogues_per_hour"), ("runs", 1, "dialogues_per_hour_over_first")],
     "{}"),
    ("that was {} of the {} prefill tokens of 64 dialogues; four at a time cut it to {} but encoded {} tokens",
     "bench_context_step.json",
     [("runs", 0, "re_encoded_share_of_prefill"), ("runs", 0, "tokens_encoded_prefill"),
      ("runs", 1, "re_encoded_share_of_prefill"), ("runs", 1, "tokens_encoded_prefill")], "{:,}"),
    ("the prefill ran {} columns in {} s against {} in {} s, and the decode forward {} columns a second against {}",
     "bench_simulate_attention.json",
     [("this_code", "prefill_columns_with_padding"), ("this_code", "time_breakdown_seconds", "prefill"),
      ("compare_commit", "prefill_columns_with_padding"), ("compare_commit", "time_breakdown_seconds", "prefill"),
      ("this_code", "decode", "forward_only_columns_per_s"), ("compare_commit", "decode", "forward_only_columns_per_s")],
     "{:,}"),
    ("the dialogues an hour, {} against {}, moved less", "bench_simulate_attention.json",
     [("this_code", "dialogues_per_hour"), ("compare_commit", "dialogues_per_hour")], "{}"),
    ("{} of this code's 64 ran to `max_turns` against {}", "bench_simulate_attention.json",
     [("this_code", "raw", "outcomes", "max_turns"), ("compare_commit", "raw", "outcomes", "max_turns")], "{}"),
    ("over 700 columns took {} ms against {}, a prompt of 60 tokens for 32 rows over 700 columns {} against {}",
     "bench_attention.json",
     [("cases", 2, "grouped_ms"), ("cases", 2, "sdpa_ms"), ("cases", 0, "grouped_ms"), ("cases", 0, "sdpa_ms")], "{}"),
    ("(mean KL {} against {}), and the real tokens' NLL is {} against {} (float32: {})", "bench_attention.json",
     [("decode_accuracy", "bfloat16_grouped", "kl_from_float32"), ("decode_accuracy", "bfloat16_sdpa", "kl_from_float32"),
      ("decode_accuracy", "bfloat16_grouped", "nll"), ("decode_accuracy", "bfloat16_sdpa", "nll"),
      ("decode_accuracy", "float32_sdpa_nll")], "{}"),
    ("took {} s against 213.9 for longer dialogues (14 of 64 ran to `max_turns` against 6) and its baselines {} s",
     "bench_release.json", [("default", "stages", "simulate", "seconds"), ("default", "stages", "baselines", "seconds")], "{}"),
    ("Interplay's success rate was {} [{}, {}] against 0.391", "metrics.json",
     [("interplay", "success_rate"), ("interplay", "success_rate_ci", 0), ("interplay", "success_rate_ci", 1)], "{:.3f}"),
    ("a held-out sample of {} names in {} real turns", "linking.json",
     [("samples", "heldout_real", "labelled_names"), ("samples", "heldout_real", "turns")], "{}"),
]


def _flat(text: str) -> str:
    return " ".join(text.split())


def _value(report: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        report = report[key]
    return report


def _bench(name: str) -> ModuleType:
    """A benchmark script as a module (registered, so that its dataclasses resolve)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _json(name: str) -> dict:
    return json.loads((REPORTS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("template,source,paths,fmt", README_FIGURES, ids=[f[1] + ":" + f[0][:30] for f in README_FIGURES])
def test_readme_figure_is_its_json_figure(template: str, source: str, paths: list, fmt: str) -> None:
    report = _json(source)
    expected = template.format(*(fmt.format(_value(report, p)) for p in paths))
    assert expected in _flat((REPO / "README.md").read_text(encoding="utf-8")), (
        f"README.md should say '{expected}' (reports/{source}); update the README where the JSON changed"
    )


def _dvc_outputs() -> set[str]:
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    outs = set()
    for stage in stages.values():
        for out in stage.get("outs", []):
            outs.add(next(iter(out)) if isinstance(out, dict) else out)
    return outs


#: Reports a user's own command writes, which no run of this repository can commit: path -> why.
WRITTEN_BY_USERS = {
    "reports/human_eval.md": "`interplay human-eval analyze` writes it from a team's own study's export",
}


@pytest.mark.parametrize("page", ["README.md", *sorted(p.relative_to(REPO).as_posix() for p in REPORTS.glob("*.md"))])
def test_every_report_a_page_cites_exists(page: str) -> None:
    text = (REPO / page).read_text(encoding="utf-8")
    cited = {m.rstrip(".,/") for m in re.findall(r"(?<![\w/])reports/[\w./*-]*", text) if "*" not in m}
    outputs = _dvc_outputs()
    missing = sorted(
        c for c in cited if not (REPO / c).exists() and c not in outputs and c not in WRITTEN_BY_USERS
    )
    assert not missing, f"{page} cites {missing}, which no commit file or DVC output is"


@pytest.mark.parametrize("script,page,source", [
    ("bench_sampling", "sampling.md", "bench_sampling.json"),
    ("bench_recommendation", "recommendation.md", "bench_recommendation.json"),
    ("bench_linking", "linking.md", "linking.json"),
    ("bench_downstream", "downstream.md", "downstream.json"),
])
def test_generated_page_is_its_json_rendered(script: str, page: str, source: str) -> None:
    rendered = _bench(script).render_markdown(_json(source))
    assert (REPORTS / page).read_text(encoding="utf-8") == rendered, (
        f"reports/{page} differs from benchmarks/{script}.py's rendering of reports/{source}: a figure was edited by hand"
    )


@pytest.mark.parametrize("script,source", [("bench_preprocess", "bench_preprocess.json"),
                                           ("bench_simulation", "bench_simulation.json")])
def test_benchmark_goals_are_checked_in_its_json(script: str, source: str) -> None:
    from goals import check  # the benchmarks' folder is on sys.path once a script is loaded

    module = _bench(script)
    report = _json(source)
    assert report.get("goals") == check(report, module.GOALS)


def test_gpu_check_names_the_commit_and_command_that_made_it() -> None:
    report = _json("gpu_check.json")
    assert re.fullmatch(r"[0-9a-f]{7,40}", report["commit"])
    assert report["command"].startswith("python benchmarks/gpu_check.py")
    assert report["commit"] in report["note"]
