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

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from interplay.corpus.schema import Dialogue
from interplay.dialogue.rows import ChatMessage
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


def _rates(pairs: Sequence[tuple[bool, bool]]) -> dict[str, float | None]:
    """``(predicted, actual)`` pairs -> precision, recall, accuracy of "accept" (None: undefined)."""
    tp = sum(1 for p, a in pairs if p and a)
    predicted = sum(1 for p, _ in pairs if p)
    actual = sum(1 for _, a in pairs if a)
    return {
        "precision": tp / predicted if predicted else None,
        "recall": tp / actual if actual else None,
        "accuracy": sum(1 for p, a in pairs if p == a) / len(pairs) if pairs else None,
    }


def decision_figures(
    predicted: Sequence[bool], actual: Sequence[bool], resamples: int = 1000, seed: int = 13
) -> dict[str, object]:
    """Precision, recall and accuracy of the predicted "accept" decisions, each with a 95%
    bootstrap interval over dialogues (fixed ``seed``), and the same for always accepting."""
    if len(predicted) != len(actual):
        raise ValueError("one prediction per ending")
    pairs = list(zip(predicted, actual))
    rng = random.Random(seed)
    draws = [[pairs[rng.randrange(len(pairs))] for _ in pairs] for _ in range(resamples)] if pairs else []

    def with_intervals(rows: Sequence[tuple[bool, bool]], resampled: list[list[tuple[bool, bool]]]) -> dict:
        point = _rates(rows)
        out: dict[str, object] = {}
        for key, value in point.items():
            values = sorted(v for d in resampled if (v := _rates(d)[key]) is not None)
            low = values[int(0.025 * (len(values) - 1))] if values else None
            high = values[int(0.975 * (len(values) - 1))] if values else None
            out[key] = value
            out[f"{key}_ci"] = [low, high] if values else None
        return out

    always = [(True, a) for _, a in pairs]
    return {
        "endings": len(pairs),
        "accepted_share": sum(actual) / len(actual) if actual else None,
        "predicted_accept_share": sum(predicted) / len(predicted) if predicted else None,
        "model": with_intervals(pairs, draws),
        "always_accept": with_intervals(always, [[(True, a) for _, a in d] for d in draws]),
    }
