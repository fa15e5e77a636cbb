"""The evaluation report: one paper-style results table in Markdown, the figures, and example
dialogues of each generated system (chosen and rendered by :mod:`.examples`).

Figures are drawn with matplotlib's Agg backend on fresh ``Figure`` objects (no pyplot state), with
fixed sizes, dpi and no software metadata, so the same metrics give the same PNG bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from interplay import metrics
from interplay.evaluation.compute import GENERATED, LABELS, SYSTEMS
from interplay.evaluation.examples import LEGEND, RULE, choose_examples, render_example

Row = Mapping[str, Any]

#: metrics.json key -> (column header, digits) of the results table; arrows say which direction is
#: better. Keys of :func:`interplay.metrics.metric_keys` not named here (and not ``recall@k``) are in
#: ``reports/metrics.json`` only.
_COLUMNS: dict[str, tuple[str, int]] = {
    "num_dialogues": ("N", 0),
    "success_rate": ("Succ. ↑", 3),
    "match_score": ("Match ↑", 3),
    "leakage_rate": ("Leak ↓", 3),
    "item_turn_share": ("Items/R turn", 2),
    "avg_turns": ("Turns", 1),
    "avg_words_per_turn_user": ("Words/turn U", 1),
    "avg_words_per_turn_recommender": ("Words/turn R", 1),
    "distinct_1_user": ("Dist-1 U ↑", 3),
    "distinct_1_recommender": ("Dist-1 R ↑", 3),
    "distinct_2_user": ("Dist-2 U ↑", 3),
    "distinct_2_recommender": ("Dist-2 R ↑", 3),
    "realism_auc": ("AUC →0.5", 3),
}


def table_columns(k_values: Sequence[int]) -> list[tuple[str, str, int]]:
    """``(metrics.json key, column header, digits)`` of the table, in :func:`metric_keys` order."""
    columns = []
    for key in metrics.metric_keys(k_values):
        if key.startswith("recall@"):
            columns.append((key, f"R@{key.removeprefix('recall@')} ↑", 3))
        elif key in _COLUMNS:
            columns.append((key, *_COLUMNS[key]))
    return columns


def _cell(value: Any, digits: int) -> str:
    """A table cell: "–" (en dash) for a metric without a value (None; NaN as well)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if digits == 0:
        return str(int(value))
    return f"{float(value):.{digits}f}"


def results_table(results: Mapping[str, Mapping[str, Any]], k_values: Sequence[int]) -> str:
    """The Markdown results table: one row per system present, SPEC metrics as columns."""
    columns = table_columns(k_values)
    header = "| System | " + " | ".join(h for _, h, _ in columns) + " |"
    rule = "| --- | " + " | ".join("---:" for _ in columns) + " |"
    lines = [header, rule]
    for system in SYSTEMS:
        if system not in results:
            continue
        row = results[system]
        cells = [_cell(row.get(key), digits) for key, _, digits in columns]
        lines.append(f"| {LABELS[system]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


FIGURES: dict[str, str] = {
    "turns_per_dialogue": "Turns per dialogue",
    "words_per_turn": "Words per turn by role",
    "outcomes": "Outcomes of the generated dialogues",
    "distinct_n": "Distinct-n by role",
}


def render_markdown(
    results: Mapping[str, Mapping[str, Any]],
    *,
    k_values: Sequence[int],
    missing: Mapping[str, str],
    validation: Mapping[str, Any] | None,
    threshold: float = 90.0,
    folds: int = 5,
    figures_rel: str = "figures",
    systems: Mapping[str, Sequence[Row]] | None = None,
    titles: Mapping[str, str] | None = None,
    seed: int = 13,
    examples_per_system: int = 3,
) -> str:
    """The whole report. ``systems`` (name -> dialogue rows) gives the "Example dialogues"
    section: ``examples_per_system`` per generated system, by :func:`choose_examples` with ``seed``,
    with ``titles`` (item_id -> title) naming the accepted and recommended items."""
    parts = [
        "# Evaluation",
        "",
        "Metrics as defined in the specification (\"Metrics\"), for the Interplay dialogues, the two "
        "baselines and the real test dialogues. N: number of dialogues.",
        "",
        results_table(results, k_values),
        "",
        "Succ.: share of dialogues the user ended by accepting a recommended item. "
        f"R@k: share of dialogues where a target item is among the first k distinct items the "
        "recommender named. Match: over dialogues with an accepted item, the mean share of target "
        "attribute fields (genres, decade, directors, actors; those the target has) the accepted "
        "item shares. Leak: share of dialogues where a user turn names a target title (normalized "
        f"fuzzy match ≥ {threshold:g}) before the recommender mentioned it; reference-free generation "
        "must give 0. Items/R turn: share of recommender turns that name a catalog item. Dist-n: unique / all word n-grams (lowercased tokens, within turns) per role "
        "(U: user, R: recommender). Words/turn: whitespace-separated words. "
        f"AUC: {folds}-fold "
        "cross-validated ROC AUC of TF-IDF + logistic regression telling real test dialogues from "
        "the system's (0.5: indistinguishable). –: the metric does not apply to the system or has no "
        "data (Match without an accepted dialogue, R@k without targets, AUC without two dialogues "
        "of each class); `null` in `reports/metrics.json`.",
        "",
        "On the real test dialogues, success rate, match score and AUC do not apply (no outcome, no "
        "accepted item; they are the classifier's reference). Their recall@k and leakage use the "
        "seed profile of the same dialogue (those without a profile are left out: "
        f"{_profiled(results)}); since the targets are the items the real recommender suggested "
        "and the seeker liked, real recall is a ceiling by construction, not a competitor.",
    ]
    if missing:
        parts += [
            "",
            "Not evaluated (input missing): "
            + ", ".join(f"{LABELS[name]} (`{path}`)" for name, path in missing.items())
            + ".",
        ]
    if validation is not None:
        parts += ["", "## Validation", "", _validation_line(validation)]
    parts += ["", "## Figures", ""]
    for name, title in FIGURES.items():
        parts += [f"### {title}", "", f"![{title}]({figures_rel}/{name}.png)", ""]
    if systems:
        section = examples_section(systems, titles or {}, seed=seed, n=examples_per_system)
        if section:
            parts += [section, ""]
    return "\n".join(parts).rstrip() + "\n"


def examples_section(
    systems: Mapping[str, Sequence[Row]], titles: Mapping[str, str], *, seed: int, n: int = 3
) -> str:
    """The "Example dialogues" section: per generated system present, ``n`` dialogues by the
    fixed rule of :func:`choose_examples` (the real test dialogues have none). Empty without
    generated rows."""
    names = [name for name in GENERATED if systems.get(name)]
    if not names:
        return ""
    parts = [
        "## Example dialogues",
        "",
        f"Up to {n} dialogues per generated system, {RULE.format(seed=seed)}. {LEGEND}",
    ]
    for name in names:
        parts += ["", f"### {LABELS[name]}"]
        for row in choose_examples(systems[name], seed, n):
            parts += ["", render_example(row, titles, heading_level=4)]
    return "\n".join(parts)


def _profiled(results: Mapping[str, Mapping[str, Any]]) -> str:
    real = results.get("real")
    if not real:
        return "no real dialogues"
    return f"{real.get('num_with_profile', 0)} of {real.get('num_dialogues', 0)} have one"


def _validation_line(summary: Mapping[str, Any]) -> str:
    datasets = summary.get("datasets") or {}
    parts = []
    for name, info in datasets.items():
        status = "passed" if info.get("success") else "FAILED"
        gate = "" if info.get("gated") else ", report-only"
        parts.append(
            f"{LABELS.get(name, name)}: {status}{gate} ({info.get('expectations')} expectations, "
            f"{info.get('critical_failed')} critical / {info.get('warnings_failed')} warning failures)"
        )
    head = "passed" if summary.get("success") else "FAILED"
    return f"Validation gate {head}. " + "; ".join(parts) + ". Details: `reports/validation.json`."


# --- figures ----------------------------------------------------------------------------------

_COLORS = {"real": "#555555", "zero_shot": "#e69f00", "reference_dependent": "#56b4e9", "interplay": "#009e73"}


def _figure(width: float = 7.0, height: float = 4.0) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})


def write_figures(
    systems: Mapping[str, Sequence[Row]], results: Mapping[str, Mapping[str, Any]], out_dir: Path
) -> list[Path]:
    """The four figures of the report, one PNG each under ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    with matplotlib.rc_context({"font.size": 9}):
        names = [s for s in SYSTEMS if s in systems]
        paths = []
        paths.append(_turns_figure(systems, names, out_dir / "turns_per_dialogue.png"))
        paths.append(_words_figure(systems, names, out_dir / "words_per_turn.png"))
        paths.append(_outcomes_figure(systems, out_dir / "outcomes.png"))
        paths.append(_distinct_figure(results, names, out_dir / "distinct_n.png"))
    return paths


def _turns_figure(systems: Mapping[str, Sequence[Row]], names: list[str], path: Path) -> Path:
    fig = _figure()
    ax = fig.add_subplot()
    counts = {n: [len(metrics.messages_of(r)) for r in systems[n]] for n in names}
    top = max([max(c) for c in counts.values() if c] or [1])
    cap = min(top, 30)
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        values = [min(c, cap) for c in counts[name]]
        if not values:
            continue
        xs = list(range(1, cap + 1))
        shares = [values.count(x) / len(values) for x in xs]
        offset = (i - (len(names) - 1) / 2) * width
        ax.bar([x + offset for x in xs], shares, width=width, color=_COLORS[name],
               label=f"{LABELS[name]} (n={len(values)})")
    ax.set_xlabel("turns per dialogue" + (f" ({cap} = {cap} or more)" if top > cap else ""))
    ax.set_ylabel("share of dialogues")
    ax.set_title("Turns per dialogue")
    if any(counts.values()):
        ax.legend(frameon=False)
    _save(fig, path)
    return path


def _words_figure(systems: Mapping[str, Sequence[Row]], names: list[str], path: Path) -> Path:
    from matplotlib.patches import Patch

    fig = _figure()
    ax = fig.add_subplot()
    for i, name in enumerate(names):
        for j, role in enumerate(metrics.ROLES):
            words = [metrics.word_count(t) for t in metrics.role_turns(systems[name], role)]
            parts = ax.boxplot([words or [0]], positions=[i * 3 + 1 + j], showfliers=False,
                               patch_artist=True, widths=0.8)
            box = parts["boxes"][0]
            box.set_facecolor(_COLORS[name])
            box.set_alpha(0.9 if role == "user" else 0.4)
            box.set_hatch("" if role == "user" else "//")
    ax.set_xticks([i * 3 + 1.5 for i in range(len(names))], [LABELS[n] for n in names])
    ax.set_xlim(0, max(len(names), 1) * 3)
    ax.legend(handles=[Patch(facecolor="#888888", alpha=0.9, label="user"),
                       Patch(facecolor="#888888", alpha=0.4, hatch="//", label="recommender")],
              frameon=False)
    ax.set_ylabel("words per turn")
    ax.set_title("Words per turn by role (boxes: quartiles; outliers hidden)")
    _save(fig, path)
    return path


def _outcomes_figure(systems: Mapping[str, Sequence[Row]], path: Path) -> Path:
    fig = _figure(7.0, 3.0)
    ax = fig.add_subplot()
    names = [n for n in GENERATED if n in systems]
    palette = {"accepted": "#009e73", "gave_up": "#e69f00", "max_turns": "#56b4e9", "error": "#d55e00"}
    for y, name in enumerate(names):
        rows = systems[name]
        left = 0.0
        for outcome in metrics.OUTCOMES:
            share = sum(r.get("outcome") == outcome for r in rows) / len(rows) if rows else 0.0
            ax.barh(y, share, left=left, color=palette[outcome], label=outcome if y == 0 else None)
            left += share
    ax.set_yticks(range(len(names)), [f"{LABELS[n]} (n={len(systems[n])})" for n in names])
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of dialogues")
    ax.set_title("Outcomes")
    if names:
        ax.legend(frameon=False, ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    _save(fig, path)
    return path


def _distinct_figure(results: Mapping[str, Mapping[str, Any]], names: list[str], path: Path) -> Path:
    fig = _figure()
    ax = fig.add_subplot()
    keys = [f"distinct_{n}_{role}" for n in (1, 2) for role in metrics.ROLES]
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        values = [results.get(name, {}).get(k) or 0.0 for k in keys]
        xs = [x + (i - (len(names) - 1) / 2) * width for x in range(len(keys))]
        ax.bar(xs, values, width=width, color=_COLORS[name], label=LABELS[name])
    ax.set_xticks(range(len(keys)), ["distinct-1\nuser", "distinct-1\nrecommender",
                                     "distinct-2\nuser", "distinct-2\nrecommender"])
    ax.set_ylim(0, 1)
    ax.set_ylabel("unique / all n-grams")
    ax.set_title("Distinct-n by role")
    if names:
        ax.legend(frameon=False)
    _save(fig, path)
    return path
