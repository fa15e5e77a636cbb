"""The evaluate stage: SPEC metrics for every system, ``reports/metrics.json``, the Markdown report
(with the realism classifiers' telling n-grams, see :mod:`.realism`, and example dialogues, see
:mod:`.examples`), its figures and ``reports/dialogues.html`` (every
generated dialogue on one static page, see :mod:`.page`). See :mod:`.compute` for which
metrics apply to the real test dialogues."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from interplay.config.params import Params

log = logging.getLogger(__name__)

METRICS_PATH = "reports/metrics.json"
REPORT_PATH = "reports/evaluation.md"
FIGURES_DIR = "reports/figures"
VALIDATION_SUMMARY = "reports/validation.json"


#: The trained reference-dependent writer's training record, for the report's baseline budget.
WRITER_METRICS = Path("models/script/metrics.json")


def _read_optional_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def run_evaluation(params: Params, root: Path) -> dict[str, dict[str, Any]]:
    """Compute the metrics of every system present and write the metrics, report, figures and the
    page of generated dialogues."""
    from interplay.evaluation.compute import GENERATED, evaluate_systems, turn_realism_by_system, with_intervals
    from interplay.evaluation.data import CATALOG, catalog_items, load_systems, summary_of_validation
    from interplay.evaluation.intervals import Resampling
    from interplay.evaluation.page import write_page
    from interplay.evaluation.report import render_markdown, write_figures

    systems, missing = load_systems(root)
    if "interplay" not in systems:
        raise FileNotFoundError(f"{missing['interplay']}: no Interplay dialogues to evaluate (run simulate first)")
    k_values = params.evaluation.recall_k
    turn_realism = turn_realism_by_system(
        systems,
        folds=params.evaluation.realism_folds,
        max_per_class=params.evaluation.realism_max_per_class,
        seed=params.seed,
        markers=(params.preprocess.end_marker, params.preprocess.accept_marker),
    )
    items = catalog_items(root / CATALOG)
    evaluation = params.evaluation
    resampling = Resampling(evaluation.resamples, params.seed, evaluation.confidence, evaluation.significance)
    results = evaluate_systems(
        systems,
        items=items,
        k_values=k_values,
        threshold=params.preprocess.title_match_threshold,
        folds=params.evaluation.realism_folds,
        max_per_class=params.evaluation.realism_max_per_class,
        seed=params.seed,
        markers=(params.preprocess.end_marker, params.preprocess.accept_marker),
        turn_realism=turn_realism,
    )
    results = with_intervals(
        results,
        systems,
        items=items,
        k_values=k_values,
        threshold=params.preprocess.title_match_threshold,
        resampling=resampling,
    )
    reports = root / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    # allow_nan=False: a metric without a value is null (see compute), never NaN in the JSON.
    (root / METRICS_PATH).write_text(json.dumps(results, indent=2, allow_nan=False) + "\n", "utf-8")
    figures = root / FIGURES_DIR
    for old in figures.glob("*.png") if figures.is_dir() else []:
        old.unlink()
    write_figures(systems, results, figures, k_max=max(k_values))
    titles = catalog_titles(root / CATALOG)
    markdown = render_markdown(
        results,
        k_values=k_values,
        missing=missing,
        validation=summary_of_validation(root / VALIDATION_SUMMARY),
        threshold=params.preprocess.title_match_threshold,
        folds=params.evaluation.realism_folds,
        systems=systems,
        titles=titles,
        seed=params.seed,
        turn_realism=turn_realism,
        writer_training=_read_optional_json(root / WRITER_METRICS),
        resampling=resampling,
    )
    (root / REPORT_PATH).write_text(markdown, "utf-8")
    write_page({name: rows for name, rows in systems.items() if name in GENERATED}, titles, root)
    for name, values in results.items():
        log.info("evaluate %s: %s", name, ", ".join(f"{k}={v}" for k, v in values.items()))
    return results


def catalog_titles(path: Path) -> dict[str, str]:
    """item_id -> title of the catalog (empty when the file or its ``title`` column is missing)."""
    from interplay.evaluation.data import read_parquet_rows

    if not path.is_file():
        return {}
    rows = read_parquet_rows(path, ["item_id", "title"])
    return {str(r["item_id"]): str(r["title"]) for r in rows if r.get("title")}


__all__ = ["catalog_titles", "run_evaluation"]
