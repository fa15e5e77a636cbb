"""Wish notes: the user simulator is told what of its own wish an offered item has, the
recommender never is (reference-free), and training data and simulation write them alike."""

from __future__ import annotations

from dataclasses import asdict

from interplay.config.params import RetrieverParams
from interplay.corpus.catalog import Catalog, CatalogItem
from interplay.corpus.schema import Dialogue, ItemMention, Message
from interplay.dialogue.metrics import match_score, shared_attributes
from interplay.grounding.notes import WISH_HEAD, Grounder, item_note, training_item_notes, wish_note
from interplay.preprocess.profiles import Profile
from interplay.simulation.conversation import Conversation, add_turn, ground, recommender_view, user_view

CATALOG = Catalog.from_items([
    CatalogItem("1", "Happy Gilmore", 1996, ("comedy", "sport"), ("Dennis Dugan",), ("Adam Sandler", "Christopher McDonald")),
    CatalogItem("2", "Halloween", 1978, ("horror", "thriller"), ("John Carpenter",), ("Jamie Lee Curtis",)),
    CatalogItem("3", "Beauty and the Beast", 1992),  # a namesake's record: no facts
])
WISH = {"genres": ["comedy"], "decade": "1990s", "directors": [], "actors": ["Adam Sandler"]}
SECRET = "zanzibar-velvet"


def profile() -> Profile:
    return Profile.from_row({
        "profile_id": "p1", "dialogue_id": "d1", "split": "test",
        "preference_summary": f"You love {SECRET} comedies.",
        "target_attributes": WISH,
        "target_attributes_text": f"A {SECRET} comedy from the 1990s starring Adam Sandler.",
        "target_item_ids": ["9"], "target_titles": ["Billy Madison (1995)"], "opening_role": "recommender",
    })


def test_the_note_states_what_of_the_wish_each_item_has() -> None:
    items = [CATALOG.by_id[i] for i in ("1", "2", "3")]
    assert wish_note(items, WISH) == (
        "[For you: Happy Gilmore (1996) fits 3 of 3: comedy, 1990s, Adam Sandler] "
        "[For you: Halloween (1978) fits 0 of 3]"
    )  # an item without facts gets no verdict: nothing is known to compare
    shared = shared_attributes(asdict(CATALOG.by_id["1"]) | {"decade": "1990s"}, WISH)
    assert shared == {"genres": ["comedy"], "decade": ["1990s"], "actors": ["Adam Sandler"]}
    assert match_score(asdict(CATALOG.by_id["1"]) | {"decade": "1990s"}, WISH) == 1.0  # one definition


def test_training_notes_carry_the_wish_after_the_facts() -> None:
    grounder = Grounder.fit(CATALOG, [], RetrieverParams())
    dialogue = Dialogue("d1", "redial", "train", (
        Message("user", "something funny?"), Message("recommender", "Happy Gilmore (1996)!"),
    ), (ItemMention("1", "Happy Gilmore (1996)", 1, "recommender"),))
    notes = training_item_notes(dialogue, grounder, WISH)
    assert notes == {1: item_note([CATALOG.by_id["1"]]) + " [For you: Happy Gilmore (1996) fits 3 of 3: comedy, 1990s, Adam Sandler]"}
    assert training_item_notes(dialogue, grounder) == {1: item_note([CATALOG.by_id["1"]])}


def test_only_the_user_reads_the_wish_note() -> None:
    grounder = Grounder.fit(CATALOG, [], RetrieverParams())
    conversation = Conversation(profile(), "recommender")
    add_turn(conversation, "Have you seen Happy Gilmore (1996)?", end_marker="[END]", max_turns=8,
             index=CATALOG.title_index, link_cutoff=90.0)
    ground(conversation, grounder)
    add_turn(conversation, "No, is it funny?", end_marker="[END]", max_turns=8,
             index=CATALOG.title_index, link_cutoff=90.0)
    ground(conversation, grounder)
    seen_by_user = str(user_view(conversation, "[END]"))
    assert "[For you: Happy Gilmore (1996) fits 3 of 3: comedy, 1990s, Adam Sandler]" in seen_by_user
    assert "[About Happy Gilmore (1996)" in seen_by_user
    seen_by_recommender = str(recommender_view(conversation.messages, conversation.notes))
    assert WISH_HEAD not in seen_by_recommender and SECRET not in seen_by_recommender
    assert WISH_HEAD not in str(conversation.notes)  # the shared notes hold nothing of the wish
    assert "[Candidates: " in seen_by_recommender
