"""Krippendorff's alpha: how far annotators agree beyond chance, with any number of annotators a
unit and missing judgements allowed (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability").

Written out here, a few lines over the coincidence matrix, rather than taken from a package, so
that the project's environment needs nothing more; ``tests/human_eval/test_agreement.py`` checks it
against the worked example of that paper.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from itertools import permutations
from typing import Literal

Level = Literal["nominal", "ordinal", "interval"]


def coincidences(units: Sequence[Sequence[Hashable]]) -> Counter[tuple[Hashable, Hashable]]:
    """The coincidence matrix ``o[c, k]``: each unit's ordered pairs of values from different
    annotators, weighted 1 / (values in the unit - 1); units with fewer than two values are not
    pairable and add nothing."""
    matrix: Counter[tuple[Hashable, Hashable]] = Counter()
    for values in units:
        if len(values) < 2:
            continue
        weight = 1.0 / (len(values) - 1)
        for c, k in permutations(values, 2):
            matrix[(c, k)] += weight
    return matrix


def _distance(level: Level, marginals: Mapping[Hashable, float]) -> Callable[[Hashable, Hashable], float]:
    """The squared difference function δ² of ``level``; ordinal ranks by the sorted values."""
    if level == "nominal":
        return lambda c, k: 0.0 if c == k else 1.0
    if level == "interval":
        return lambda c, k: (float(c) - float(k)) ** 2
    if level == "ordinal":
        order = sorted(marginals)
        rank = {value: i for i, value in enumerate(order)}

        def ordinal(c: Hashable, k: Hashable) -> float:
            low, high = sorted((rank[c], rank[k]))
            between = sum(marginals[order[g]] for g in range(low, high + 1))
            return (between - (marginals[c] + marginals[k]) / 2) ** 2

        return ordinal
    raise ValueError(f"unknown level of measurement: {level!r}")


def krippendorff_alpha(units: Sequence[Sequence[Hashable]], level: Level = "nominal") -> float | None:
    """Alpha over ``units``, each the values its annotators gave (missing ones left out).

    None where alpha is undefined: no unit has two values, or every pairable value is the same
    (no disagreement is expected by chance, so none observed says nothing).
    """
    matrix = coincidences(units)
    marginals: Counter[Hashable] = Counter()
    for (c, _k), weight in matrix.items():
        marginals[c] += weight
    total = sum(marginals.values())
    if total <= 1 or len(marginals) < 2:
        return None
    delta = _distance(level, marginals)
    observed = sum(weight * delta(c, k) for (c, k), weight in matrix.items())
    expected = sum(marginals[c] * marginals[k] * delta(c, k) for c in marginals for k in marginals)
    if expected == 0:
        return None
    return 1.0 - (total - 1) * observed / expected
