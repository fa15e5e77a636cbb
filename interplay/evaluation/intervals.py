"""Bootstrap intervals and paired tests over dialogues, as pure functions of per-unit arrays.

A *unit* is what a resample draws: one dialogue for a system's interval, one profile (that
system's dialogues of it) for a paired comparison of two systems. A metric is given as a
:class:`Ratio` (pooled sums over units: a mean of per-dialogue values, a share of turns, a count)
or a :class:`Distinct` (unique n-grams over all n-grams of the units drawn), both evaluated under
a matrix of unit weights (one row per resample), so every resample recomputes the metric from the
dialogues it drew, never from a summary of the whole set.

- **Interval**: percentile bootstrap, units drawn with replacement (``resamples`` draws from
  ``numpy.random.default_rng(seed)``); resamples where the metric is undefined (e.g. no accepted
  dialogue drawn for a mean over accepted ones) are left out.
- **Distinct-n** is recentred: a dialogue drawn twice adds its n-grams to the total but none to
  the unique ones, so raw replicates run below the estimate by construction (64 Interplay
  dialogues: distinct-2 of the recommender 0.388, raw replicates' mean 0.280); their spread is
  kept and their mean moved onto the estimate before the percentiles are read, and the interval is
  kept inside [0, 1]. An approximation: the spread is that of corpora of about 63% distinct
  dialogues.
- **Paired comparison** of systems A and B over shared profiles: the difference A - B; its
  interval by the paired bootstrap (a profile drawn carries both systems' dialogues); its p-value
  by a two-sided paired permutation test (each permutation swaps the two systems' dialogues of
  each profile with probability 1/2), ``p = (1 + #{|d*| >= |d|}) / (1 + permutations)``; exact
  (every one of the ``2 ** m`` swap patterns, ``p = #{|d*| >= |d|} / 2 ** m``) where there are no
  more of them than ``resamples``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

#: Relative tolerance under which a permuted difference counts as "as large as" the observed one
#: (pooled sums of the same floats in another order differ in the last bits).
_TIE = 1e-9


@dataclass(frozen=True)
class Resampling:
    """How intervals and tests resample (the ``evaluation`` parameters, the run's ``seed``)."""

    #: Bootstrap resamples of an interval, permutations of a test.
    resamples: int = 1000
    seed: int = 13
    confidence: float = 0.95
    #: A difference is significant when its p-value is below this.
    significance: float = 0.05


class Statistic(Protocol):
    """A metric as a function of unit weights: ``evaluate(W)[r]`` is its value on resample ``r``."""

    #: Whether bootstrap replicates are recentred on the estimate (see the module docstring).
    recentre: bool
    #: The metric's range, which a recentred interval is kept inside (None: unbounded).
    bounds: tuple[float, float] | None

    @property
    def units(self) -> int: ...

    def evaluate(self, weights: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Ratio:
    """``sum(w * num) / sum(w * den)``; NaN where the denominator is 0. Without ``den``, the
    weighted count ``sum(w * num)``."""

    num: np.ndarray
    den: np.ndarray | None = None
    recentre: bool = False
    bounds: tuple[float, float] | None = None

    @property
    def units(self) -> int:
        return len(self.num)

    def evaluate(self, weights: np.ndarray) -> np.ndarray:
        top = weights @ self.num
        if self.den is None:
            return top
        bottom = weights @ self.den
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


@dataclass(frozen=True)
class Distinct:
    """Unique n-grams / all n-grams of the units drawn (a unit's n-grams as ids: ``grams[i]`` is
    one of the distinct n-grams of unit ``owner[i]``; ``totals[u]`` all n-grams of unit ``u``)."""

    grams: np.ndarray
    owner: np.ndarray
    totals: np.ndarray
    recentre: bool = True
    bounds: tuple[float, float] | None = (0.0, 1.0)

    @classmethod
    def from_units(cls, units: Sequence[Sequence[Hashable]]) -> Distinct:
        """From each unit's n-grams (with repeats); ids are shared across units."""
        ids: dict[Hashable, int] = {}
        grams: list[int] = []
        owner: list[int] = []
        for unit, unit_grams in enumerate(units):
            for gram in dict.fromkeys(unit_grams):
                grams.append(ids.setdefault(gram, len(ids)))
                owner.append(unit)
        return cls(
            grams=np.asarray(grams, dtype=np.int64),
            owner=np.asarray(owner, dtype=np.int64),
            totals=np.asarray([len(g) for g in units], dtype=float),
        )

    @property
    def units(self) -> int:
        return len(self.totals)

    def evaluate(self, weights: np.ndarray) -> np.ndarray:
        vocabulary = int(self.grams.max()) + 1 if len(self.grams) else 0
        out = np.full(len(weights), np.nan)
        for r, w in enumerate(weights):
            total = float(w @ self.totals)
            if total > 0:
                present = np.bincount(self.grams, weights=w[self.owner], minlength=vocabulary) > 0
                out[r] = present.sum() / total
        return out


def multiplicities(units: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``(resamples, units)``: how often each unit is drawn in each bootstrap resample."""
    draws = rng.integers(0, units, size=(resamples, units))
    counts = np.zeros((resamples, units))
    np.add.at(counts, (np.arange(resamples)[:, None], draws), 1.0)
    return counts


def percentile_interval(
    replicates: np.ndarray,
    estimate: float,
    confidence: float,
    recentre: bool = False,
    bounds: tuple[float, float] | None = None,
) -> tuple[float, float] | None:
    """The central ``confidence`` range of the finite replicates; None without any. Recentred on
    ``estimate`` if asked, and then kept inside ``bounds`` (a share cannot pass 1)."""
    finite = replicates[np.isfinite(replicates)]
    if not finite.size:
        return None
    if recentre:
        finite = finite + (estimate - finite.mean())
    low, high = (float(q) for q in np.quantile(finite, [(1 - confidence) / 2, (1 + confidence) / 2]))
    if recentre and bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return low, high


def _estimate(stat: Statistic, weights: np.ndarray) -> float | None:
    value = float(stat.evaluate(weights[None, :])[0])
    return value if math.isfinite(value) else None


def bootstrap_interval(
    stat: Statistic, *, resamples: int, seed: int, confidence: float = 0.95
) -> tuple[float, float] | None:
    """The percentile bootstrap interval of ``stat`` over its units; None where the metric has no
    value on all units or no unit."""
    estimate = _estimate(stat, np.ones(stat.units)) if stat.units else None
    if estimate is None:
        return None
    weights = multiplicities(stat.units, resamples, np.random.default_rng(seed))
    return percentile_interval(stat.evaluate(weights), estimate, confidence, stat.recentre, stat.bounds)


@dataclass(frozen=True)
class Comparison:
    """System A against system B over shared profiles (see the module docstring); the difference,
    its interval and p-value are None where either system has no value."""

    first: float | None
    second: float | None
    #: ``first - second``.
    difference: float | None = None
    interval: tuple[float, float] | None = None
    p_value: float | None = None


def _difference_bounds(bounds: tuple[float, float] | None) -> tuple[float, float] | None:
    """The range of a difference of two values in ``bounds``."""
    return None if bounds is None else (bounds[0] - bounds[1], bounds[1] - bounds[0])


def permutation_p_value(permuted: np.ndarray, observed: float, exact: bool = False) -> float | None:
    """Two-sided: the share of permutations at least as far from 0 as ``observed``; a random set
    of them counts the observed arrangement once more (``exact``: ``permuted`` is every
    arrangement, the observed one among them). None without a finite permutation."""
    finite = permuted[np.isfinite(permuted)]
    if not finite.size:
        return None
    extreme = int((np.abs(finite) >= abs(observed) * (1 - _TIE) - _TIE).sum())
    return extreme / finite.size if exact else (1 + extreme) / (1 + finite.size)


def swap_patterns(pairs: int, permutations: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """``(patterns, exact)``: which pairs each permutation swaps (1.0) — all ``2 ** pairs`` of them
    where they are no more than ``permutations``, else that many drawn at random."""
    if 2**pairs <= permutations:
        return np.asarray(list(itertools.product((0.0, 1.0), repeat=pairs))), True
    return rng.integers(0, 2, size=(permutations, pairs)).astype(float), False


def paired_comparison(
    stat: Statistic, *, resamples: int, seed: int, confidence: float = 0.95
) -> Comparison | None:
    """``stat`` holds ``2 m`` units: system A's m profiles, then system B's same m profiles in the
    same order. None without a shared profile."""
    pairs = stat.units // 2
    if not pairs or stat.units != 2 * pairs:
        return None
    ones, zeros = np.ones(pairs), np.zeros(pairs)
    first = _estimate(stat, np.concatenate([ones, zeros]))
    second = _estimate(stat, np.concatenate([zeros, ones]))
    if first is None or second is None:
        return Comparison(first, second)
    difference = first - second
    rng = np.random.default_rng(seed)
    drawn = multiplicities(pairs, resamples, rng)
    nothing = np.zeros_like(drawn)
    boot = stat.evaluate(np.hstack([drawn, nothing])) - stat.evaluate(np.hstack([nothing, drawn]))
    swaps, exact = swap_patterns(pairs, resamples, rng)
    permuted = stat.evaluate(np.hstack([1 - swaps, swaps])) - stat.evaluate(np.hstack([swaps, 1 - swaps]))
    return Comparison(
        first=first,
        second=second,
        difference=difference,
        interval=percentile_interval(boot, difference, confidence, stat.recentre, _difference_bounds(stat.bounds)),
        p_value=permutation_p_value(permuted, difference, exact),
    )


# --- the comparison's record in reports/metrics.json, and its sentence ---------------------------

#: Keys of one metric's comparison record (``<baseline>.vs_interplay.<metric>``).
RECORD_KEYS: tuple[str, ...] = ("interplay", "baseline", "difference", "difference_ci", "p_value", "significant")


def comparison_record(comparison: Comparison | None, significance: float, digits: int = 4) -> dict[str, Any]:
    """The comparison as written to ``reports/metrics.json`` (every key; null without a value)."""
    if comparison is None:
        return dict.fromkeys(RECORD_KEYS)
    values = (comparison.first, comparison.second, comparison.difference)
    first, second, difference = (None if v is None else round(v, digits) for v in values)
    return {
        "interplay": first,
        "baseline": second,
        "difference": difference,
        "difference_ci": rounded(comparison.interval, digits),
        "p_value": None if comparison.p_value is None else round(comparison.p_value, digits),
        "significant": None if comparison.p_value is None else comparison.p_value < significance,
    }


def rounded(interval: tuple[float, float] | None, digits: int = 4) -> list[float] | None:
    """``[low, high]`` for the JSON, rounded like the metrics."""
    return None if interval is None else [round(interval[0], digits), round(interval[1], digits)]


def format_interval(interval: Sequence[float] | None, digits: int = 3) -> str:
    """``[0.120, 0.310]``; "–" without one."""
    if interval is None:
        return "–"
    return f"[{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def format_p(p_value: float | None) -> str:
    """``0.012``; ``<0.001`` below it; "–" without one."""
    if p_value is None:
        return "–"
    return "<0.001" if p_value < 0.001 else f"{p_value:.3f}"


def significance_sentence(
    baseline: str,
    records: Mapping[str, Mapping[str, Any]],
    significance: float | None,
    names: Mapping[str, str] | None = None,
) -> str:
    """In words, which metrics differ significantly between Interplay and ``baseline`` (its
    label), from the comparison records of ``reports/metrics.json`` (their ``significant``);
    ``names`` labels the metrics (their JSON key by default), ``significance`` is the level they
    were decided at (None: not known here)."""
    names = names or {}
    level = f"at {significance:g}" if significance is not None else "at the run's evaluation.significance"
    higher, lower, tested = [], [], 0
    for key, record in records.items():
        if not isinstance(record, Mapping) or record.get("p_value") is None:
            continue
        tested += 1
        if not record.get("significant"):
            continue
        text = (
            f"{names.get(key, f'`{key}`')} ({record['difference']:+.3f} "
            f"{format_interval(record.get('difference_ci'))}, p {_p_clause(record['p_value'])})"
        )
        (higher if record["difference"] > 0 else lower).append(text)
    if not tested:
        return f"Interplay vs {baseline}: no metric could be compared."
    if not higher and not lower:
        return f"Interplay vs {baseline}: no difference is significant {level} ({tested} metrics tested)."
    parts = []
    if higher:
        parts.append("higher on " + "; ".join(higher))
    if lower:
        parts.append("lower on " + "; ".join(lower))
    others = tested - len(higher) - len(lower)
    return (
        f"Interplay vs {baseline}, significant {level}: Interplay is " + ", and ".join(parts)
        + f". The other {others} of {tested} metrics tested do not differ significantly."
    )


def _p_clause(p_value: float) -> str:
    text = format_p(p_value)
    return text if text.startswith("<") else f"= {text}"


__all__ = [
    "RECORD_KEYS",
    "Comparison",
    "Resampling",
    "Distinct",
    "Ratio",
    "Statistic",
    "bootstrap_interval",
    "comparison_record",
    "format_interval",
    "format_p",
    "multiplicities",
    "paired_comparison",
    "percentile_interval",
    "permutation_p_value",
    "swap_patterns",
    "rounded",
    "significance_sentence",
]
