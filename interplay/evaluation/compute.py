"""Every SPEC metric for each system: Interplay, the two baselines and the real test dialogues.

Which metrics apply to the real test dialogues (documented in the report):

- ``distinct_*``, ``avg_turns``, ``avg_words_per_turn_*``, ``duplicate_turn_ratio``: yes;
- ``recall@k``, ``leakage_rate``: yes, against the seed profile derived from the same dialogue
  (dialogues without a profile are left out). Real recall is high by construction, since the
  targets *are* the items the real recommender suggested and the seeker liked: it is a ceiling,
  not a competitor;
- ``success_rate``, ``match_score``: no (real dialogues have no outcome / accepted item);
- ``realism_auc``: no (the real dialogues are the reference the classifier separates from).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from interplay import metrics

Row = Mapping[str, Any]

#: Systems in table order: the reference first, ours last (as in a paper's results table).
SYSTEMS: tuple[str, ...] = ("real", "zero_shot", "reference_dependent", "interplay")
GENERATED: tuple[str, ...] = ("zero_shot", "reference_dependent", "interplay")
LABELS: dict[str, str] = {
    "real": "Real (test)",
    "zero_shot": "Zero-shot",
    "reference_dependent": "Reference-dependent",
    "interplay": "Interplay (ours)",
}


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def text_metrics(rows: Sequence[Row]) -> dict[str, float | None]:
    """Metrics of the text alone (apply to every system, real included)."""
    out: dict[str, float | None] = {"avg_turns": metrics.avg_turns(rows)}
    for role in metrics.ROLES:
        turns = metrics.role_turns(rows, role)
        out[f"avg_words_per_turn_{role}"] = metrics.avg_words_per_turn(rows, role)
        out[f"distinct_1_{role}"] = metrics.distinct_n(turns, 1)
        out[f"distinct_2_{role}"] = metrics.distinct_n(turns, 2)
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
) -> dict[str, float | int]:
    """All metrics that apply to one system; those that do not apply (or are undefined) are left out.

    ``items`` is the catalog's metadata (item_id -> fields); None (no catalog) leaves
    ``match_score`` out.
    """
    values: dict[str, float | None] = {}
    if generated:
        values["success_rate"] = metrics.success_rate(rows)
    for k in k_values:
        values[f"recall@{k}"] = metrics.recall_at_k(rows, k)
    if generated and items is not None:
        values["match_score"] = metrics.mean_match_score(rows, items)
    values["leakage_rate"] = metrics.leakage_rate(rows, threshold)
    values.update(text_metrics(rows))
    if generated:
        values["realism_auc"] = realism
    out: dict[str, float | int] = {"num_dialogues": len(rows)}
    if not generated:
        out["num_with_profile"] = sum(1 for r in rows if r.get("target_item_ids"))
    out.update({k: _round(v) for k, v in values.items() if v is not None})
    return out


def _sample(texts: list[str], limit: int | None, seed: int) -> list[str]:
    if limit is None or len(texts) <= limit:
        return texts
    return random.Random(seed).sample(texts, limit)


def evaluate_systems(
    systems: Mapping[str, Sequence[Row]],
    *,
    items: Mapping[str, Mapping[str, Any]] | None,
    k_values: Sequence[int] = (1, 5, 10),
    threshold: float = 90.0,
    folds: int = 5,
    max_per_class: int | None = 2000,
    seed: int = 13,
) -> dict[str, dict[str, float | int]]:
    """``system -> metrics`` for the systems present, in :data:`SYSTEMS` order."""
    real_rows = systems.get("real") or []
    real_texts = _sample([metrics.render_dialogue(r) for r in real_rows], max_per_class, seed)
    results: dict[str, dict[str, float | int]] = {}
    for name in SYSTEMS:
        if name not in systems:
            continue
        rows = systems[name]
        generated = name != "real"
        realism = None
        if generated:
            texts = _sample([metrics.render_dialogue(r) for r in rows], max_per_class, seed)
            realism = metrics.realism_auc(real_texts, texts, folds=folds, seed=seed)
        results[name] = system_metrics(
            rows,
            generated=generated,
            items=items,
            k_values=k_values,
            threshold=threshold,
            realism=realism,
        )
    return results
