"""The end marker is one rule: every spelling is recognized, none is left in a turn."""

from __future__ import annotations

import re

import pytest

from interplay.simulation.conversation import Conversation, add_turn
from interplay.text.end_marker import has_marker, regex_for_validation, strip_marker, strip_markers
from interplay.text.titles import TitleIndex


@pytest.mark.parametrize("text", ["ok [END]", "ok [End]", "ok [end]", "ok [ end ]", "ok[ END]", "[End] thanks"])
def test_every_spelling_is_recognized_and_removed(text: str) -> None:
    assert has_marker(text, "[END]")
    cleaned, marked = strip_marker(text, "[END]")
    assert marked and not has_marker(cleaned, "[END]")
    assert "end" not in cleaned.lower()


@pytest.mark.parametrize("text", ["the end of the movie", "[ENDING]", "END", "weekend [E N D]"])
def test_words_that_only_look_alike_are_not_the_marker(text: str) -> None:
    assert not has_marker(text, "[END]")
    assert strip_marker(text, "[END]") == (" ".join(text.split()), False)


def test_a_user_marker_in_any_case_ends_the_conversation_and_leaves_the_text() -> None:
    conversation = Conversation(profile={}, opening_role="recommender")
    index = TitleIndex.build([])
    add_turn(conversation, "Hi! What do you like?", end_marker="[END]", max_turns=10, index=index, link_cutoff=90)
    add_turn(conversation, "Thanks, I'll watch it [ End ] bye", end_marker="[END]", max_turns=10, index=index, link_cutoff=90)
    assert conversation.termination_reason == "end_marker"
    assert conversation.messages[-1]["content"] == "Thanks, I'll watch it bye"


def test_a_recommender_marker_is_removed_but_does_not_end() -> None:
    conversation = Conversation(profile={}, opening_role="recommender")
    add_turn(conversation, "Try this one [end]", end_marker="[END]", max_turns=10, index=TitleIndex.build([]), link_cutoff=90)
    assert conversation.termination_reason is None
    assert conversation.messages[-1]["content"] == "Try this one"


def test_validation_regex_matches_what_the_rule_matches() -> None:
    pattern = re.compile(regex_for_validation("[END]"))
    assert pattern.search("bye [ end ]") and not pattern.search("the end")


def test_the_users_decision_is_the_marker_it_wrote_last() -> None:
    assert strip_markers("I'll watch it, bye [ Accept ]", "[END]", "[ACCEPT]") == ("I'll watch it, bye", "accept")
    assert strip_markers("Not for me. Bye [end]", "[END]", "[ACCEPT]") == ("Not for me. Bye", "decline")
    assert strip_markers("[END] oh wait, I'll take it [ACCEPT]", "[END]", "[ACCEPT]")[1] == "accept"
    assert strip_markers("Tell me more", "[END]", "[ACCEPT]") == ("Tell me more", None)


def test_validation_regex_finds_either_marker() -> None:
    pattern = re.compile(regex_for_validation("[END]", "[ACCEPT]"))
    assert pattern.search("bye [accept]") and pattern.search("bye [ END ]") and not pattern.search("bye")
