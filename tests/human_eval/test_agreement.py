"""Krippendorff's alpha against the worked example of Krippendorff (2011), "Computing
Krippendorff's Alpha-Reliability", section C: four observers, twelve units, values 1-5, some
missing. The paper gives alpha = 0.743 (nominal), 0.815 (ordinal), 0.849 (interval)."""

from __future__ import annotations

import pytest

from interplay.human_eval.agreement import krippendorff_alpha

_ = None
OBSERVERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
]
UNITS = [[row[u] for row in OBSERVERS if row[u] is not None] for u in range(12)]


@pytest.mark.parametrize(("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_alpha_matches_the_textbook_example(level: str, expected: float) -> None:
    assert krippendorff_alpha(UNITS, level) == pytest.approx(expected, abs=5e-4)


def test_alpha_is_one_for_perfect_agreement_and_ignores_units_judged_once() -> None:
    assert krippendorff_alpha([["win", "win"], ["tie", "tie", "tie"], ["loss"]]) == pytest.approx(1.0)


def test_alpha_is_undefined_without_pairable_units_or_without_variation() -> None:
    assert krippendorff_alpha([["win"], ["loss"]]) is None
    assert krippendorff_alpha([["win", "win"], ["win", "win"]]) is None


def test_systematic_disagreement_is_below_zero() -> None:
    assert krippendorff_alpha([["win", "loss"], ["loss", "win"], ["win", "loss"]]) < 0
