"""The kit round-trips through a real Label Studio: tasks and labeling config imported through its
API, annotations submitted through its API (two annotators on some tasks, one skip), its JSON
export read back by `interplay human-eval analyze`.

Annotators are users the admin creates through the API; the admin submits each one's annotations
with ``completed_by`` set to that user, as Label Studio's API allows, so no browser is needed.
Their answers follow a rule written against the key, so the expected figures are known.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from label_studio_server import LabelStudio

from interplay.cli import main
from interplay.human_eval.analysis import wilson

STUDY = Path("data/human_eval")


def answers(interplay_side: str, realism_for_interplay: bool) -> list[dict]:
    baseline_side = "B" if interplay_side == "A" else "A"
    chosen = {
        "user_control": interplay_side,
        "conversational_flow": baseline_side,
        "naturalness": "tie",
        "realism": interplay_side if realism_for_interplay else baseline_side,
    }
    return [
        {"from_name": name, "to_name": "dialogue_a", "type": "choices", "value": {"choices": [choice]}}
        for name, choice in chosen.items()
    ]


def test_round_trip_through_label_studio(
    label_studio_server: LabelStudio, workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ls = label_studio_server
    monkeypatch.chdir(workspace)
    assert main(["human-eval", "export", "--seed", "11", "--limit", "6"]) == 0
    config = (STUDY / "labeling_config.xml").read_text("utf-8")
    tasks = json.loads((STUDY / "tasks.json").read_text("utf-8"))
    key = json.loads((STUDY / "key.json").read_text("utf-8"))

    # Label Studio validates the labeling configuration, and each task's data against it.
    project = ls.call("POST", "/api/projects", {"title": "Pairwise dialogue study", "label_config": config})
    # Some tasks judged twice, as the README's step 4 sets it.
    overlap = ls.call("PATCH", f"/api/projects/{project['id']}", {"maximum_annotations": 2, "overlap_cohort_percentage": 50})
    assert (overlap["maximum_annotations"], overlap["overlap_cohort_percentage"]) == (2, 50)
    imported = ls.call("POST", f"/api/projects/{project['id']}/import", tasks)
    assert imported["task_count"] == 6
    stored = ls.call("GET", f"/api/tasks?project={project['id']}&page_size=100")["tasks"]
    stored.sort(key=lambda task: task["data"]["pair_id"])
    assert [t["data"]["pair_id"] for t in stored] == [f"pair-{i:04d}" for i in range(1, 7)]

    first = ls.call("POST", "/api/users/", {"email": "annotator1@example.com", "username": "annotator1"})
    second = ls.call("POST", "/api/users/", {"email": "annotator2@example.com", "username": "annotator2"})
    for i, task in enumerate(stored):
        pair = key["pairs"][task["data"]["pair_id"]]
        side = "A" if pair["A"]["system"] == "interplay" else "B"
        # Annotator 1: every task; realism for Interplay on even tasks, for the baseline on odd ones.
        ls.call("POST", f"/api/tasks/{task['id']}/annotations/",
                {"result": answers(side, i % 2 == 0), "completed_by": first["id"]})
        if i < 3:  # annotator 2: the first three, realism always for Interplay
            ls.call("POST", f"/api/tasks/{task['id']}/annotations/",
                    {"result": answers(side, True), "completed_by": second["id"]})
        if i == 3:  # annotator 2 skips the fourth: no judgement
            ls.call("POST", f"/api/tasks/{task['id']}/annotations/",
                    {"result": [], "was_cancelled": True, "completed_by": second["id"]})

    exported = ls.call("GET", f"/api/projects/{project['id']}/export?exportType=JSON")
    export = workspace / "export.json"
    export.write_text(json.dumps(exported), encoding="utf-8")
    assert len(exported) == 6
    assert sum(len(t["annotations"]) for t in exported) == 10
    assert {a["completed_by"] for t in exported for a in t["annotations"]} == {first["id"], second["id"]}
    for secret in ("interplay", "reference_dependent", "profile-"):
        assert secret not in json.dumps([t["data"] for t in exported])  # still blind inside Label Studio

    capsys.readouterr()
    assert main(["human-eval", "analyze", str(export)]) == 0
    print(capsys.readouterr().out)  # the report, for `pytest -s`
    report = (workspace / "reports" / "human_eval.md").read_text("utf-8")
    results = {line.split(" | ")[0].lstrip("| "): line for line in report.split("## Agreement")[0].splitlines()
               if line.startswith("| ")}
    all9, none9, six, three = wilson(9, 9), wilson(0, 9), wilson(6, 9), wilson(3, 9)
    zero = f"0 (0.00 [0.00, {none9.high:.2f}])"
    full = f"9 (1.00 [{all9.low:.2f}, 1.00])"
    assert results["User control"] == f"| User control | 6 | 9 | {full} | {zero} | {zero} |"
    assert results["Conversational flow"] == f"| Conversational flow | 6 | 9 | {zero} | {zero} | {full} |"
    assert results["Naturalness"] == f"| Naturalness | 6 | 9 | {zero} | {full} | {zero} |"
    assert results["More like a real conversation"] == (
        f"| More like a real conversation | 6 | 9 | 6 (0.67 [{six.low:.2f}, {six.high:.2f}]) | {zero} "
        f"| 3 (0.33 [{three.low:.2f}, {three.high:.2f}]) |"
    )
    # Three tasks judged twice; on realism the annotators agree on two (win, win) and not on one
    # (loss, win): nominal alpha = 1 - (6 - 1) * 2 / (5 * 1 * 2) = 0.
    assert "| More like a real conversation | 3 | 0.000 | 0.000 |" in report
    assert "| User control | 3 | — (undefined: every judgement the same) |" in report
