"""Every SPEC metric for each system: Interplay, the two baselines and the real test dialogues.

Which metrics apply to the real test dialogues (documented in the report):

- ``distinct_*``, ``avg_turns``, ``avg_words_per_turn_*``, ``duplicate_turn_ratio``: yes;
- ``recall@k``, ``leakage_rate``: yes, against the seed profile derived from the same dialogue
  (dialogues without a profile are left out). Real recall is high by construction, since the
  targets *are* the items the real recommender suggested and the seeker liked: it is a ceiling,
  not a competitor;
- ``success_rate``: the share of real seekers who accepted a recommendation by the corpus's labels
  (ReDial's questionnaire), the reference for the simulated user's decision;
- ``ended_after_recommendation_rate``, ``match_score``, ``half_match_rate``, ``outcome_*``: no (real
  dialogues have no simulated ending / accepted item);
- ``realism_auc``, ``turn_realism_auc_*``: no (the real dialogues are the reference the
  classifiers separate from; see :mod:`.realism`).

Every system still has every key of :func:`interplay.dialogue.metrics.metric_keys`: one that does not apply
or has no data is None (``null`` in ``reports/metrics.json``, "–" in the report's table).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np

from interplay.dialogue import metrics
from interplay.evaluation.intervals import (
    Distinct,
    Ratio,
    Resampling,
    Statistic,
    bootstrap_interval,
    comparison_record,
    paired_comparison,
    rounded,
)
from interplay.evaluation.realism import TurnRealism, dialogue_text, realism_auc, role_turns, turn_realism
from interplay.text.end_marker import DEFAULT_MARKERS

Row = Mapping[str, Any]

#: Systems in table order: the reference first, ours last (as in a paper's results table).
SYSTEMS: tuple[str, ...] = ("real", "zero_shot", "reference_dependent", "interplay")
GENERATED: tuple[str, ...] = ("zero_shot", "reference_dependent", "interplay")
#: The systems compared with Interplay, profile by profile.
BASELINES: tuple[str, ...] = ("zero_shot", "reference_dependent")
LABELS: dict[str, str] = {
    "real": "Real (test)",
    "zero_shot": "Zero-shot",
    "reference_dependent": "Reference-dependent (trained)",
    "interplay": "Interplay (ours)",
}


Value = float | int | None


def _clean(value: Value, digits: int = 4) -> Value:
    """A reported value: counts as ``int``, rates rounded; None for no value and for NaN/inf."""
    if value is None:
        return None
    if isinstance(value, int):
        return int(value)
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def metric_functions(
    *,
    generated: bool,
    items: Mapping[str, Mapping[str, Any]] | None,
    k_values: Sequence[int] = (1, 5, 10),
    threshold: float = 90.0,
) -> dict[str, Callable[[Sequence[Row]], Value]]:
    """Key -> the function of a system's rows that gives it, for every key of
    :func:`interplay.dialogue.metrics.metric_keys` that applies (see :func:`system_metrics`) but
    the realism AUCs: one definition for the point estimate and every resample of it."""
    functions: dict[str, Callable[[Sequence[Row]], Value]] = {
        "num_dialogues": len,
        "num_with_profile": lambda rows: sum(1 for r in rows if r.get("target_item_ids")),
    }
    if generated:
        functions["success_rate"] = metrics.success_rate
        functions["ended_after_recommendation_rate"] = metrics.ended_after_recommendation_rate
    else:
        functions["success_rate"] = metrics.real_acceptance_rate
    for k in k_values:
        functions[f"recall@{k}"] = partial(metrics.recall_at_k, k=k)
    if generated and items is not None:
        functions["match_score"] = partial(metrics.mean_match_score, items=items)
        functions["half_match_rate"] = partial(metrics.half_match_rate, items=items)
    functions["leakage_rate"] = partial(metrics.leakage_rate, threshold=threshold)
    if generated:
        functions["leak_attempt_rate"] = metrics.leak_attempt_rate
        functions["leak_guard_rejections_per_dialogue"] = metrics.leak_guard_rejections_per_dialogue
    functions["item_turn_share"] = metrics.item_turn_share
    functions["avg_turns"] = metrics.avg_turns
    for role in metrics.ROLES:
        functions[f"avg_words_per_turn_{role}"] = partial(metrics.avg_words_per_turn, role=role)
        for n in metrics.DISTINCT_N:
            functions[f"distinct_{n}_{role}"] = partial(_distinct, role=role, n=n)
    functions["duplicate_turn_ratio"] = metrics.duplicate_turn_ratio
    if generated:
        for outcome in metrics.OUTCOME_CLASSES:
            functions[f"outcome_{outcome}"] = partial(_outcome_count, outcome=outcome)
    return functions


def _distinct(rows: Sequence[Row], role: str, n: int) -> float | None:
    return metrics.distinct_n(metrics.role_turns(rows, role), n)


def _outcome_count(rows: Sequence[Row], outcome: str) -> int:
    return metrics.outcome_counts(rows)[outcome]


def system_metrics(
    rows: Sequence[Row],
    *,
    generated: bool,
    items: Mapping[str, Mapping[str, Any]] | None,
    k_values: Sequence[int] = (1, 5, 10),
    threshold: float = 90.0,
    realism: float | None = None,
    turn_realism: Mapping[str, float | None] | None = None,
) -> dict[str, Value]:
    """Every key of :func:`interplay.dialogue.metrics.metric_keys`, in that order, for one system.

    A metric that does not apply (``match_score``, outcome counts and realism of the real
    dialogues) or has no data (``match_score`` without an accepted dialogue or without a
    catalog, i.e. ``items`` None; ``recall@k`` without targets; a realism AUC when a class is too
    small) is None, never NaN and never left out. ``realism`` is the dialogue-level AUC,
    ``turn_realism`` role -> turn-level AUC (see :mod:`.realism`).
    """
    functions = metric_functions(generated=generated, items=items, k_values=k_values, threshold=threshold)
    values: dict[str, Value] = {key: function(rows) for key, function in functions.items()}
    if generated:
        values["realism_auc"] = realism
        for role, auc in (turn_realism or {}).items():
            values[f"turn_realism_auc_{role}"] = auc
    keys = metrics.metric_keys(k_values)
    undeclared = sorted(set(values) - set(keys))
    if undeclared:  # a new metric must be declared in metric_keys, or it would vanish here
        raise KeyError(f"metrics not declared in interplay.dialogue.metrics.metric_keys: {undeclared}")
    return {key: _clean(values.get(key)) for key in keys}


def _sample(texts: list[str], limit: int | None, seed: int) -> list[str]:
    if limit is None or len(texts) <= limit:
        return texts
    return random.Random(seed).sample(texts, limit)


def turn_realism_by_system(
    systems: Mapping[str, Sequence[Row]],
    *,
    folds: int = 5,
    max_per_class: int | None = 2000,
    seed: int = 13,
    markers: Sequence[str] = DEFAULT_MARKERS,
) -> dict[str, dict[str, TurnRealism]]:
    """``system -> role -> turn-level classifier`` for each generated system present, against the
    real test turns of the same role (see :func:`.realism.turn_realism`)."""
    real_rows = systems.get("real") or []
    real = {role: role_turns(real_rows, role, markers) for role in metrics.ROLES}
    return {
        name: {
            role: turn_realism(
                real[role],
                role_turns(systems[name], role, markers),
                folds=folds,
                seed=seed,
                max_per_class=max_per_class,
            )
            for role in metrics.ROLES
        }
        for name in GENERATED
        if name in systems
    }


def evaluate_systems(
    systems: Mapping[str, Sequence[Row]],
    *,
    items: Mapping[str, Mapping[str, Any]] | None,
    k_values: Sequence[int] = (1, 5, 10),
    threshold: float = 90.0,
    folds: int = 5,
    max_per_class: int | None = 2000,
    seed: int = 13,
    markers: Sequence[str] = DEFAULT_MARKERS,
    turn_realism: Mapping[str, Mapping[str, TurnRealism]] | None = None,
) -> dict[str, dict[str, Value]]:
    """``system -> metrics`` for the systems present, in :data:`SYSTEMS` order; every system has
    every key of :func:`interplay.dialogue.metrics.metric_keys` (None where a metric has no value).

    ``turn_realism`` is :func:`turn_realism_by_system` of the same systems when the caller has it
    (the report shows its features), computed here otherwise."""
    if turn_realism is None:
        turn_realism = turn_realism_by_system(
            systems, folds=folds, max_per_class=max_per_class, seed=seed, markers=markers
        )
    real_rows = systems.get("real") or []
    real_texts = _sample([dialogue_text(r, markers) for r in real_rows], max_per_class, seed)
    results: dict[str, dict[str, Value]] = {}
    for name in SYSTEMS:
        if name not in systems:
            continue
        rows = systems[name]
        generated = name != "real"
        realism = None
        if generated:
            texts = _sample([dialogue_text(r, markers) for r in rows], max_per_class, seed)
            realism = realism_auc(real_texts, texts, folds=folds, seed=seed)
        results[name] = system_metrics(
            rows,
            generated=generated,
            items=items,
            k_values=k_values,
            threshold=threshold,
            realism=realism,
            turn_realism={role: r.auc for role, r in turn_realism.get(name, {}).items()},
        )
    return results


# --- intervals and paired comparisons (see :mod:`.intervals`) ------------------------------------

#: Metrics without an interval or comparison, and why (the report's legend says it). The realism
#: classifiers of the default run's dialogues (commit 260923d, 2 cores) took 2.3 s for the six
#: turn-level ones and 11.8 s for the three dialogue-level ones: 1000 resamples would add about
#: 40 min and 3 h to the evaluate stage, which takes 35 s.
NO_INTERVAL: dict[str, str] = {
    "num_dialogues": "the sample size, fixed by the run's design, not an estimate",
    "realism_auc": "too costly: the cross-validated classifier would be refitted on every resample",
    **{
        f"turn_realism_auc_{role}": "too costly: the cross-validated classifier would be refitted on every resample"
        for role in metrics.ROLES
    },
}
def _role_turn_count(row: Row, role: str) -> int:
    return len(metrics.role_turns([row], role))


#: Counts of dialogues: resampled as weighted sums, not as shares.
_COUNTS: tuple[str, ...] = ("num_with_profile", *(f"outcome_{o}" for o in metrics.OUTCOME_CLASSES))
#: Metrics pooled over turns, not dialogues: key -> how many turns of a dialogue its value is over.
_TURNS: dict[str, Callable[[Row], int]] = {
    "item_turn_share": lambda row: sum(1 for m in metrics.messages_of(row) if m.get("role") == "recommender"),
    "duplicate_turn_ratio": lambda row: len(metrics.messages_of(row)),
    **{f"avg_words_per_turn_{role}": partial(_role_turn_count, role=role) for role in metrics.ROLES},
}
_DISTINCT: dict[str, tuple[int, str]] = {
    f"distinct_{n}_{role}": (n, role) for n in metrics.DISTINCT_N for role in metrics.ROLES
}
#: Metrics of a run's design, never compared: both systems ran the same shared profiles.
_NOT_COMPARED: tuple[str, ...] = ("num_dialogues", "num_with_profile")


def statistic(key: str, function: Callable[[Sequence[Row]], Value], units: Sequence[Sequence[Row]]) -> Statistic:
    """``key`` over ``units`` (groups of rows: a dialogue each, or one profile's dialogues) as a
    resamplable :mod:`.intervals` statistic, built from ``function`` on each row alone (so it follows
    the metric's own definition): a count sums, a share of turns pools its turns, distinct-n pools
    n-grams, every other metric is a mean over the dialogues it has a value for. Raises when the
    statistic on all units does not give ``function`` of all rows (a metric of another kind)."""
    if key in _DISTINCT:
        n, role = _DISTINCT[key]
        stat: Statistic = Distinct.from_units(
            [[g for text in metrics.role_turns(unit, role) for g in metrics.ngrams(metrics.tokenize(text), n)]
             for unit in units]
        )
    else:
        parts = [[_row_part(key, function, row) for row in unit] for unit in units]
        num = np.asarray([sum(p[0] for p in unit) for unit in parts], dtype=float)
        den = np.asarray([sum(p[1] for p in unit) for unit in parts], dtype=float)
        stat = Ratio(num, None if key in _COUNTS else den)
    expected = function([row for unit in units for row in unit])
    got = float(stat.evaluate(np.ones((1, stat.units)))[0]) if stat.units else math.nan
    same = (expected is None and not math.isfinite(got)) or (
        expected is not None and math.isfinite(got) and math.isclose(got, float(expected), rel_tol=1e-9, abs_tol=1e-9)
    )
    if not same:
        raise ValueError(
            f"interplay.evaluation.compute.statistic: {key} resampled gives {got} on all dialogues, the metric "
            f"{expected}: declare how it pools (a count, turns or n-grams) in compute.py"
        )
    return stat


def _row_part(key: str, function: Callable[[Sequence[Row]], Value], row: Row) -> tuple[float, float]:
    """(numerator, denominator) a dialogue adds to ``key``'s pooled value."""
    value = function([row])
    if value is None:
        return 0.0, 0.0
    weight = float(_TURNS[key](row)) if key in _TURNS else 1.0
    return float(value) * weight, weight


def system_intervals(
    rows: Sequence[Row],
    functions: Mapping[str, Callable[[Sequence[Row]], Value]],
    k_values: Sequence[int] = (1, 5, 10),
    resampling: Resampling = Resampling(),
) -> dict[str, list[float] | None]:
    """Key -> ``[low, high]``, the bootstrap interval over the system's dialogues, for every key of
    :func:`interplay.dialogue.metrics.metric_keys`; None where the metric has no value, no function
    (:func:`metric_functions`) or is in :data:`NO_INTERVAL`. Every metric draws the same resamples."""
    units = [[row] for row in rows]
    out: dict[str, list[float] | None] = {}
    for key in metrics.metric_keys(k_values):
        function = functions.get(key)
        if function is None or key in NO_INTERVAL:
            out[key] = None
            continue
        stat = statistic(key, function, units)
        interval = bootstrap_interval(
            stat, resamples=resampling.resamples, seed=resampling.seed, confidence=resampling.confidence
        )
        out[key] = rounded(interval)
    return out


def by_profile(rows: Sequence[Row]) -> dict[str, list[Row]]:
    """profile_id -> its rows, in row order (rows without a profile left out)."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        if row.get("profile_id"):
            groups.setdefault(str(row["profile_id"]), []).append(row)
    return groups


def paired_comparisons(
    ours: Sequence[Row],
    theirs: Sequence[Row],
    functions: Mapping[str, Callable[[Sequence[Row]], Value]],
    k_values: Sequence[int] = (1, 5, 10),
    resampling: Resampling = Resampling(),
) -> dict[str, Any]:
    """Interplay (``ours``) against a baseline over the profiles both ran: ``shared_profiles``,
    the ``significance`` level the records' ``significant`` is decided at, then per metric the
    record of :func:`.intervals.comparison_record` (all null where either has no value or the
    metric is in :data:`NO_INTERVAL`)."""
    mine, other = by_profile(ours), by_profile(theirs)
    shared = sorted(set(mine) & set(other))
    units = [mine[p] for p in shared] + [other[p] for p in shared]
    block: dict[str, Any] = {"shared_profiles": len(shared), "significance": resampling.significance}
    for key in metrics.metric_keys(k_values):
        if key in _NOT_COMPARED:
            continue
        function = functions.get(key)
        comparison = None
        if function is not None and key not in NO_INTERVAL and shared:
            comparison = paired_comparison(
                statistic(key, function, units),
                resamples=resampling.resamples,
                seed=resampling.seed,
                confidence=resampling.confidence,
            )
        block[key] = comparison_record(comparison, resampling.significance)
    return block


def with_intervals(
    results: Mapping[str, Mapping[str, Value]],
    systems: Mapping[str, Sequence[Row]],
    *,
    items: Mapping[str, Mapping[str, Any]] | None,
    k_values: Sequence[int] = (1, 5, 10),
    threshold: float = 90.0,
    resampling: Resampling = Resampling(),
) -> dict[str, dict[str, Any]]:
    """``results`` (of :func:`evaluate_systems`) with ``<key>_ci`` after each metric and, for each
    baseline run beside Interplay, ``vs_interplay`` (:func:`paired_comparisons`)."""
    out: dict[str, dict[str, Any]] = {}
    for name, values in results.items():
        functions = metric_functions(generated=name != "real", items=items, k_values=k_values, threshold=threshold)
        cis = system_intervals(systems[name], functions, k_values, resampling)
        entry: dict[str, Any] = {}
        for key, value in values.items():
            entry[key] = value
            entry[interval_key(key)] = cis.get(key)
        if name in BASELINES and "interplay" in systems:
            ours = systems["interplay"]
            entry["vs_interplay"] = paired_comparisons(ours, systems[name], functions, k_values, resampling)
        out[name] = entry
    return out


def interval_key(key: str) -> str:
    """The ``reports/metrics.json`` key of ``key``'s interval."""
    return f"{key}_ci"
