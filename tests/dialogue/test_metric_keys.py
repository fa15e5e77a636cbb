"""Stable metric keys: every system has every key of ``metric_keys``; no value is null, never NaN.

The evaluate stage on a small workspace where no generated dialogue was accepted (``match_score``
has no data), one baseline has no targets (``recall@k``, ``leakage_rate``) and a single dialogue
(``realism_auc`` needs two per class), and the real dialogues have no profiles. No model is loaded.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dialogue_fixtures import CATALOG, clean_dialogues

from interplay.config.params import Params
from interplay.dialogue import metrics
from interplay.evaluation import compute, realism
from interplay.evaluation.report import TABLES, results_table, table_columns

K_VALUES = Params().evaluation.recall_k
KEYS = metrics.metric_keys(K_VALUES)


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def _none_accepted(source: str = "interplay") -> list[dict[str, Any]]:
    rows = clean_dialogues(source)
    for row in rows:
        row["accepted_item_id"], row["outcome"] = None, "gave_up"
    return rows


def _no_targets() -> list[dict[str, Any]]:
    row = _none_accepted("zero_shot")[0]
    row["target_item_ids"], row["target_titles"] = [], []
    return [row]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip("|").split("|")]


def _table_cell(markdown: str, system_label: str, header: str) -> str:
    """The cell of ``system_label``'s row under ``header``, in the first table with that column."""
    lines = markdown.splitlines()
    for start, line in enumerate(lines):
        if line.startswith("| ") and (start == 0 or not lines[start - 1].startswith("| ")) and header in _cells(line):
            table = list(itertools.takewhile(lambda row: row.startswith("| "), lines[start:]))
            row = next(r for r in table if r.startswith(f"| {system_label} |"))
            return _cells(row)[_cells(line).index(header)]
    raise AssertionError(f"no table has a column {header!r}")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("metric_keys")
    _write(root / "data/processed/dialogues.parquet", clean_dialogues("redial"))  # no profiles
    _write(root / "data/processed/catalog.parquet", CATALOG)
    _write(root / "data/simulated/dialogues.parquet", _none_accepted())
    _write(root / "data/baselines/zero_shot.parquet", _no_targets())
    from tasks import evaluate

    evaluate.run(Params(), root)
    return root


def test_every_system_has_every_key_and_match_score_is_null(workspace: Path) -> None:
    results = json.loads((workspace / "reports/metrics.json").read_text("utf-8"))
    assert list(results) == ["real", "zero_shot", "interplay"]
    for name, values in results.items():
        metric_keys = tuple(k for k in values if not k.endswith("_ci") and k != "vs_interplay")
        assert metric_keys == KEYS, name  # every key, in the declared order (intervals beside them)
    ours = results["interplay"]
    assert ours["success_rate"] == 0.0
    assert ours["match_score"] is None  # no accepted dialogue: no data
    assert ours["recall@5"] == 0.75 and ours["realism_auc"] is not None
    zero_shot = results["zero_shot"]
    assert zero_shot["num_with_profile"] == 0
    assert all(zero_shot[f"recall@{k}"] is None for k in K_VALUES)  # no targets
    assert zero_shot["leakage_rate"] is None
    assert zero_shot["realism_auc"] is None  # one generated dialogue: too few to classify
    assert zero_shot["turn_realism_auc_user"] is None and zero_shot["turn_realism_auc_recommender"] is None
    assert zero_shot["outcome_gave_up"] == 1 and zero_shot["outcome_accepted"] == 0  # counts, never null
    assert zero_shot["half_match_rate"] == 0.0  # a share of dialogues: one without acceptance is a miss
    real = results["real"]
    assert real["success_rate"] is None and real["match_score"] is None and real["realism_auc"] is None
    assert all(real[key] is None for key in KEYS if key.startswith(("outcome_", "turn_realism_", "half_match")))
    assert real["num_with_profile"] == 0 and real["recall@1"] is None  # no profiles


def test_markdown_table_prints_en_dash_for_null(workspace: Path) -> None:
    text = (workspace / "reports/evaluation.md").read_text("utf-8")
    assert _table_cell(text, "Interplay (ours)", "Match ↑") == "–"
    assert _table_cell(text, "Interplay (ours)", "Succ. ↑") == "0.000"
    assert _table_cell(text, "Zero-shot", "R@1 ↑") == "–"
    assert _table_cell(text, "Zero-shot", "AUC →0.5") == "–"
    assert _table_cell(text, "Zero-shot", "Turn AUC U →0.5") == "–"
    assert _table_cell(text, "Real (test)", "Accepted") == "–"
    assert _table_cell(text, "Interplay (ours)", "Gave up") == "4"
    assert _table_cell(text, "Real (test)", "Succ. ↑") == "–"
    cells = [c.strip().lower() for line in text.splitlines() if line.startswith("| ") for c in line.split("|")]
    assert not {"nan", "inf", "none", "null"} & set(cells)  # a missing value is only ever "–"


def test_metrics_json_has_null_not_nan(workspace: Path) -> None:
    raw = (workspace / "reports/metrics.json").read_text("utf-8")
    assert '"match_score": null' in raw
    for token in ("NaN", "Infinity"):
        assert token not in raw

    def reject(constant: str) -> None:
        raise AssertionError(f"{constant} in reports/metrics.json")

    json.loads(raw, parse_constant=reject)


# --- in memory --------------------------------------------------------------------------------


def test_evaluate_systems_in_memory_gives_every_key() -> None:
    results = compute.evaluate_systems(
        {"interplay": _none_accepted(), "reference_dependent": []},
        items={str(i["item_id"]): i for i in CATALOG},
        k_values=(1, 3),
    )
    for values in results.values():
        assert tuple(values) == metrics.metric_keys((1, 3))
    assert results["interplay"]["match_score"] is None
    empty = results["reference_dependent"]  # no dialogues at all: counts 0, every rate null
    counts = [k for k in empty if k.startswith(("num_", "outcome_"))]
    assert all(empty[k] == 0 for k in counts) and len(counts) == 2 + len(metrics.OUTCOME_CLASSES)
    assert all(v is None for k, v in empty.items() if k not in counts)


def test_nan_is_reported_as_null_and_printed_as_dash() -> None:
    values = compute.system_metrics(
        _none_accepted(), generated=True, items=None, k_values=K_VALUES, realism=math.nan
    )
    assert values["realism_auc"] is None and values["match_score"] is None
    json.dumps(values, allow_nan=False)
    row = {"interplay": {**values, "avg_turns": math.nan}}
    assert _table_cell(results_table(row, K_VALUES, "behaviour"), "Interplay (ours)", "Turns") == "–"
    assert _table_cell(results_table(row, K_VALUES), "Interplay (ours)", "AUC →0.5") == "–"


def test_table_columns_are_declared_metric_keys() -> None:
    shown: list[str] = []
    for table in TABLES:
        columns = [key for key, _, _ in table_columns(K_VALUES, table)]
        assert set(columns) <= set(KEYS)
        assert columns == [key for key in KEYS if key in columns]  # same order as metrics.json
        shown += columns[1:]  # each table starts with N
    assert len(shown) == len(set(shown))  # no metric in two tables
    with pytest.raises(ValueError, match="unknown table"):
        table_columns(K_VALUES, "other")


def test_an_undeclared_metric_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    declared = metrics.metric_keys
    monkeypatch.setattr(
        metrics, "metric_keys", lambda k=(1, 5, 10): tuple(x for x in declared(k) if x != "avg_turns")
    )
    with pytest.raises(KeyError, match="avg_turns"):
        compute.system_metrics(_none_accepted(), generated=True, items=None)


def test_realism_auc_of_failed_folds_is_none_not_nan(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np
    import sklearn.model_selection

    monkeypatch.setattr(sklearn.model_selection, "cross_val_score", lambda *a, **k: np.array([np.nan, 0.5]))
    assert realism.realism_auc(["a b", "c d"], ["e f", "g h"], folds=2) is None
    turns = [realism.Turn(f"d{i}", f"w{i}") for i in range(4)]
    assert realism.turn_realism(turns, turns, folds=2).auc is None
