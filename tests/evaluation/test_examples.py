"""Example dialogues for the report and the card: the fixed rule and the one renderer."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from dialogue_fixtures import CATALOG, clean_dialogues, dialogue

from interplay.evaluation.examples import choose_examples, render_example

TITLES = {row["item_id"]: row["title"] for row in CATALOG}


def _rows(outcomes: list[str]) -> list[dict[str, Any]]:
    return [dialogue(f"x{i:02d}", [("user", "hi")], outcome=o) for i, o in enumerate(outcomes)]


def _ids(rows: list[Any]) -> list[str]:
    return [r["dialogue_id"] for r in rows]


# -- the rule --------------------------------------------------------------------------------------


def test_rule_first_accepted_then_first_gave_up_then_seeded_draw() -> None:
    rows = _rows(["max_turns", "gave_up", "accepted", "gave_up", "accepted", "max_turns", "error"])
    chosen = choose_examples(list(reversed(rows)), seed=13)  # input order does not matter
    assert _ids(chosen)[:2] == ["x02", "x01"]
    rest = ["x00", "x03", "x04", "x05", "x06"]
    assert _ids(chosen)[2] == random.Random(13).sample(rest, 1)[0]
    assert len(set(_ids(chosen))) == 3
    assert _ids(choose_examples(rows, seed=13)) == _ids(chosen)  # deterministic
    draws = {_ids(choose_examples(rows, seed=s))[2] for s in range(30)}
    assert len(draws) > 1 and draws <= set(rest)  # the seed decides the third, from the rest only


def test_rule_fills_missing_slots_and_never_repeats() -> None:
    no_gave_up = _rows(["accepted", "accepted", "max_turns"])
    assert _ids(choose_examples(no_gave_up, seed=1))[:2] == ["x00", "x02"]  # first ended otherwise
    none_accepted = _rows(["max_turns", "max_turns", "max_turns", "max_turns"])
    chosen = choose_examples(none_accepted, seed=5)
    assert len(chosen) == 3 and len(set(_ids(chosen))) == 3 and _ids(chosen)[0] == "x00"
    assert _ids(choose_examples(_rows(["gave_up", "accepted"]), seed=2)) == ["x01", "x00"]
    assert _ids(choose_examples(_rows(["gave_up"]), seed=2)) == ["x00"]
    assert choose_examples([], seed=2) == []
    assert len(choose_examples(_rows(["accepted"] * 10), seed=3, n=5)) == 5


# -- the renderer ----------------------------------------------------------------------------------


def _example_row() -> dict[str, Any]:
    row = copy.deepcopy(clean_dialogues()[0])  # d1: accepted Beerfest (2006), a target
    row["candidates"] = [
        {"turn": 0, "item_ids": ["1", "2"], "note": "[Candidates: Super Troopers (2001): comedy | Beerfest (2006)]"},
        {"turn": 2, "item_ids": ["2"], "note": "[Candidates: Beerfest (2006): comedy]"},
    ]
    row["messages"][2]["content"] = (
        "Yes | loved it | # not a heading <script>alert(1)</script> ```python\nimport os\n```\n"
        "# Heading?\n---\n| a | b |\n* star _under_ [link](http://x)"
    )
    row["item_mentions"].append({"item_id": "5", "title": "Paddington (2014)", "turn": 2, "role": "user"})
    return row


def test_render_shows_profile_targets_outcome_notes_and_marks_links() -> None:
    text = render_example(_example_row(), TITLES)
    assert text.startswith("#### `d1` (`accepted`)\n")
    assert "**Profile summary:** You love goofy comedies." in text
    assert "**Target attributes:** A comedy from the 2000s." in text
    assert "**Target titles:** Beerfest (2006)" in text
    outcome = next(line for line in text.splitlines() if line.startswith("- **Outcome:**"))
    assert "`accepted`" in outcome and "accepted **Beerfest (2006)** (`2`)" in outcome
    assert "a target was among the recommended items: yes (Beerfest (2006))" in outcome
    lines = text.splitlines()
    first_user = lines.index("- **User:** Hi! I want something funny to watch tonight.")
    assert lines[first_user + 1] == "  > offered: \\[Candidates: Super Troopers (2001): comedy \\| Beerfest (2006)\\]"
    assert "- **Recommender:** Have you seen **Super Troopers (2001)**? It is a goofy cop comedy." in lines
    assert "- **Recommender:** Then try **Beerfest (2006)**, same crew and just as silly." in lines
    # A linked title the text does not spell is named after the message.
    assert any(line.endswith("[linked: **Paddington (2014)**]") for line in lines)


def test_render_gave_up_without_accepted_item_or_target() -> None:
    text = render_example(clean_dialogues()[2], TITLES, heading_level=3)
    assert text.startswith("### `d3` (`gave_up`)")
    assert "no item accepted; a target was among the recommended items: no." in text
    assert "- **Recommender:** **Halloween (1978)** is a classic slasher." in text


def test_title_without_its_year_is_marked() -> None:
    row = dialogue(
        "y1",
        [("user", "hi"), ("recommender", "Try super troopers, or Up.")],
        mentions=[("1", "Super Troopers (2001)", 1, "recommender"), ("9", "Up (2009)", 1, "recommender")],
    )
    text = render_example(row, TITLES)
    assert "- **Recommender:** Try **super troopers**, or **Up**." in text


def test_hostile_message_cannot_break_the_page() -> None:
    row = _example_row()
    text = render_example(row, TITLES)
    body = text.split("\n", 1)[1]
    hostile = [line for line in body.splitlines() if "loved it" in line]
    assert len(hostile) == 1, "newlines in a message must not start new lines"
    line = hostile[0]
    assert line.startswith("- **User:** ")
    assert "<script>" not in text and "&lt;script&gt;" in line
    assert "```" not in text and "\\`\\`\\`" in line
    assert "\\|" in line and "\\#" in line and "<br>" in line
    for start in ("#", "|", "---", "```", "<"):
        assert not any(row_line.startswith(start) for row_line in body.splitlines()), start

    markdown_it = pytest.importorskip("markdown_it")
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(text)
    kinds = {t.type for t in tokens}
    assert [t.tag for t in tokens if t.type == "heading_open"] == ["h4"]  # the example's own only
    assert not kinds & {"table_open", "fence", "code_block", "html_block", "hr"}
    html = [c.content for t in tokens if t.type == "inline" for c in t.children or [] if c.type == "html_inline"]
    assert set(html) <= {"<br>"}
    links = [c for t in tokens if t.type == "inline" for c in t.children or [] if c.type == "link_open"]
    assert not links
    lists = [t for t in tokens if t.type == "bullet_list_open"]
    assert len(lists) == 2  # the facts and the messages: a message cannot end its list
