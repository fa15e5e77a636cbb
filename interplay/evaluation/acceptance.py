"""How well the user simulator's decision matches real seekers' decisions on real endings.

The simulated user states its decision with a marker (:mod:`interplay.text.end_marker`): the
accept marker when it takes a recommended movie, the end marker when it leaves without one. That
decision is what ``success_rate`` counts, so it has to mean what a real seeker would have decided.
The check: take real held-out dialogues whose seekers' decision the corpus records
(``Dialogue.seeker_accepted``), give the trained user model each one up to its seeker's last
words, exactly as the user's training examples are built, and ask which marker it finds more
likely after them. Precision and recall of "accept" against the real labels, with bootstrap
intervals over dialogues, say how far its stated decisions can be trusted; the always-accept rule
(the majority class) is reported beside it, so a model that learned only the prior shows as such.

Pure: the model's log-probabilities come in as numbers (``benchmarks/bench_acceptance.py`` scores
them); this module builds the examples and computes the figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from interplay.corpus.schema import Dialogue
from interplay.dialogue.rows import ChatMessage
from interplay.evaluation.intervals import Ratio, bootstrap_interval
from interplay.preprocess.profiles import Profile
from interplay.preprocess.sft import user_example
from interplay.text.end_marker import strip_markers


@dataclass(frozen=True)
class Ending:
    """One real dialogue's ending: the user's chat up to its last words (marker removed), and
    what the real seeker decided."""

    dialogue_id: str
    chat: list[ChatMessage]
    accepted: bool


def endings(
    dialogues: Sequence[Dialogue],
    profiles: Mapping[str, Profile],
    end_marker: str,
    accept_marker: str,
    notes: Mapping[str, dict[int, str]] | None = None,
) -> list[Ending]:
    """The endings of ``dialogues`` that have a seed profile and a recorded decision, each built
    as its user-simulator training example (:func:`interplay.preprocess.sft.user_example`) with
    the closing marker taken off the last message."""
    found: list[Ending] = []
    for dialogue in dialogues:
        profile = profiles.get(dialogue.dialogue_id)
        if profile is None or dialogue.seeker_accepted is None:
            continue
        example = user_example(
            dialogue, profile, end_marker, accept_marker, (notes or {}).get(dialogue.dialogue_id)
        )
        if example is None:
            continue
        *head, last = example
        content, _ = strip_markers(last["content"], end_marker, accept_marker)
        found.append(Ending(dialogue.dialogue_id, [*head, {"role": last["role"], "content": content}], dialogue.seeker_accepted))
    return found


def _rate_statistics(predicted: Sequence[bool], actual: Sequence[bool]) -> dict[str, Ratio]:
    """Precision, recall and accuracy of "accept" as ratios over endings (the units resampled)."""
    p = np.asarray(predicted, dtype=float)
    a = np.asarray(actual, dtype=float)
    return {
        "precision": Ratio(p * a, p),
        "recall": Ratio(p * a, a),
        "accuracy": Ratio((p == a).astype(float), np.ones_like(p)),
    }


def _with_intervals(predicted: Sequence[bool], actual: Sequence[bool], resamples: int, seed: int) -> dict:
    out: dict[str, object] = {}
    for key, stat in _rate_statistics(predicted, actual).items():
        value = float(stat.evaluate(np.ones((1, stat.units)))[0]) if stat.units else math.nan
        out[key] = value if math.isfinite(value) else None
        interval = bootstrap_interval(stat, resamples=resamples, seed=seed) if stat.units else None
        out[f"{key}_ci"] = list(interval) if interval else None
    return out


def decision_figures(
    predicted: Sequence[bool], actual: Sequence[bool], resamples: int = 1000, seed: int = 13
) -> dict[str, object]:
    """Precision, recall and accuracy of the predicted "accept" decisions, each with a 95%
    bootstrap interval over dialogues (:mod:`interplay.evaluation.intervals`, fixed ``seed``), and
    the same for always accepting."""
    if len(predicted) != len(actual):
        raise ValueError("one prediction per ending")
    return {
        "endings": len(actual),
        "accepted_share": sum(actual) / len(actual) if actual else None,
        "predicted_accept_share": sum(predicted) / len(predicted) if predicted else None,
        "model": _with_intervals(predicted, actual, resamples, seed),
        "always_accept": _with_intervals([True] * len(actual), actual, resamples, seed),
    }
