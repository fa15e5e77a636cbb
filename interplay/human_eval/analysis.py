"""Reading Label Studio's JSON export back with the key: who won each judgement, and how often.

Each annotation of a task gives, per criterion, A, B or tie; the key says which system was A, so
each becomes a verdict for Interplay: ``win``, ``tie`` or ``loss`` against the baseline. Shares
are over judgements (one annotator's answer to one criterion of one task), each with a 95% Wilson
score interval; where several annotators judged a task their judgements are not independent, so
the intervals are then somewhat too narrow, and the report says how many tasks had several.
Agreement is Krippendorff's alpha over the tasks judged at least twice.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from interplay.human_eval.agreement import krippendorff_alpha
from interplay.human_eval.criteria import CHOICES, CRITERIA
from interplay.human_eval.errors import RecordError
from interplay.human_eval.tasks import fingerprint

#: Verdicts for Interplay, worst first (the order the ordinal alpha ranks them in).
VERDICTS: tuple[str, ...] = ("loss", "tie", "win")
#: 95% two-sided normal quantile.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Judgement:
    """One annotator's answer to one criterion of one task, as a verdict for Interplay."""

    pair_id: str
    annotation: str
    criterion: str
    verdict: str


@dataclass(frozen=True)
class Share:
    """A count out of ``n``, its share and the 95% Wilson interval of the share (None when n = 0)."""

    count: int
    n: int
    share: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class CriterionResult:
    criterion: str
    judgements: int
    tasks: int
    win: Share
    tie: Share
    loss: Share
    #: Tasks with at least two judgements of this criterion (the units alpha is computed over).
    multi_annotated: int
    alpha_nominal: float | None
    alpha_ordinal: float | None


def wilson(count: int, n: int, z: float = Z95) -> Share:
    """``count`` of ``n`` with its Wilson score interval, which stays inside [0, 1] and is not
    degenerate at 0 or n successes, unlike the normal approximation, at the sizes a study has."""
    if n == 0:
        return Share(count, n, None, None, None)
    p = count / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Share(count, n, p, max(0.0, centre - half), min(1.0, centre + half))


def verdict(choice: str, interplay_side: str) -> str:
    """``A`` / ``B`` / ``tie`` as a verdict for Interplay, which sat on ``interplay_side``."""
    if choice == "tie":
        return "tie"
    return "win" if choice == interplay_side else "loss"


def _annotator(annotation: Mapping[str, Any], index: int) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, Mapping):
        who = who.get("id", who.get("email"))
    return f"annotation {annotation.get('id', index)} by {who}"


def task_judgements(task: Mapping[str, Any], record: str, key: Mapping[str, Any], systems: Sequence[str]) -> list[Judgement]:
    """The judgements of one exported task, checked against its entry in the key."""
    data = task.get("data")
    if not isinstance(data, Mapping) or "pair_id" not in data:
        raise RecordError(record, "data.pair_id", "missing: not a task made by `interplay human-eval export`")
    pair_id = str(data["pair_id"])
    pair = key.get("pairs", {}).get(pair_id)
    if pair is None:
        raise RecordError(record, "data.pair_id", f"{pair_id!r} is not in the key (a key of another export?)")
    try:
        seen = fingerprint(data)
    except (KeyError, TypeError):
        raise RecordError(record, "data.dialogue_a", "the task's conversations are missing") from None
    if seen != pair["fingerprint"]:
        raise RecordError(record, "data", f"{pair_id}'s conversations differ from the key's (a key of another export?)")
    interplay_side = "A" if pair["A"]["system"] == systems[0] else "B"
    criteria = {c.name for c in CRITERIA}
    judgements: list[Judgement] = []
    for index, annotation in enumerate(task.get("annotations") or []):
        if annotation.get("was_cancelled"):
            continue  # skipped by the annotator: no judgement
        who = _annotator(annotation, index)
        for r, result in enumerate(annotation.get("result") or []):
            name = result.get("from_name")
            if name not in criteria:
                continue
            choices = (result.get("value") or {}).get("choices") or []
            where = f"annotations[{index}].result[{r}].value.choices"
            if len(choices) != 1 or choices[0] not in CHOICES:
                raise RecordError(record, where, f"{choices!r}: expected one of {', '.join(CHOICES)}")
            judgements.append(Judgement(pair_id, who, name, verdict(choices[0], interplay_side)))
    return judgements


def export_judgements(export: Any, key: Mapping[str, Any]) -> list[Judgement]:
    """Every judgement of a Label Studio JSON export (a list of tasks); ``key`` as
    :func:`interplay.human_eval.files.read_key` checked it."""
    if not isinstance(export, list):
        raise RecordError("top level", "[]", "expected a list of tasks (Label Studio's JSON export)")
    systems = key["systems"]
    judgements: list[Judgement] = []
    for i, task in enumerate(export):
        if not isinstance(task, Mapping):
            raise RecordError(f"task {i}", "", "expected an object")
        judgements.extend(task_judgements(task, f"task {i} (id {task.get('id')})", key, systems))
    return judgements


def summarize(judgements: Sequence[Judgement]) -> list[CriterionResult]:
    """Win / tie / loss with intervals and agreement, per criterion in :data:`CRITERIA` order."""
    results = []
    for criterion in CRITERIA:
        by_task: dict[str, list[str]] = defaultdict(list)
        for j in judgements:
            if j.criterion == criterion.name:
                by_task[j.pair_id].append(j.verdict)
        n = sum(len(v) for v in by_task.values())
        counts = {v: sum(verdicts.count(v) for verdicts in by_task.values()) for v in VERDICTS}
        units = [verdicts for verdicts in by_task.values() if len(verdicts) >= 2]
        ranks = {v: i for i, v in enumerate(VERDICTS)}
        results.append(
            CriterionResult(
                criterion=criterion.name,
                judgements=n,
                tasks=len(by_task),
                win=wilson(counts["win"], n),
                tie=wilson(counts["tie"], n),
                loss=wilson(counts["loss"], n),
                multi_annotated=len(units),
                alpha_nominal=krippendorff_alpha(units, "nominal"),
                alpha_ordinal=krippendorff_alpha([[ranks[v] for v in u] for u in units], "ordinal"),
            )
        )
    return results
