"""The dataset card says what is so: each claim checked against the data it describes.

The rows are in the simulate stage's schema with the ``source`` it writes, the evaluation report
is made by the evaluation's own renderer; each claim is then read back from the card and compared
with the published files, so a description that stops matching the data fails here.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from interplay.config.params import Params
from interplay.evaluation.report import render_markdown
from interplay.publish.card import ENUMERATED_COLUMNS
from interplay.publish.folder import DIALOGUES, build_release
from interplay.simulation.records import GENERATED_PATHS, to_table

TITLES = {"1": "Super Troopers (2001)", "2": "Beerfest (2006)", "3": "The Shining (1980)"}
#: Columns whose description is a vocabulary (names the values), checked against the values held.
VOCABULARY_COLUMNS = ("source", "outcome")
#: The source the simulate stage writes into the published file.
SOURCE = next(name for name, path in GENERATED_PATHS.items() if Path(path) == DIALOGUES)


#: (split, outcome, termination_reason, accepted item) of each dialogue.
ENDINGS = [
    ("test", "accepted", "end_marker", "1"),
    ("test", "max_turns", "max_turns", None),
    ("test", "error", "repeated_turn", None),
    ("validation", "accepted", "end_marker", "1"),
]


def _rows() -> list[dict[str, Any]]:
    """Rows as the simulate stage writes them: its ``source``, its schema (:func:`to_table`; the
    columns not set here are null, as the schema allows)."""
    rows = []
    for i, (split, outcome, reason, accepted) in enumerate(ENDINGS):
        messages = [
            {"role": "user", "content": f"I want a silly comedy tonight ({i})"},
            {"role": "recommender", "content": "Have you seen Super Troopers (2001)?"},
        ]
        if outcome == "accepted":
            messages.append({"role": "user", "content": "Sounds great, thanks!"})
        rows.append({
            "dialogue_id": f"{SOURCE}-profile-redial-{i}",
            "source": SOURCE,
            "split": split,
            "messages": messages,
            "item_mentions": [{"item_id": "1", "title": TITLES["1"], "turn": 1, "role": "recommender"}],
            "candidates": [],
            "profile_id": f"profile-redial-{i}",
            "preference_summary": "You love slapstick comedies such as Beerfest (2006).",
            "target_attributes": {"genres": ["comedy"], "decade": "2000s", "directors": [], "actors": []},
            "target_attributes_text": "a comedy from the 2000s",
            "target_item_ids": ["1"],
            "target_titles": [TITLES["1"]],
            "recommended_item_ids": ["1"],
            "accepted_item_id": accepted,
            "outcome": outcome,
            "termination_reason": reason,
            "num_turns": len(messages),
            "seed": 13,
            "user_model": "base:aa+lora:bb@float32",
            "recommender_model": "base:aa+lora:cc@float32",
            "params_hash": "0123456789abcdef",
        })
    return rows


def _project(root: Path) -> list[dict[str, Any]]:
    """A project with the simulated dialogues and the evaluation report a run writes."""
    table = to_table(_rows())
    rows = table.to_pylist()
    (root / DIALOGUES).parent.mkdir(parents=True)
    pq.write_table(table, root / DIALOGUES)
    validation = {
        "success": True,
        "gated": ["interplay"],
        "datasets": {SOURCE: {"success": True, "gated": True, "num_dialogues": len(rows), "expectations": 9,
                              "critical_failed": 0, "warnings_failed": 0}},
    }
    report = render_markdown({SOURCE: {"num_dialogues": len(rows)}}, k_values=[1, 5, 10], missing={},
                             validation=validation, systems={SOURCE: rows}, titles=TITLES)
    (root / "reports").mkdir()
    (root / "reports" / "evaluation.md").write_text(report, encoding="utf-8")
    (root / "reports" / "validation.json").write_text(json.dumps(validation), encoding="utf-8")
    return rows


def _published(folder: Path) -> list[dict[str, Any]]:
    return [row for path in sorted((folder / "data").glob("*.parquet")) for row in pq.read_table(path).to_pylist()]


def _fields_table(card: str) -> list[tuple[str, str, str]]:
    section = card.split("## Data fields\n", 1)[1].split("\n## ", 1)[0]
    out = []
    for line in section.splitlines()[3:]:
        if line.startswith("| `"):
            column, dtype, content = (cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:4])
            out.append((column.strip("`"), dtype.strip("`"), content))
    return out


def _headings(card: str) -> list[tuple[int, str, int]]:
    """(level, title, line index) of the body's headings, outside code blocks."""
    out, in_code = [], False
    for index, line in enumerate(card.split("\n---\n", 1)[1].splitlines()):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"^(#{1,6})\s+(.*)$", line)):
            out.append((len(match.group(1)), match.group(2).strip(), index))
    return out


def test_columns_and_summary_say_what_the_data_holds(tmp_path: Path) -> None:
    from huggingface_hub import DatasetCard

    _project(tmp_path)
    folder = build_release(Params.model_validate({}), tmp_path)
    card = (folder.path / "README.md").read_text(encoding="utf-8")
    rows = _published(folder.path)
    schema = pq.read_schema(next((folder.path / "data").glob("*.parquet")))

    fields = _fields_table(card)
    assert [(c, t) for c, t, _ in fields] == [(f.name, str(f.type)) for f in schema], "one row per column, as typed"
    assert all(content for _, _, content in fields), "every column is described"
    contents = {column: content for column, _, content in fields}
    for column in ENUMERATED_COLUMNS:
        held = sorted({str(r[column]) for r in rows})
        claimed, _, listed = contents[column].partition("in this release:")
        assert re.findall(r"`([^`]+)`", listed) == held, column
        if column in VOCABULARY_COLUMNS:  # the description names every value the data holds
            assert set(held) <= set(re.findall(r"`([^`|]+)`", claimed)), (column, held, claimed)
    assert "number of messages" in contents["num_turns"]
    assert all(r["num_turns"] == len(r["messages"]) for r in rows)
    assert len({r["dialogue_id"] for r in rows}) == len(rows), "dialogue_id is unique"

    summary = card.split("## Dataset summary\n", 1)[1].split("\n## ", 1)[0]
    for split, count in Counter(r["split"] for r in rows).items():
        assert re.search(rf"^\| `{split}` \| {count} \|", summary, re.M), split
    for outcome, count in Counter(r["outcome"] for r in rows).items():
        assert re.search(rf"^\| `{outcome}` \| {count} \|", summary, re.M), outcome

    assert DatasetCard.load(folder.path / "README.md").data.license == "cc-by-4.0"


def test_every_section_has_content_and_appears_once(tmp_path: Path) -> None:
    _project(tmp_path)
    card = (build_release(Params.model_validate({}), tmp_path).path / "README.md").read_text(encoding="utf-8")
    body = card.split("\n---\n", 1)[1].splitlines()
    heads = _headings(card)
    for number, (level, title, index) in enumerate(heads):
        following = heads[number + 1] if number + 1 < len(heads) else None
        end = following[2] if following else len(body)
        text = [line for line in body[index + 1 : end] if line.strip()]
        assert text or (following and following[0] > level), f"heading {title!r} has nothing under it"
    titles = [title for _, title, _ in heads]
    assert [t for t, n in Counter(titles).items() if n > 1] == []
    assert "Validation" in titles and "Figures" not in titles
    assert not any(line.lstrip().startswith("![") for line in body), "no figure the release does not hold"
    assert "**passed**" in card  # the card's own validation section


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True,
                   capture_output=True)


LOCK = {"schema": "2.0", "stages": {"simulate": {"cmd": "interplay simulate", "outs": [{"path": "data", "md5": "a"}]}}}


@pytest.mark.parametrize(
    "workspace_lock, committed",
    [
        (LOCK, True),  # the lock at the commit is the one the release was built with
        ({**LOCK, "stages": {**LOCK["stages"], "publish": {"cmd": "interplay publish"}}}, True),  # DVC's own entry
        ({**LOCK, "stages": {"simulate": {"cmd": "interplay simulate", "outs": [{"path": "data", "md5": "b"}]}}},
         False),
    ],
    ids=["same", "publish-entry-only", "outputs-differ"],
)
def test_provenance_says_when_the_lock_was_not_committed(tmp_path: Path, workspace_lock: dict,
                                                          committed: bool) -> None:
    _project(tmp_path)
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(LOCK), encoding="utf-8")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "dvc.lock")
    _git(tmp_path, "commit", "-q", "-m", "lock")
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(workspace_lock), encoding="utf-8")

    card = (build_release(Params.model_validate({}), tmp_path).path / "README.md").read_text(encoding="utf-8")
    row = next(line for line in card.splitlines() if line.startswith("| git commit |"))
    assert re.search(r"`[0-9a-f]{40}`", row)
    assert ("was not committed" in row) is (not committed), row
