"""The goals a benchmark states, checked against its own report: each benchmark writes the verdicts
into its JSON (``goals``) and prints them, so that a goal nobody met cannot read as one that was.

A goal is a figure of the report (a dotted key path), a comparison and a bound. ``--check-goals``
on a benchmark re-reads its committed JSON and adds the verdicts without measuring again.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_COMPARE = {">=": operator.ge, "<=": operator.le, "<": operator.lt, ">": operator.gt}


@dataclass(frozen=True)
class Goal:
    """``figure <op> bound``, where ``figure`` is a dotted path into the report."""

    figure: str
    op: str
    bound: float
    why: str

    def text(self) -> str:
        return f"{self.figure} {self.op} {self.bound}"


def figure(report: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (``bf16.bf16_over_fp32_engine``); a missing key names the path."""
    value: Any = report
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            raise KeyError(f"the report has no figure '{path}' (no '{key}')")
        value = value[key]
    return value


def check(report: Mapping[str, Any], goals: Sequence[Goal]) -> dict[str, Any]:
    """Each goal with the report's figure and whether it is met, and whether all are."""
    verdicts = []
    for goal in goals:
        value = figure(report, goal.figure)
        verdicts.append({"goal": goal.text(), "why": goal.why, "value": value,
                         "met": bool(_COMPARE[goal.op](value, goal.bound))})
    return {"all_met": all(v["met"] for v in verdicts), "checked": verdicts}


def lines(verdicts: Mapping[str, Any]) -> list[str]:
    """One printable line a goal, then the overall verdict."""
    out = [f"goal {v['goal']}: {v['value']} -> {'met' if v['met'] else 'NOT met'}" for v in verdicts["checked"]]
    return [*out, f"goals: {'all met' if verdicts['all_met'] else 'NOT all met'}"]


def recheck(path: Path, goals: Sequence[Goal], derive: Any = None) -> dict[str, Any]:
    """Add the verdicts to a committed report without measuring again (``derive`` adds figures
    computed from the report's own, as the benchmark would have written them)."""
    report = json.loads(path.read_text(encoding="utf-8"))
    if derive is not None:
        report |= derive(report)
    report["goals"] = check(report, goals)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report
