"""`interplay human-eval analyze`: a Label Studio JSON export read back through the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from interplay.cli import main
from interplay.human_eval.analysis import wilson
from interplay.human_eval.criteria import CRITERIA

STUDY = Path("data/human_eval")


def annotation(annotator: int, answers: dict[str, str], cancelled: bool = False) -> dict[str, Any]:
    """One annotation as Label Studio exports it (the fields the analysis reads, and a few more)."""
    result = [
        {"from_name": name, "to_name": "dialogue_a", "type": "choices", "value": {"choices": [choice]}}
        for name, choice in answers.items()
    ]
    return {"id": annotator * 1000, "completed_by": annotator, "result": [] if cancelled else result,
            "was_cancelled": cancelled, "ground_truth": False, "lead_time": 12.5}


def study(root: Path, monkeypatch: pytest.MonkeyPatch, seed: int = 3) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    monkeypatch.chdir(root)
    assert main(["human-eval", "export", "--seed", str(seed), "--limit", "6"]) == 0
    tasks = json.loads((root / STUDY / "tasks.json").read_text("utf-8"))
    key = json.loads((root / STUDY / "key.json").read_text("utf-8"))
    return tasks, key


def interplay_side(key: dict[str, Any], task: dict[str, Any]) -> str:
    return "A" if key["pairs"][task["data"]["pair_id"]]["A"]["system"] == "interplay" else "B"


def other(side: str) -> str:
    return "B" if side == "A" else "A"


def write_export(root: Path, tasks: list[dict[str, Any]]) -> Path:
    path = root / "export.json"
    path.write_text(json.dumps([{"id": 100 + i, **task} for i, task in enumerate(tasks)]), encoding="utf-8")
    return path


def test_win_tie_loss_follow_the_key_not_the_side(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tasks, key = study(workspace, monkeypatch)
    sides = [interplay_side(key, t) for t in tasks]
    assert {"A", "B"} <= set(sides)  # Interplay sits on both sides in these six tasks
    for task, side in zip(tasks, sides, strict=True):
        # Annotator 1 prefers Interplay's user control, the baseline's flow, ties naturalness.
        task["annotations"] = [annotation(1, {"user_control": side, "conversational_flow": other(side),
                                              "naturalness": "tie", "realism": side})]
    # Annotator 2 judges the first three tasks: agrees on realism for two, not for the third;
    # annotator 3 skipped the fourth (a cancelled annotation is no judgement).
    for i in range(3):
        realism = sides[i] if i < 2 else other(sides[i])
        tasks[i]["annotations"].append(annotation(2, {"user_control": sides[i], "conversational_flow": other(sides[i]),
                                                      "naturalness": "tie", "realism": realism}))
    tasks[3]["annotations"].append(annotation(3, {}, cancelled=True))
    export = write_export(workspace, tasks)
    assert main(["human-eval", "analyze", str(export)]) == 0
    report = (workspace / "reports" / "human_eval.md").read_text("utf-8")
    results = report.split("## Agreement")[0].splitlines()
    rows = {line.split(" | ")[0].lstrip("| "): line for line in results if line.startswith("| ")}
    full, none = wilson(9, 9), wilson(0, 9)
    assert rows["User control"] == (
        f"| User control | 6 | 9 | 9 (1.00 [{full.low:.2f}, 1.00]) | 0 (0.00 [0.00, {none.high:.2f}]) "
        f"| 0 (0.00 [0.00, {none.high:.2f}]) |"
    )
    assert rows["Conversational flow"].endswith(f"| 9 (1.00 [{full.low:.2f}, 1.00]) |")
    assert rows["Naturalness"].split(" | ")[4] == f"9 (1.00 [{full.low:.2f}, 1.00])"
    eight = wilson(8, 9)
    assert rows["More like a real conversation"].split(" | ")[3] == f"8 (0.89 [{eight.low:.2f}, {eight.high:.2f}])"
    # Agreement: three tasks judged twice. Realism: two agree (win, win), one does not (win, loss):
    # alpha nominal = 1 - (n - 1) * D_o / D_e with n = 6 values = 1 - 5 * 2 / (5 * 1 * 2) = 0.
    agreement = [line for line in report.splitlines() if line.startswith("| More like a real conversation | 3 |")]
    assert agreement == ["| More like a real conversation | 3 | 0.000 | 0.000 |"]
    assert "| User control | 3 | — (undefined: every judgement the same) |" in report


def test_an_export_of_another_key_is_refused(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks, _ = study(workspace, monkeypatch, seed=3)
    tasks[0]["annotations"] = [annotation(1, {c.name: "A" for c in CRITERIA})]
    export = write_export(workspace, tasks)
    study(workspace, monkeypatch, seed=4)  # a new study overwrites the key
    capsys.readouterr()
    assert main(["human-eval", "analyze", str(export)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"interplay human-eval: error: {export}: task 0 (id 100): field 'data': pair-0001's")
    assert "(a key of another export?)" in err


def test_an_answer_that_is_not_a_choice_names_its_field(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks, _ = study(workspace, monkeypatch)
    tasks[1]["annotations"] = [annotation(1, {"user_control": "A", "naturalness": "C"})]
    export = write_export(workspace, tasks)
    assert main(["human-eval", "analyze", str(export)]) == 2
    # The last line: another test's logging handler in the same worker may write to stderr first.
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"interplay human-eval: error: {export}: task 1 (id 101): field 'annotations[0].result[1].value.choices': "
        "['C']: expected one of A, B, tie"
    )


def test_an_export_without_judgements_is_refused(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks, _ = study(workspace, monkeypatch)
    export = write_export(workspace, tasks)
    assert main(["human-eval", "analyze", str(export)]) == 2
    assert "no submitted judgement to analyze" in capsys.readouterr().err
    assert not (workspace / "reports" / "human_eval.md").exists()


@pytest.mark.parametrize(
    ("count", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_interval_matches_newcombe_1998(count: int, n: int, low: float, high: float) -> None:
    """Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table II."""
    share = wilson(count, n)
    assert (share.low, share.high) == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))
