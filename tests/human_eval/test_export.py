"""`interplay human-eval export`: blinded pairwise tasks in Label Studio's import format, with a key."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import STYLE, system_rows, write_system

from interplay.cli import main
from interplay.human_eval.criteria import CHOICES, CRITERIA

STUDY = Path("data/human_eval")


def export(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.chdir(root)
    return main(["human-eval", "export", *args])


def side_system(turns: list[dict[str, str]]) -> str:
    """Which system wrote a conversation, read from its text (the fixtures' styles differ)."""
    return "interplay" if turns[0]["text"].startswith("hey") else "reference_dependent"


def test_tasks_pair_the_same_profile_and_hide_the_systems(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert export(workspace, monkeypatch, "--seed", "5") == 0
    tasks = json.loads((workspace / STUDY / "tasks.json").read_text("utf-8"))
    key = json.loads((workspace / STUDY / "key.json").read_text("utf-8"))
    # 38 shared profiles, one left out because the baseline's conversation is empty.
    assert len(tasks) == 37 and key["shared_profiles"] == 38 and key["left_out_empty"] == ["profile-05"]
    assert key["systems"] == ["interplay", "reference_dependent"]
    # Nothing in what annotators see names a system, a dialogue or a profile.
    text = (workspace / STUDY / "tasks.json").read_text("utf-8")
    for secret in ("interplay", "reference_dependent", "profile-", "dialogue_id"):
        assert secret not in text
    assert all(set(task) == {"data"} for task in tasks)
    assert all(set(task["data"]) == {"pair_id", "profile", "dialogue_a", "dialogue_b"} for task in tasks)
    profiles = []
    for task in tasks:
        data = task["data"]
        pair = key["pairs"][data["pair_id"]]
        profiles.append(pair["profile_id"])
        n = pair["profile_id"].rsplit("-", 1)[-1]
        # The key says truly which system sits on which side, and both sides are of its profile.
        assert side_system(data["dialogue_a"]) == pair["A"]["system"]
        assert side_system(data["dialogue_b"]) == pair["B"]["system"]
        assert {pair["A"]["system"], pair["B"]["system"]} == {"interplay", "reference_dependent"}
        assert data["dialogue_a"][0]["text"] == STYLE[pair["A"]["system"]].format(n=n)
        assert data["dialogue_a"][0]["author"] == "Seeker" and data["dialogue_a"][1]["author"] == "Recommender"
        assert data["profile"] == f"You love goofy comedies ({n}).\nA comedy from the 2000s."
    assert sorted(profiles) == [f"profile-{i:02d}" for i in range(2, 40) if i != 5]
    # Order and sides are shuffled: not the profiles' order, and Interplay sits on both sides.
    assert profiles != sorted(profiles)
    sides = [key["pairs"][t["data"]["pair_id"]]["A"]["system"] for t in tasks]
    assert 5 <= sides.count("interplay") <= 32


def test_the_seed_decides_the_files(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = ("tasks.json", "key.json", "labeling_config.xml")

    def read(out: str) -> list[bytes]:
        return [(workspace / out / name).read_bytes() for name in files]

    assert export(workspace, monkeypatch, "--seed", "5", "--out", "a") == 0
    assert export(workspace, monkeypatch, "--seed", "5", "--out", "b") == 0
    assert export(workspace, monkeypatch, "--seed", "6", "--out", "c") == 0
    assert read("a") == read("b")
    assert read("a")[0] != read("c")[0] and read("a")[1] != read("c")[1]


def test_limit_keeps_a_sample(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert export(workspace, monkeypatch, "--limit", "10") == 0
    tasks = json.loads((workspace / STUDY / "tasks.json").read_text("utf-8"))
    assert [t["data"]["pair_id"] for t in tasks] == [f"pair-{i:04d}" for i in range(1, 11)]


def test_labeling_config_asks_every_criterion_of_the_task_data(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert export(workspace, monkeypatch) == 0
    root = ET.fromstring((workspace / STUDY / "labeling_config.xml").read_text("utf-8"))
    objects = {e.get("name"): e.get("value") for e in root.iter() if e.tag in {"Text", "Paragraphs"}}
    assert objects == {"profile": "$profile", "dialogue_a": "$dialogue_a", "dialogue_b": "$dialogue_b"}
    questions = {e.get("name"): e for e in root.iter("Choices")}
    assert list(questions) == [c.name for c in CRITERIA]
    for element in questions.values():
        assert element.get("toName") in objects and element.get("required") == "true"
        assert [c.get("value") for c in element.iter("Choice")] == list(CHOICES)


def test_a_profile_met_twice_is_refused_naming_file_row_and_field(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = system_rows("reference_dependent", ["profile-02", "profile-03", "profile-02"])
    path = write_system(workspace, "reference_dependent", rows)
    assert export(workspace, monkeypatch) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"interplay human-eval: error: {path}: row 2: field 'profile_id': 'profile-02' also in row 0"


def test_a_missing_baseline_says_which_stage_makes_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export(workspace, monkeypatch, "--baseline", "zero_shot") == 2
    assert "zero_shot.parquet is missing: run the simulate and baselines stages" in capsys.readouterr().err
