"""Realism classifiers: control text never counts, turn-level classes are balanced and folds keep a
dialogue's turns together, and the telling n-grams point the right way."""

from __future__ import annotations

import copy
from typing import Any

from dialogue_fixtures import clean_dialogues

from interplay.evaluation import compute, realism
from interplay.evaluation.realism import Turn, control_free, dialogue_text, role_turns, turn_realism


def test_control_free_strips_notes_and_every_marker_spelling() -> None:
    text = "Try Up (2009)!\n[Candidates: Up (2009): animation | [REC] (2007): horror] [About Up (2009): animation; 2000s]"
    assert control_free(text) == "Try Up (2009)!"
    assert control_free("Thanks, bye [ End ]") == "Thanks, bye"
    assert control_free("Done <stop>", markers=("<STOP>",)) == "Done"
    assert control_free("I [really] mean it [END]") == "I [really] mean it"  # other brackets stay
    assert control_free("[END]") == ""


def _with_control_text(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same dialogues as generated text could carry them: notes and end markers added."""
    rows = copy.deepcopy(rows)
    for row in rows:
        for message in row["messages"]:
            if message["role"] == "recommender":
                message["content"] += "\n[Candidates: Beerfest (2006): comedy, Kevin Heffernan]"
            else:
                message["content"] += " [End]"
    return rows


def test_control_text_is_stripped_before_both_realism_levels() -> None:
    real = clean_dialogues("redial")
    noted = _with_control_text(real)
    assert [dialogue_text(r) for r in noted] == [dialogue_text(r) for r in real]
    for role in ("user", "recommender"):
        assert [t.text for t in role_turns(noted, role)] == [t.text for t in role_turns(real, role)]


def test_empty_turns_are_left_out_and_turns_carry_their_dialogue() -> None:
    row = {"dialogue_id": "x", "messages": [{"role": "user", "content": "[END]"}, {"role": "user", "content": "Hi"}]}
    assert role_turns([row, {"messages": [{"role": "user", "content": "Yo"}]}], "user") == [
        Turn("x", "Hi"),
        Turn("#1", "Yo"),
    ]


def test_dialogue_level_auc_separates_different_texts_and_needs_two_per_class() -> None:
    real = [f"user: i liked the old western number {i}\nrecommender: try a classic" for i in range(10)]
    fake = [f"user: hello hello hello {i}\nrecommender: hello hello" for i in range(10)]
    assert realism.realism_auc(real, fake, folds=5, seed=0) > 0.9
    assert realism.realism_auc(real, fake[:1]) is None


def _turns(prefix: str, dialogues: int, per_dialogue: int, text: str) -> list[Turn]:
    return [Turn(f"{prefix}{d}", text.format(d=d, t=t)) for d in range(dialogues) for t in range(per_dialogue)]


def test_turn_level_auc_is_balanced_and_names_what_gives_turns_away() -> None:
    real = _turns("r", 40, 3, "i liked the old western {d} {t}")
    generated = _turns("g", 6, 4, "hello there friend {d} {t}")
    result = turn_realism(real, generated, folds=5, seed=0)
    assert result.turns_per_class == 24  # the real class sampled down to the generated one's size
    assert result.auc is not None and result.auc > 0.95
    assert {"hello", "there", "friend"} & set(result.generated_features[:3])
    assert {"liked", "western", "old"} & set(result.real_features[:3])
    capped = turn_realism(real, generated, folds=5, seed=0, max_per_class=10)
    assert capped.turns_per_class == 10


def test_turn_level_folds_keep_a_dialogues_turns_together() -> None:
    # Same style on both sides; only a word per dialogue differs. Seen in training, that word would
    # give every turn of its dialogue away; with dialogues kept whole it is never seen: chance.
    real = _turns("r", 10, 6, "we could watch something {d}a tonight")
    generated = _turns("g", 10, 6, "we could watch something {d}b tonight")
    result = turn_realism(real, generated, folds=5, seed=0)
    assert result.auc is not None and result.auc <= 0.6


def test_turn_level_auc_needs_two_turns_and_two_dialogues_per_class() -> None:
    real = _turns("r", 5, 2, "real words {d} {t}")
    assert turn_realism(real, _turns("g", 1, 8, "fake {t}")).auc is None  # one generated dialogue
    assert turn_realism(real, _turns("g", 1, 1, "fake")).auc is None
    assert turn_realism([], _turns("g", 4, 2, "fake {t}")).turns_per_class == 0


def test_copied_dialogues_with_control_text_are_not_told_apart() -> None:
    real = [dict(r, dialogue_id=f"{r['dialogue_id']}-{i}") for i in range(4) for r in clean_dialogues("redial")]
    copied = _with_control_text(real)
    by_system = compute.turn_realism_by_system({"real": real, "interplay": copied}, folds=4, seed=0)
    for role in ("user", "recommender"):
        auc = by_system["interplay"][role].auc
        assert auc is not None and auc <= 0.6, role  # the marker and notes alone would give 1.0
