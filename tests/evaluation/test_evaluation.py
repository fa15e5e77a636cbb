"""The evaluate stage on hand-made datasets: metrics.json, the results table and the figures."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dialogue_fixtures import CATALOG, clean_dialogues

from interplay.config.params import Params


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def _real_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Real dialogues (four test, one train) and profiles for three of the test ones."""
    dialogues, profiles = [], []
    for i, row in enumerate(clean_dialogues()):
        dialogues.append(
            {
                "dialogue_id": f"r{i}",
                "source": "redial",
                "split": "test",
                "messages": row["messages"],
                "item_mentions": row["item_mentions"],
            }
        )
        if i < 3:
            profiles.append(
                {
                    "profile_id": f"p{i}",
                    "dialogue_id": f"r{i}",
                    "split": "test",
                    "target_item_ids": row["target_item_ids"],
                    "target_titles": row["target_titles"],
                    "target_attributes": row["target_attributes"],
                }
            )
    dialogues.append({**copy.deepcopy(dialogues[0]), "dialogue_id": "train0", "split": "train"})
    return dialogues, profiles


def _zero_shot() -> list[dict[str, Any]]:
    rows = clean_dialogues("zero_shot")
    for row in rows:
        row["messages"] = [{"role": m["role"], "content": "Hello! Hello!"} for m in row["messages"]]
        row["item_mentions"], row["recommended_item_ids"] = [], []
        row["accepted_item_id"], row["outcome"] = None, "max_turns"
    return rows


def _reference_dependent() -> list[dict[str, Any]]:
    rows = clean_dialogues("reference_dependent")
    for row in rows:  # the "user" names the target in its first turn: leakage everywhere
        first_user = next(m for m in row["messages"] if m["role"] == "user")
        first_user["content"] = f"I want to watch {row['target_titles'][0]}."
    return rows


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evaluate")
    real, profiles = _real_rows()
    _write(root / "data/processed/dialogues.parquet", real)
    _write(root / "data/processed/profiles.parquet", profiles)
    _write(root / "data/processed/catalog.parquet", CATALOG)
    _write(root / "data/simulated/dialogues.parquet", clean_dialogues())
    _write(root / "data/baselines/zero_shot.parquet", _zero_shot())
    _write(root / "data/baselines/reference_dependent.parquet", _reference_dependent())
    from tasks import evaluate

    evaluate.run(Params(), root)
    return root


def test_metrics_json_has_every_system_and_known_values(workspace: Path) -> None:
    results = json.loads((workspace / "reports/metrics.json").read_text())
    assert list(results) == ["real", "zero_shot", "reference_dependent", "interplay"]
    ours = results["interplay"]
    assert ours["num_dialogues"] == 4
    assert ours["success_rate"] == 0.5
    assert ours["recall@1"] == 0.25 and ours["recall@5"] == 0.75 and ours["recall@10"] == 0.75
    assert ours["match_score"] == 1.0
    assert ours["half_match_rate"] == 0.5  # d1, d2 accepted with full matches; d3, d4 not accepted
    assert [ours[f"outcome_{o}"] for o in ("accepted", "gave_up", "max_turns", "error")] == [2, 1, 1, 0]
    assert ours["leakage_rate"] == 0.0
    assert ours["avg_turns"] == 4.0
    for key in ("distinct_1_user", "distinct_2_recommender", "avg_words_per_turn_user", "realism_auc",
                "turn_realism_auc_user", "turn_realism_auc_recommender"):
        assert 0 <= ours[key] <= (1 if key != "avg_words_per_turn_user" else 100)
    assert results["reference_dependent"]["leakage_rate"] == 1.0
    assert results["zero_shot"]["distinct_1_user"] == pytest.approx(1 / 18, abs=1e-4)  # 9 turns x "hello" x 2
    assert results["zero_shot"]["recall@10"] == 0.0


def test_real_row_has_only_metrics_that_apply(workspace: Path) -> None:
    real = json.loads((workspace / "reports/metrics.json").read_text())["real"]
    assert real["num_dialogues"] == 4  # the train dialogue is left out
    assert real["num_with_profile"] == 3
    for key in ("success_rate", "match_score", "half_match_rate", "realism_auc", "turn_realism_auc_user",
                "outcome_accepted", "outcome_error"):  # do not apply: null, not left out
        assert key in real and real[key] is None
    # Profiled real dialogues: d1 [1,2]/2, d2 [3]/3, d3 [4]/3 -> R@1 1/3, R@5 2/3.
    assert real["recall@1"] == pytest.approx(0.3333)
    assert real["recall@5"] == pytest.approx(0.6667)
    assert real["leakage_rate"] == 0.0


def _tables(text: str) -> list[list[str]]:
    """The Markdown tables of ``text``, each as its lines."""
    tables: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("| "):
            if not previous.startswith("| "):
                tables.append([])
            tables[-1].append(line)
        previous = line
    return tables


def test_markdown_table_shows_four_rows_with_counts(workspace: Path) -> None:
    text = (workspace / "reports/evaluation.md").read_text()
    table = _tables(text)[0]
    assert table[0].startswith("| System | N | Succ. ↑ | R@1 ↑ | R@5 ↑ | R@10 ↑ | Match ↑ | Match≥½ ↑ | Leak ↓")
    rows = [line.split(" | ")[0].lstrip("| ") for line in table[1:]]
    assert rows == ["---", "Real (test)", "Zero-shot", "Reference-dependent (trained)", "Interplay (ours)"]
    interplay = table[-1].split(" | ")
    assert interplay[1] == "4" and interplay[2] == "0.500" and interplay[3] == "0.250"
    real = table[2].split(" | ")
    assert real[2] == "–"  # success rate does not apply to real dialogues
    assert table[0].rstrip(" |").endswith("AUC →0.5 | Turn AUC U →0.5 | Turn AUC R →0.5")
    assert interplay[7] == "0.500"  # Match≥½
    for name in ("recall_at_k", "turns_per_dialogue", "words_per_turn", "outcomes", "distinct_n"):
        assert f"figures/{name}.png" in text


def test_behaviour_table_counts_outcomes(workspace: Path) -> None:
    text = (workspace / "reports/evaluation.md").read_text()
    behaviour = _tables(text)[1]
    assert text.index("## Behaviour") < text.index(behaviour[0])
    assert behaviour[0].endswith("| Guard rej./dlg | Accepted | Gave up | Max turns | Leak guard | Error |")
    # The old success rule, kept under its own name: 2 accepted + 1 declined after a recommendation.
    assert "| Ended after rec. |" in behaviour[0]
    assert behaviour[-1].startswith("| Interplay (ours) | 4 | 0.750 | 4.0 |")
    assert behaviour[-1].endswith("| 0.00 | 2 | 1 | 1 | 0 | 0 |")
    assert behaviour[2].endswith("| – | – | – | – | – | – |")  # real dialogues: no outcome, no guard
    assert behaviour[3].endswith("| 4 | 0 | 0 |")  # zero-shot: all at max_turns


def test_realism_section_names_telling_ngrams_per_system_and_role(workspace: Path) -> None:
    text = (workspace / "reports/evaluation.md").read_text()
    section = text.split("## Realism", 1)[1].split("\n## ", 1)[0]
    assert "grouped by dialogue" in section and "stripped" in section
    rows = _tables(section)[0][2:]
    assert [r.split(" | ")[:2] for r in rows] == [
        [f"| {system}", role]
        for system in ("Zero-shot", "Reference-dependent (trained)", "Interplay (ours)")
        for role in ("user", "recommender")
    ]
    zero_shot_user = rows[0].split(" | ")
    assert "`hello`" in zero_shot_user[4]  # every zero-shot turn is "Hello! Hello!"
    results = json.loads((workspace / "reports/metrics.json").read_text())
    assert zero_shot_user[3] == f"{results['zero_shot']['turn_realism_auc_user']:.3f}"


def test_figures_are_written_and_deterministic(workspace: Path) -> None:
    from tasks import evaluate

    figures = workspace / "reports/figures"
    names = sorted(p.name for p in figures.glob("*.png"))
    assert names == [
        "distinct_n.png", "outcomes.png", "recall_at_k.png", "turns_per_dialogue.png", "words_per_turn.png"
    ]
    before = {n: (figures / n).read_bytes() for n in names}
    metrics_before = (workspace / "reports/metrics.json").read_bytes()
    evaluate.run(Params(), workspace)
    assert {n: (figures / n).read_bytes() for n in names} == before
    assert (workspace / "reports/metrics.json").read_bytes() == metrics_before


def test_missing_baseline_is_reported_not_fatal(tmp_path: Path) -> None:
    from tasks import evaluate

    _write(tmp_path / "data/simulated/dialogues.parquet", clean_dialogues())
    evaluate.run(Params(), tmp_path)
    results = json.loads((tmp_path / "reports/metrics.json").read_text())
    assert list(results) == ["interplay"]
    assert results["interplay"]["match_score"] is None  # no catalog: undefined, null
    assert results["interplay"]["realism_auc"] is None  # no real dialogues
    assert results["interplay"]["turn_realism_auc_user"] is None
    text = (tmp_path / "reports/evaluation.md").read_text()
    assert "Not evaluated (input missing)" in text and "data/baselines/zero_shot.parquet" in text


def test_report_shows_three_example_dialogues_per_generated_system(workspace: Path) -> None:
    import random

    text = (workspace / "reports/evaluation.md").read_text()
    assert "## Example dialogues" in text and text.index("## Example dialogues") > text.index("| System |")
    section = text.split("## Example dialogues", 1)[1]
    assert "random.Random(13)" in section and "first accepted" in section
    blocks = section.split("\n### ")[1:]
    assert [b.splitlines()[0] for b in blocks] == ["Zero-shot", "Reference-dependent (trained)", "Interplay (ours)"]
    heads = {b.splitlines()[0]: [line for line in b.splitlines() if line.startswith("#### ")] for b in blocks}
    assert all(len(h) == 3 for h in heads.values())
    third = random.Random(13).sample(["d2", "d4"], 1)[0]
    assert heads["Interplay (ours)"] == [
        "#### `d1` (`accepted`)",
        "#### `d3` (`gave_up`)",
        f"#### `{third}` ({'`accepted`' if third == 'd2' else '`max_turns`'})",
    ]
    assert heads["Zero-shot"][0] == "#### `d1` (`max_turns`)"  # no accepted or gave_up: first ended otherwise
    ours = blocks[2]
    assert "**Profile summary:** You love goofy comedies." in ours
    assert "the user accepted **Beerfest (2006)** (`2`)" in ours
    assert "- **Recommender:** Then try **Beerfest (2006)**, same crew and just as silly." in ours
    assert "Real (test)" not in section  # real dialogues need no examples


def test_report_states_the_trained_baselines_budget() -> None:
    """The reference-dependent row is the trained writer: the report says with what budget, from
    the writer's own training record, and says so when the record is missing."""
    from interplay.evaluation.report import baselines_paragraph

    record = {"train_steps": 45, "train_examples": 1696, "validation_loss_before": 3.1, "validation_loss_after": 2.5}
    text = baselines_paragraph(record)
    assert "45 optimizer steps over 1696 training examples" in text and "3.100 before, 2.500 after" in text
    assert "finetune_script" in text
    assert "is missing" in baselines_paragraph(None)
