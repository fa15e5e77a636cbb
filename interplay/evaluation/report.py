"""The evaluation report: a paper-style results table and a behaviour table in Markdown, what gives
each system's turns away (the turn-level realism classifiers' heaviest n-grams, :mod:`.realism`),
the figures, and example dialogues of each generated system (chosen and rendered by
:mod:`.examples`).

Figures are drawn with matplotlib's Agg backend on fresh ``Figure`` objects (no pyplot state), with
fixed sizes, dpi and no software metadata, so the same metrics give the same PNG bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from interplay.dialogue import metrics
from interplay.evaluation.compute import BASELINES, GENERATED, LABELS, NO_INTERVAL, SYSTEMS, interval_key
from interplay.evaluation.examples import LEGEND, RULE, choose_examples, render_example
from interplay.evaluation.intervals import Resampling, format_interval, format_p, significance_sentence
from interplay.evaluation.realism import TurnRealism

Row = Mapping[str, Any]

#: The report's two tables: "results" (recommendation and realism) and "behaviour" (length,
#: diversity, outcomes).
TABLES: tuple[str, ...] = ("results", "behaviour")

#: metrics.json key -> (column header, digits, table); arrows say which direction is better. Keys
#: of :func:`interplay.dialogue.metrics.metric_keys` not named here (and not ``recall@k``, which is in
#: "results") are in ``reports/metrics.json`` only.
_COLUMNS: dict[str, tuple[str, int, str]] = {
    "num_dialogues": ("N", 0, "results"),
    "success_rate": ("Succ. ↑", 3, "results"),
    "ended_after_recommendation_rate": ("Ended after rec.", 3, "behaviour"),
    "match_score": ("Match ↑", 3, "results"),
    "half_match_rate": ("Match≥½ ↑", 3, "results"),
    "leakage_rate": ("Leak ↓", 3, "results"),
    "leak_attempt_rate": ("Leak tried ↓", 3, "results"),
    "leak_guard_rejections_per_dialogue": ("Guard rej./dlg", 2, "behaviour"),
    "item_turn_share": ("Items/R turn", 2, "results"),
    "avg_turns": ("Turns", 1, "behaviour"),
    "avg_words_per_turn_user": ("Words/turn U", 1, "behaviour"),
    "avg_words_per_turn_recommender": ("Words/turn R", 1, "behaviour"),
    "distinct_1_user": ("Dist-1 U ↑", 3, "behaviour"),
    "distinct_1_recommender": ("Dist-1 R ↑", 3, "behaviour"),
    "distinct_2_user": ("Dist-2 U ↑", 3, "behaviour"),
    "distinct_2_recommender": ("Dist-2 R ↑", 3, "behaviour"),
    "realism_auc": ("AUC →0.5", 3, "results"),
    "turn_realism_auc_user": ("Turn AUC U →0.5", 3, "results"),
    "turn_realism_auc_recommender": ("Turn AUC R →0.5", 3, "results"),
    "outcome_accepted": ("Accepted", 0, "behaviour"),
    "outcome_gave_up": ("Gave up", 0, "behaviour"),
    "outcome_max_turns": ("Max turns", 0, "behaviour"),
    "outcome_leak_guard": ("Leak guard", 0, "behaviour"),
    "outcome_error": ("Error", 0, "behaviour"),
}


def table_columns(k_values: Sequence[int], table: str = "results") -> list[tuple[str, str, int]]:
    """``(metrics.json key, column header, digits)`` of ``table`` (one of :data:`TABLES`), in
    :func:`metric_keys` order; the behaviour table starts with N as well."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}: one of {', '.join(TABLES)}")
    columns = [("num_dialogues", "N", 0)] if table != "results" else []
    for key in metrics.metric_keys(k_values):
        if key.startswith("recall@") and table == "results":
            columns.append((key, f"R@{key.removeprefix('recall@')} ↑", 3))
        elif key in _COLUMNS and _COLUMNS[key][2] == table:
            header, digits, _ = _COLUMNS[key]
            columns.append((key, header, digits))
    return columns


def _cell(value: Any, digits: int) -> str:
    """A table cell: "–" (en dash) for a metric without a value (None; NaN as well)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if digits == 0:
        return str(int(value))
    return f"{float(value):.{digits}f}"


def results_table(
    results: Mapping[str, Mapping[str, Any]], k_values: Sequence[int], table: str = "results"
) -> str:
    """A Markdown table (``table`` of :data:`TABLES`): one row per system present, metrics as
    columns."""
    columns = table_columns(k_values, table)
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
    "recall_at_k": "Recall@k by k",
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
    turn_realism: Mapping[str, Mapping[str, TurnRealism]] | None = None,
    writer_training: Mapping[str, Any] | None = None,
    resampling: Resampling = Resampling(),
) -> str:
    """The whole report. ``systems`` (name -> dialogue rows) gives the "Example dialogues"
    section: ``examples_per_system`` per generated system, by :func:`choose_examples` with ``seed``,
    with ``titles`` (item_id -> title) naming the accepted and recommended items. ``turn_realism``
    (system -> role -> classifier) gives the "Realism" section's telling n-grams. Results with
    intervals (``<key>_ci``, ``vs_interplay``: :func:`.compute.with_intervals`, drawn as
    ``resampling`` says) add the "Intervals" and "Comparisons with Interplay" sections."""
    parts = [
        "# Evaluation",
        "",
        "Metrics as defined in the specification (\"Metrics\"), for the Interplay dialogues, the "
        "baselines and the real test dialogues. N: number of dialogues.",
        "",
        results_table(results, k_values),
        "",
        "Succ.: share of dialogues the user ended by accepting a recommended item: it wrote its "
        "accept marker (its decision, learned from the real seekers' labels) after a recommendation "
        "linked to the catalog; for the real dialogues, the share of seekers who accepted a "
        "recommendation by the corpus's labels (ReDial: liked a suggested movie they had not seen). "
        f"R@k: share of dialogues where a target item is among the first k distinct items the "
        "recommender named. Match: over dialogues with an accepted item, the mean share of target "
        "attribute fields (genres, decade, directors, actors; those the target has) the accepted "
        "item shares. Match≥½: share of dialogues (those whose target has attribute fields) that "
        "ended with an accepted item sharing at least half of those fields; a dialogue without an "
        "accepted item counts as a miss. Leak: share of dialogues where a published user turn names "
        f"a target title (normalized fuzzy match ≥ {threshold:g}) before the recommender mentioned "
        "it. It is measured after the leak guard, which resamples such turns, so it is 0 by "
        "construction for the guarded systems (Interplay, zero-shot) and says nothing about the "
        "user simulator; Leak tried does: the share of dialogues in which the guard rejected at "
        "least one user turn naming a target (– where no guard ran: the reference-dependent script "
        "is told its target). Items/R turn: share of recommender turns that name "
        f"a catalog item. AUC: {folds}-fold cross-validated ROC AUC of TF-IDF (word 1–2-grams) + "
        "logistic regression telling real test dialogues from the system's (0.5: "
        "indistinguishable). Turn AUC U / R: the same classifier on single turns of the user / "
        "recommender, real test turns against the system's turns of that role (see \"Realism\"). "
        "–: the metric does not apply to the system or has no data (Match without an accepted "
        "dialogue, R@k without targets, an AUC without two texts and two dialogues of each class); "
        "`null` in `reports/metrics.json`.",
        "",
        "On the real test dialogues, match scores, outcomes and the AUCs do not apply (no simulated "
        "ending, no accepted item; they are the classifiers' reference). Their recall@k and "
        "leakage use the seed profile of the same dialogue (those without a profile are left out: "
        f"{_profiled(results)}); since the targets are the items the real recommender suggested "
        "and the seeker liked, real recall is a ceiling by construction, not a competitor.",
        "",
        baselines_paragraph(writer_training),
        "",
        "## Behaviour",
        "",
        results_table(results, k_values, "behaviour"),
        "",
        "Turns: messages per dialogue. Words/turn: whitespace-separated words. Dist-n: unique / all "
        "word n-grams (lowercased tokens, within turns) per role (U: user, R: recommender). "
        "Guard rej./dlg: user turns the leak guard rejected (and resampled) per dialogue. "
        "Ended after rec.: share of dialogues the user ended, with either marker, after a linked "
        "recommendation (the old success rule, which read any such ending as acceptance). "
        "Accepted, Gave up, Max turns, Leak guard, Error: dialogues per outcome (accepted: the user "
        "ended with its accept marker after a linked recommendation; gave up: it ended otherwise, "
        "with its end marker or before anything linkable was recommended; max turns: the turn limit "
        "came first; leak guard: the user kept naming a target and the guard ended the dialogue; "
        "error: an empty, premature or repeated turn stopped it).",
    ]
    if any(interval_key(key) in values for values in results.values() for key in values):
        parts += ["", intervals_section(results, k_values, resampling)]
    if any("vs_interplay" in values for values in results.values()):
        parts += ["", comparisons_section(results, k_values, resampling)]
    if turn_realism:
        parts += ["", realism_section(turn_realism, folds=folds)]
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


def metric_label(key: str, k_values: Sequence[int]) -> str:
    """A metric as the tables head it (``Succ. ↑``), or its ``reports/metrics.json`` key in code."""
    headers = {k: h for table in TABLES for k, h, _ in table_columns(k_values, table)}
    return headers.get(key, f"`{key}`")


def _digits(key: str) -> int:
    if key.startswith("recall@"):
        return 3
    return _COLUMNS[key][1] if key in _COLUMNS else 0 if key.startswith(("num_", "outcome_")) else 3


def _with_interval(value: Any, interval: Sequence[float] | None, digits: int) -> str:
    """``0.422 [0.297, 0.547]``; the value alone without an interval; "–" without a value."""
    cell = _cell(value, digits)
    return cell if cell == "–" or interval is None else f"{cell} {format_interval(interval, digits)}"


def intervals_section(
    results: Mapping[str, Mapping[str, Any]], k_values: Sequence[int], resampling: Resampling
) -> str:
    """The "Intervals" section: every metric of every system with its bootstrap interval."""
    resamples, seed, confidence = resampling.resamples, resampling.seed, resampling.confidence
    names = [name for name in SYSTEMS if name in results]
    reasons: dict[str, list[str]] = {}
    for key, reason in NO_INTERVAL.items():
        reasons.setdefault(reason, []).append(metric_label(key, k_values))
    skipped = "; ".join(f"{', '.join(labels)}: {reason}" for reason, labels in reasons.items())
    lines = [
        "## Intervals",
        "",
        f"Each metric with its {confidence:.0%} bootstrap interval over dialogues: the system's dialogues drawn "
        f"with replacement {resamples} times (numpy seed {seed}, the same draws for every metric), the metric "
        "recomputed from the dialogues drawn (shares of turns and distinct-n pool the turns and n-grams of the "
        "dialogues drawn), the interval the central range of the results (resamples where the metric is "
        "undefined, such as Match without an accepted dialogue drawn, left out). Distinct-n: a dialogue drawn "
        "twice adds n-grams to the total but none new, so its resamples run low by construction; their spread "
        "is moved onto the estimate (an approximation) and kept inside [0, 1]. No interval: "
        f"{skipped}; and any metric without a value (–). Intervals are also in `reports/metrics.json` "
        "(`<metric>_ci` = [low, high], null where there is none).",
        "",
        "| Metric | " + " | ".join(LABELS[name] for name in names) + " |",
        "| --- | " + " | ".join("---:" for _ in names) + " |",
    ]
    for key in metrics.metric_keys(k_values):
        cells = [
            _with_interval(results[name].get(key), results[name].get(interval_key(key)), _digits(key))
            for name in names
        ]
        lines.append(f"| {metric_label(key, k_values)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparisons_section(
    results: Mapping[str, Mapping[str, Any]], k_values: Sequence[int], resampling: Resampling
) -> str:
    """The "Comparisons with Interplay" section: per baseline, which differences are significant
    in words, then every metric's paired comparison."""
    resamples, seed, confidence = resampling.resamples, resampling.seed, resampling.confidence
    significance = resampling.significance
    lines = [
        "## Comparisons with Interplay",
        "",
        "Each baseline against Interplay on the profiles both ran (paired by `profile_id`). Interplay, "
        "Baseline: the metric over those profiles only. Difference: Interplay minus the baseline, with its "
        f"{confidence:.0%} paired bootstrap interval (the shared profiles drawn with replacement {resamples} "
        f"times, numpy seed {seed}, each profile drawn with both systems' dialogues of it). p: two-sided paired "
        f"permutation test ({resamples} permutations, each swapping the two systems' dialogues of each profile "
        "with probability ½; p = (1 + permutations with a difference at least as large) / "
        f"(1 + {resamples}); exact, over all 2^m swap patterns of m shared profiles, where 2^m ≤ {resamples}: "
        f"with 4 profiles the smallest p is 2/16). Significant: p < {significance:g}, not adjusted for the "
        f"number of metrics compared: with M metrics about M × {significance:g} pass by chance where no "
        "difference is real. "
        "Where the interval and the test disagree (few dialogues with a value, e.g. Match over accepted "
        "dialogues only), the test decides. –: a system has no value on the shared profiles, or the metric "
        "has no interval (see \"Intervals\").",
    ]
    for name in BASELINES:
        block = (results.get(name) or {}).get("vs_interplay")
        if not block:
            continue
        records = {key: record for key, record in block.items() if isinstance(record, Mapping)}
        names = {key: metric_label(key, k_values) for key in records}
        lines += [
            "",
            f"### Interplay vs {LABELS[name]} ({block.get('shared_profiles', 0)} shared profiles)",
            "",
            significance_sentence(LABELS[name], records, significance, names),
            "",
            "| Metric | Interplay | Baseline | Difference | p | Significant |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for key, record in records.items():
            digits = _digits(key)
            significant = record.get("significant")
            cells = [
                _cell(record.get("interplay"), digits),
                _cell(record.get("baseline"), digits),
                _with_interval(record.get("difference"), record.get("difference_ci"), digits),
                format_p(record.get("p_value")),
                "–" if significant is None else "yes" if significant else "no",
            ]
            lines.append(f"| {names[key]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def baselines_paragraph(writer_training: Mapping[str, Any] | None) -> str:
    """What the two baselines are, with the trained writer's budget as its ``metrics.json`` says."""
    text = (
        "Baselines. Zero-shot: the untrained base model in both roles, with the roles' prompts. "
        "Reference-dependent (trained): the paper's \"traditional\" baseline as it would really be "
        "built: one writer, the base model with a LoRA adapter fine-tuned with the same recipe as "
        "the two roles on the same train dialogues (both sides of each, message by message, told "
        "the first target title; stage `finetune_script`), writing both sides of each dialogue."
    )
    if not writer_training:
        return text + " Its training record (`models/script/metrics.json`) is missing."
    steps, examples = writer_training.get("train_steps"), writer_training.get("train_examples")
    before, after = writer_training.get("validation_loss_before"), writer_training.get("validation_loss_after")
    budget = f" Its training budget: {steps} optimizer steps over {examples} training examples"
    if isinstance(before, (int, float)) and isinstance(after, (int, float)):
        budget += f" (validation loss {before:.3f} before, {after:.3f} after)"
    return text + budget + "; the two roles' own budgets are in `models/{user,recommender}/metrics.json`."


def realism_section(turn_realism: Mapping[str, Mapping[str, TurnRealism]], *, folds: int) -> str:
    """The "Realism" section: how the turn-level AUC is measured, and per generated system and
    role the n-grams that weigh most towards each class."""
    lines = [
        "## Realism",
        "",
        "The dialogue-level AUC tells every small-model system apart from real dialogues almost "
        "perfectly, so it cannot rank them; single turns carry far less evidence. Per role, the "
        "turn-level classifier (TF-IDF word 1–2-grams + logistic regression) separates real test "
        "turns from the system's turns of that role: both classes have the same number of turns "
        "(the larger sampled with the seed), folds "
        f"({folds}, fewer when a class has fewer dialogues) are grouped by dialogue so that no "
        "dialogue is on both sides of a split, and turns empty after stripping control text are "
        "left out. Control text (the end marker in any spelling, `[Candidates: …]` and `[About …]` "
        "notes) is stripped from every text before any realism measure. Below, the n-grams with "
        "the largest weights each way in the classifier refitted on all turns: what gives the "
        "system's turns away, and what real turns have that the system's lack.",
        "",
        "| System | Role | Turns/class | Turn AUC | Most telling: generated | Most telling: real |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    for name in GENERATED:
        for role in metrics.ROLES:
            realism = (turn_realism.get(name) or {}).get(role)
            if realism is None:
                continue
            lines.append(
                f"| {LABELS[name]} | {role} | {realism.turns_per_class} | {_cell(realism.auc, 3)} | "
                f"{_ngrams(realism.generated_features)} | {_ngrams(realism.real_features)} |"
            )
    return "\n".join(lines)


def _ngrams(features: Sequence[str]) -> str:
    """``a``, ``b c``: n-grams as code (TF-IDF tokens are word characters, nothing to escape)."""
    return ", ".join(f"`{f}`" for f in features) if features else "–"


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
    systems: Mapping[str, Sequence[Row]],
    results: Mapping[str, Mapping[str, Any]],
    out_dir: Path,
    k_max: int = 10,
) -> list[Path]:
    """The figures of :data:`FIGURES`, one PNG each under ``out_dir``; recall@k is drawn for
    k = 1 … ``k_max``."""
    import matplotlib

    matplotlib.use("Agg")
    with matplotlib.rc_context({"font.size": 9}):
        names = [s for s in SYSTEMS if s in systems]
        paths = []
        paths.append(_recall_figure(systems, names, k_max, out_dir / "recall_at_k.png"))
        paths.append(_turns_figure(systems, names, out_dir / "turns_per_dialogue.png"))
        paths.append(_words_figure(systems, names, out_dir / "words_per_turn.png"))
        paths.append(_outcomes_figure(systems, out_dir / "outcomes.png"))
        paths.append(_distinct_figure(results, names, out_dir / "distinct_n.png"))
    return paths


def _recall_figure(systems: Mapping[str, Sequence[Row]], names: list[str], k_max: int, path: Path) -> Path:
    """recall@k for k = 1 … ``k_max`` per system (the real dialogues dashed: a ceiling by
    construction); a system without targets has no curve."""
    fig = _figure()
    ax = fig.add_subplot()
    ks = list(range(1, max(k_max, 1) + 1))
    drawn = False
    for name in names:
        rows = systems[name]
        curve = [metrics.recall_at_k(rows, k) for k in ks]
        if any(v is None for v in curve):
            continue
        with_targets = sum(1 for r in rows if r.get("target_item_ids"))
        ax.plot(ks, curve, color=_COLORS[name], marker="o", markersize=3,
                linestyle="--" if name == "real" else "-", label=f"{LABELS[name]} (n={with_targets})")
        drawn = True
    if len(ks) <= 20:  # one tick per k while they fit
        ax.set_xticks(ks)
    ax.set_xlim(0.5, ks[-1] + 0.5)
    ax.set_ylim(-0.02, 1.02)  # a curve at 0 or 1 stays visible
    ax.set_xlabel("k (first k distinct items the recommender named)")
    ax.set_ylabel("share of dialogues with a target among them")
    ax.set_title("Recall@k by k")
    if drawn:
        ax.legend(frameon=False, loc="center right")
    _save(fig, path)
    return path


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
    palette = {"accepted": "#009e73", "gave_up": "#e69f00", "max_turns": "#56b4e9", "leak_guard": "#cc79a7",
               "error": "#d55e00"}
    for y, name in enumerate(names):
        rows = systems[name]
        left = 0.0
        for outcome in metrics.OUTCOME_CLASSES:
            share = sum(metrics.outcome_class(r) == outcome for r in rows) / len(rows) if rows else 0.0
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
