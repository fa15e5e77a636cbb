"""Bootstrap intervals over dialogues and paired comparisons with Interplay (issue 27, item 1)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dialogue_fixtures import CATALOG, clean_dialogues

from interplay.config.params import Params, load_params
from interplay.dialogue import metrics
from interplay.evaluation import compute
from interplay.evaluation.intervals import Ratio, Resampling, bootstrap_interval, paired_comparison

ITEMS = {str(item["item_id"]): {**item, "decade": f"{item['year'] // 10 * 10}s"} for item in CATALOG}
FUNCTIONS = compute.metric_functions(generated=True, items=ITEMS)


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def _many(n: int, source: str = "interplay", accepted_every: int = 2) -> list[dict[str, Any]]:
    """``n`` dialogues on profiles ``p-0`` … (the four clean dialogues cycled, ids and profiles
    renumbered); dialogue ``i`` is accepted when ``i % accepted_every == 0``, else it gave up."""
    rows = []
    base = clean_dialogues(source)
    for i in range(n):
        row = copy.deepcopy(base[i % len(base)])
        row["dialogue_id"], row["profile_id"] = f"{source}-{i}", f"p-{i}"
        row["messages"][0]["content"] += f" (take {i})"  # distinct text per dialogue
        accepted = i % accepted_every == 0
        row["outcome"] = "accepted" if accepted else "gave_up"
        row["termination_reason"] = "end_marker" if accepted else "gave_up"
        row["accepted_item_id"] = (row["recommended_item_ids"] or [None])[-1] if accepted else None
        rows.append(row)
    return rows


def _real() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dialogues, profiles = [], []
    for i, row in enumerate(_many(12, "redial")):
        dialogues.append({"dialogue_id": f"r{i}", "source": "redial", "split": "test",
                          "messages": row["messages"], "item_mentions": row["item_mentions"]})
        profiles.append({"profile_id": f"p{i}", "dialogue_id": f"r{i}", "split": "test",
                         **{k: row[k] for k in ("target_item_ids", "target_titles", "target_attributes")}})
    return dialogues, profiles


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The evaluate stage on 16 Interplay dialogues (half accepted), 16 zero-shot ones on the same
    profiles (a quarter accepted) and 12 real ones."""
    root = tmp_path_factory.mktemp("intervals")
    real, profiles = _real()
    _write(root / "data/processed/dialogues.parquet", real)
    _write(root / "data/processed/profiles.parquet", profiles)
    _write(root / "data/processed/catalog.parquet", CATALOG)
    _write(root / "data/simulated/dialogues.parquet", _many(16))
    _write(root / "data/baselines/zero_shot.parquet", _many(16, "zero_shot", accepted_every=4))
    from tasks import evaluate

    evaluate.run(Params(), root)
    return root


def _results(workspace: Path) -> dict[str, dict[str, Any]]:
    return json.loads((workspace / "reports/metrics.json").read_text("utf-8"))


def test_every_metric_has_an_interval_that_holds_its_value(workspace: Path) -> None:
    results = _results(workspace)
    checked = 0
    for name, values in results.items():
        for key in metrics.metric_keys(Params().evaluation.recall_k):
            interval = values[f"{key}_ci"]
            if values[key] is None or key in compute.NO_INTERVAL:
                assert interval is None, (name, key)  # null where the metric is null or skipped
                continue
            low, high = interval
            assert low <= values[key] <= high, (name, key, values[key], interval)
            checked += 1
    assert checked >= 60
    ours = results["interplay"]
    assert ours["success_rate"] == 0.5 and ours["success_rate_ci"][0] < 0.5 < ours["success_rate_ci"][1]
    assert 0 <= ours["distinct_2_user_ci"][0] and ours["distinct_2_user_ci"][1] <= 1
    assert ours["realism_auc"] is not None and ours["realism_auc_ci"] is None  # too costly: said in the report


def test_intervals_are_deterministic_for_a_seed() -> None:
    rows = _many(24)

    def run(seed: int) -> dict[str, Any]:
        return compute.system_intervals(rows, FUNCTIONS, resampling=Resampling(resamples=200, seed=seed))

    assert run(13) == run(13)
    assert run(13)["success_rate"] != run(14)["success_rate"]


def test_paired_comparison_detects_a_planted_difference_and_not_a_null_one() -> None:
    ours = _many(32, accepted_every=2)  # half accepted
    resampling = Resampling(resamples=500, seed=13)
    theirs = _many(32, "zero_shot", accepted_every=8)  # an eighth accepted
    planted = compute.paired_comparisons(ours, theirs, FUNCTIONS, resampling=resampling)
    record = planted["success_rate"]
    assert planted["shared_profiles"] == 32
    assert record["difference"] == pytest.approx(0.5 - 0.125)
    assert record["significant"] is True and record["p_value"] < 0.01
    assert record["difference_ci"][0] > 0
    # The same outcomes, paired with other profiles: success rates equal, no difference.
    shuffled = _many(32, "zero_shot", accepted_every=2)
    ids = [row["profile_id"] for row in shuffled]
    for row, profile in zip(shuffled, ids[1:] + ids[:1], strict=True):
        row["profile_id"] = profile
    null = compute.paired_comparisons(ours, shuffled, FUNCTIONS, resampling=resampling)["success_rate"]
    assert null["difference"] == 0 and null["significant"] is False
    assert null["difference_ci"][0] <= 0 <= null["difference_ci"][1]


def test_paired_test_on_noisy_means() -> None:
    """Per-profile scores with noise: a shift of one noise sd over 40 profiles is found, the same
    distribution is not (fixed seed, so the verdicts are fixed)."""
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(0, 1, 40), rng.normal(1, 1, 40), rng.normal(0, 1, 40)
    ones = np.ones(80)
    shifted = paired_comparison(Ratio(np.concatenate([b, a]), ones), resamples=1000, seed=13)
    same = paired_comparison(Ratio(np.concatenate([c, a]), ones), resamples=1000, seed=13)
    assert shifted.p_value < 0.05 and shifted.interval[0] > 0
    assert same.p_value > 0.05 and same.interval[0] < 0 < same.interval[1]
    assert bootstrap_interval(Ratio(a, np.ones(40)), resamples=1000, seed=13)[0] < a.mean()


def test_a_metric_that_is_not_a_pooled_mean_is_refused_not_resampled_wrong() -> None:
    def median_turns(rows: list[dict[str, Any]]) -> float:
        return float(np.median([len(r["messages"]) for r in rows]))

    with pytest.raises(ValueError, match="median_turns.*declare how it pools"):
        compute.statistic("median_turns", median_turns, [[r] for r in _many(5)])


def test_too_few_profiles_for_significance_use_the_exact_test() -> None:
    """With 4 shared profiles there are 16 swap patterns: the exact test cannot go below 2/16."""
    ours, theirs = _many(4, accepted_every=1), _many(4, "zero_shot", accepted_every=100)
    for row in theirs:
        row["outcome"], row["accepted_item_id"] = "gave_up", None
    record = compute.paired_comparisons(ours, theirs, FUNCTIONS)["success_rate"]
    assert record["difference"] == 1.0 and record["p_value"] == 2 / 16 and record["significant"] is False


def test_report_shows_intervals_and_names_significant_differences(workspace: Path) -> None:
    text = (workspace / "reports/evaluation.md").read_text("utf-8")
    ours = _results(workspace)["interplay"]
    section = text.split("## Intervals", 1)[1].split("\n## ", 1)[0]
    theirs = _results(workspace)["zero_shot"]["success_rate_ci"]
    assert f"| Succ. ↑ | – | 0.250 [{_f(theirs)}] | 0.500 [{_f(ours['success_rate_ci'])}] |" in section
    assert "too costly" in section and "AUC →0.5" in section  # why the AUCs have none
    comparisons = text.split("## Comparisons with Interplay", 1)[1].split("\n## ", 1)[0]
    assert "paired permutation test" in comparisons and "paired bootstrap" in comparisons
    record = _results(workspace)["zero_shot"]["vs_interplay"]["success_rate"]
    assert record["significant"] in (True, False)
    sentence = next(line for line in comparisons.splitlines() if line.startswith("Interplay vs Zero-shot"))
    assert ("Succ. ↑ (+0.250" in sentence) is record["significant"]
    assert "| Succ. ↑ | 0.500 | 0.250 | 0.250 [" in comparisons


def _f(interval: list[float]) -> str:
    return f"{interval[0]:.3f}, {interval[1]:.3f}"


def test_card_shows_intervals_and_significant_differences(workspace: Path) -> None:
    from interplay.publish.card import CardInputs, SplitInfo, render_card

    results = _results(workspace)
    inputs = CardInputs(
        pretty_name="t", license="cc-by-4.0", language=("en",), tags=(), version="v0", repo_id=None,
        corpus="redial", splits=(SplitInfo("test", 16, ("data/test.parquet",)),), columns=(),
        metrics=results,
    )
    card = render_card(inputs)
    low, high = results["interplay"]["success_rate_ci"]
    assert "| `success_rate` | – | 0.25 [" in card and f"0.5 [{low:.4g}, {high:.4g}]" in card
    assert "vs_interplay" not in card.split("From `reports/metrics.json`", 1)[1]  # comparisons in words, not flattened
    line = next(x for x in card.splitlines() if x.startswith("- Interplay vs `zero_shot`"))
    assert "Shared profiles: 16." in line and ("significant at 0.05" in line or "no difference" in line)


def test_baselines_run_on_interplays_profiles_by_default(repo_root: Path) -> None:
    """Pairing needs the same profiles: the baselines take the first of Interplay's seeded order,
    so equal counts mean the same profiles."""
    params = load_params(repo_root / "params.yaml")
    counts = {params.simulation.num_profiles, params.simulation.zero_shot.num_profiles,
              params.simulation.reference_dependent.num_profiles}
    assert counts == {64}
    assert math.isclose(params.evaluation.confidence, 0.95) and params.evaluation.resamples >= 1000
