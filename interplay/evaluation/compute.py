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
from collections.abc import Mapping, Sequence
from typing import Any

from interplay.dialogue import metrics
from interplay.evaluation.realism import TurnRealism, dialogue_text, realism_auc, role_turns, turn_realism
from interplay.text.end_marker import DEFAULT_MARKERS

Row = Mapping[str, Any]

#: Systems in table order: the reference first, ours last (as in a paper's results table).
SYSTEMS: tuple[str, ...] = ("real", "zero_shot", "reference_dependent", "interplay")
GENERATED: tuple[str, ...] = ("zero_shot", "reference_dependent", "interplay")
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


def text_metrics(rows: Sequence[Row]) -> dict[str, float | None]:
    """Metrics of the text alone (apply to every system, real included)."""
    out: dict[str, float | None] = {"avg_turns": metrics.avg_turns(rows)}
    for role in metrics.ROLES:
        turns = metrics.role_turns(rows, role)
        out[f"avg_words_per_turn_{role}"] = metrics.avg_words_per_turn(rows, role)
        for n in metrics.DISTINCT_N:
            out[f"distinct_{n}_{role}"] = metrics.distinct_n(turns, n)
    out["duplicate_turn_ratio"] = metrics.duplicate_turn_ratio(rows)
    return out


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
    values: dict[str, Value] = {
        "num_dialogues": len(rows),
        "num_with_profile": sum(1 for r in rows if r.get("target_item_ids")),
    }
    if generated:
        values["success_rate"] = metrics.success_rate(rows)
        values["ended_after_recommendation_rate"] = metrics.ended_after_recommendation_rate(rows)
    else:
        values["success_rate"] = metrics.real_acceptance_rate(rows)
    for k in k_values:
        values[f"recall@{k}"] = metrics.recall_at_k(rows, k)
    if generated and items is not None:
        values["match_score"] = metrics.mean_match_score(rows, items)
        values["half_match_rate"] = metrics.half_match_rate(rows, items)
    values["leakage_rate"] = metrics.leakage_rate(rows, threshold)
    if generated:
        values["leak_attempt_rate"] = metrics.leak_attempt_rate(rows)
        values["leak_guard_rejections_per_dialogue"] = metrics.leak_guard_rejections_per_dialogue(rows)
    values["item_turn_share"] = metrics.item_turn_share(rows)
    values.update(text_metrics(rows))
    if generated:
        values["realism_auc"] = realism
        for role, auc in (turn_realism or {}).items():
            values[f"turn_realism_auc_{role}"] = auc
        for outcome, count in metrics.outcome_counts(rows).items():
            values[f"outcome_{outcome}"] = count
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
