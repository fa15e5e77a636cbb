"""Realism: how well a classifier tells a system's text from the real test dialogues.

Two levels, one classifier (TF-IDF word 1–2-grams + logistic regression, cross-validated ROC AUC;
0.5: indistinguishable):

- **dialogue level** (SPEC ``realism_auc``): one text per dialogue. A whole generated dialogue
  differs from a real one in so many ways at once (length, openings, closings, wording) that a
  small model's dialogues are told apart every time: the AUC saturates at 1.0 and ranks no system
  above another;
- **turn level, per role** (``turn_realism_auc_<role>``): one text per turn, real test turns of a
  role against the system's turns of that role. A single turn carries far less evidence, so the
  AUC still separates systems, and the classifier's heaviest n-grams each way
  (:attr:`TurnRealism.generated_features`, :attr:`TurnRealism.real_features`) say what gives a
  system's turns away.

Rules of the turn level, each for a reason:

- both classes get the same number of turns (the larger one sampled with the seed, at most
  ``max_per_class`` each), so the AUC does not lean on class sizes that differ by 100x;
- folds are grouped by dialogue (``StratifiedGroupKFold``): turns of one dialogue are never on
  both sides of a split, so the classifier must learn a system's style, not one conversation's
  titles;
- turns empty after stripping control text are left out (nothing to classify).

Control text is never evidence: the user's markers (any spelling, :mod:`interplay.text.end_marker`) and
grounding notes (``[Candidates: …]``, ``[About …]``, ``[For you: …]``, :mod:`interplay.grounding.notes`) are stripped
from every text first. Notes are kept out of published messages already; the stripping is the
defence for a row that still has one, since real dialogues never do and it would give a generated
text away for free.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from interplay.dialogue.metrics import messages_of
from interplay.grounding.notes import NOTE_PATTERN
from interplay.text.end_marker import DEFAULT_MARKERS, strip_all

Row = Mapping[str, Any]

#: n-grams reported each way per system and role.
TOP_FEATURES = 5


def control_free(text: str, markers: Sequence[str] = DEFAULT_MARKERS) -> str:
    """``text`` without grounding notes and the user's markers, whitespace collapsed."""
    return strip_all(NOTE_PATTERN.sub(" ", text), markers)


def dialogue_text(row: Row, markers: Sequence[str] = DEFAULT_MARKERS) -> str:
    """One text per dialogue for the dialogue-level classifier: ``role: content`` lines, control
    text stripped."""
    return "\n".join(
        f"{m.get('role')}: {control_free(m.get('content') or '', markers)}" for m in messages_of(row)
    )


@dataclass(frozen=True)
class Turn:
    """One turn for the turn-level classifier: its dialogue (the fold group) and its text."""

    dialogue: str
    text: str


def role_turns(rows: Iterable[Row], role: str, markers: Sequence[str] = DEFAULT_MARKERS) -> list[Turn]:
    """Every non-empty control-free turn of ``role``, with its dialogue id (row index without)."""
    turns = []
    for index, row in enumerate(rows):
        dialogue = str(row.get("dialogue_id") or f"#{index}")
        for message in messages_of(row):
            if message.get("role") != role:
                continue
            text = control_free(message.get("content") or "", markers)
            if text:
                turns.append(Turn(dialogue, text))
    return turns


def _pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(lowercase=True, ngram_range=(1, 2), sublinear_tf=True, min_df=1),
        LogisticRegression(max_iter=1000, class_weight="balanced"),
    )


def _finite(scores: Any) -> float | None:
    auc = float(scores.mean())
    return auc if math.isfinite(auc) else None  # a failed fold scores NaN: no AUC, not NaN


def realism_auc(
    real_texts: Sequence[str], generated_texts: Sequence[str], folds: int = 5, seed: int = 0
) -> float | None:
    """Dialogue level: cross-validated ROC AUC, real (0) vs generated (1).

    Folds shrink to the smaller class size; None below 2 a class. The vectorizer is fitted
    inside each fold (a pipeline), so no test text leaks into it.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    smaller = min(len(real_texts), len(generated_texts))
    if smaller < 2:
        return None
    texts = list(real_texts) + list(generated_texts)
    labels = [0] * len(real_texts) + [1] * len(generated_texts)
    cv = StratifiedKFold(n_splits=min(folds, smaller), shuffle=True, random_state=seed)
    return _finite(cross_val_score(_pipeline(), texts, labels, cv=cv, scoring="roc_auc", n_jobs=1))


@dataclass(frozen=True)
class TurnRealism:
    """The turn-level classifier of one system and role."""

    #: Cross-validated ROC AUC; None with fewer than two turns or two dialogues a class.
    auc: float | None
    #: Turns in each class (equal by construction).
    turns_per_class: int
    #: n-grams with the largest weights towards "generated", heaviest first.
    generated_features: tuple[str, ...] = ()
    #: n-grams with the largest weights towards "real", heaviest first.
    real_features: tuple[str, ...] = ()


def balanced(real: Sequence[Turn], generated: Sequence[Turn], max_per_class: int | None, seed: int) -> tuple[list[Turn], list[Turn]]:
    """Both classes cut to the same size (the smaller one's, at most ``max_per_class``) by a
    seeded sample that keeps the original order."""
    size = min(len(real), len(generated), max_per_class or math.inf)

    def cut(turns: Sequence[Turn]) -> list[Turn]:
        if len(turns) <= size:
            return list(turns)
        keep = sorted(random.Random(seed).sample(range(len(turns)), int(size)))
        return [turns[i] for i in keep]

    return cut(real), cut(generated)


def turn_realism(
    real: Sequence[Turn],
    generated: Sequence[Turn],
    *,
    folds: int = 5,
    seed: int = 0,
    max_per_class: int | None = 2000,
    top_n: int = TOP_FEATURES,
) -> TurnRealism:
    """Turn level: balanced classes, folds grouped by dialogue (see the module docstring); the
    telling n-grams come from the classifier refitted on all turns of both classes."""
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_score

    real, generated = balanced(real, generated, max_per_class, seed)
    size = len(generated)
    groups = [f"real:{t.dialogue}" for t in real] + [f"generated:{t.dialogue}" for t in generated]
    splits = min(folds, len({t.dialogue for t in real}), len({t.dialogue for t in generated}))
    if size < 2 or splits < 2:
        return TurnRealism(None, size)
    texts = [t.text for t in real] + [t.text for t in generated]
    labels = [0] * size + [1] * size
    cv = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=seed)
    scores = cross_val_score(_pipeline(), texts, labels, groups=groups, cv=cv, scoring="roc_auc", n_jobs=1)
    pipeline = _pipeline().fit(texts, labels)
    names = pipeline[0].get_feature_names_out()
    weights = pipeline[-1].coef_[0]
    ranked = sorted(zip(weights, names, strict=True), key=lambda pair: (-pair[0], pair[1]))
    return TurnRealism(
        auc=_finite(scores),
        turns_per_class=size,
        generated_features=tuple(str(n) for w, n in ranked[:top_n] if w > 0),
        real_features=tuple(str(n) for w, n in reversed(ranked[-top_n:]) if w < 0),
    )


__all__ = [
    "NOTE_PATTERN",
    "TOP_FEATURES",
    "Turn",
    "TurnRealism",
    "balanced",
    "control_free",
    "dialogue_text",
    "realism_auc",
    "role_turns",
    "turn_realism",
]
