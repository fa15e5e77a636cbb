"""The catalog retriever and the notes it grounds both simulators with."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.config.params import RetrieverParams
from interplay.corpus.catalog import Catalog, CatalogItem
from interplay.corpus.schema import Dialogue, ItemMention, Message
from interplay.grounding.notes import (
    Grounder,
    candidate_note,
    item_note,
    training_candidate_notes,
    training_item_notes,
)
from interplay.grounding.retriever import Said, fit_retriever, normalize_query
from interplay.preprocess.sft import recommender_example

CATALOG = Catalog.from_items(
    [
        CatalogItem("1", "Halloween", 1978, ("horror", "thriller"), ("John Carpenter",), ("Jamie Lee Curtis",),
                    "A masked killer stalks babysitters on Halloween night."),
        CatalogItem("2", "Superbad", 2007, ("comedy",), ("Greg Mottola",), ("Jonah Hill", "Michael Cera")),
        CatalogItem("3", "Pineapple Express", 2008, ("comedy", "crime"), ("David Gordon Green",), ("Seth Rogen", "Jonah Hill")),
        CatalogItem("4", "Notting Hill", 1999, ("romance", "comedy"), ("Roger Michell",), ("Julia Roberts", "Hugh Grant")),
        CatalogItem("5", "The Fog", 1980, ("horror",), ("John Carpenter",), ("Adrienne Barbeau",)),
        CatalogItem("6", "Obscure Short", 2016, ("short",), (), ()),
        CatalogItem("7", "Frozen", None, ("animation",), (), ("Kristen Bell",)),
        CatalogItem("8", "Timecop", 1994, ("action",), (), (), "A cop travels through time to stop a senator."),
        CatalogItem("9", "Beauty and the Beast", 2017, ("family", "fantasy"), ("Bill Condon",), ("Emma Watson",)),
        CatalogItem("10", "Beauty and the Beast", 1991, ("family", "fantasy", "animation"), (), ("Paige O'Hara",)),
        CatalogItem("11", "Beauty and the Beast", 2009, ("family", "fantasy"), (), ()),
        CatalogItem("12", "Little Women", 1994, ("family", "drama"), (), ("Winona Ryder",)),
        CatalogItem("13", "Little women", 2019, ("family", "drama"), (), ("Emma Watson",)),
    ]
)


def _dialogue(dialogue_id: str, split: str, turns: list[tuple[str, str, list[str]]]) -> Dialogue:
    messages = tuple(Message(role, text) for role, text, _ in turns)  # type: ignore[arg-type]
    mentions = tuple(
        ItemMention(item, CATALOG.by_id[item].title, t, role)  # type: ignore[arg-type]
        for t, (role, _, items) in enumerate(turns) for item in items
    )
    return Dialogue(dialogue_id, "redial", split, messages, mentions)  # type: ignore[arg-type]


TRAIN = [
    _dialogue("a", "train", [("user", "I loved Superbad (2007)", ["2"]), ("recommender", "Pineapple Express (2008)!", ["3"])]),
    _dialogue("b", "train", [("user", "scary please", []), ("recommender", "Halloween (1978)", ["1"])]),
    _dialogue("c", "train", [("user", "hi", []), ("recommender", "Halloween (1978) or The Fog (1980)", ["1", "5"])]),
    _dialogue("d", "train", [("user", "hi", []), ("recommender", "Notting Hill (1999)", ["4"])]),
    _dialogue("e", "train", [("user", "hi", []), ("recommender", "Timecop (1994)", ["8"])]),
]


@pytest.fixture(scope="module")
def grounder() -> Grounder:
    return Grounder.fit(CATALOG, TRAIN, RetrieverParams())


def test_queries_speak_the_catalogs_words() -> None:
    assert normalize_query("Romantic comedies from the 80s or 1990's") == "romance comedy from the decade1980s or decade1990s"
    assert "decade1970s" in normalize_query("something from the seventies")


def test_what_the_seeker_asks_for_comes_first(grounder: Grounder) -> None:
    assert grounder.candidates_for([Said("user", "a romantic comedy with Julia Roberts")])[0] == "4"
    assert grounder.candidates_for([Said("user", "horror with adrienne barbeau")])[0] == "5"  # a full name, any case


def test_the_plot_matches_what_the_movie_is_about(grounder: Grounder) -> None:
    assert grounder.candidates_for([Said("user", "anything about time travel?")])[0] == "8"


def test_a_one_word_name_is_not_a_person_and_yearless_items_are_never_offered(grounder: Grounder) -> None:
    ranked = grounder.retriever.rank([Said("user", "an animated movie with Kristen Bell, or young Hill")], 8)
    assert "7" not in ranked  # "Frozen" has no year: it could not be written Title (Year)
    assert ranked[0] != "4"  # "Hill" alone is not Jonah Hill, nor Notting Hill's cast


def test_items_like_the_seekers_own_and_never_one_already_mentioned(grounder: Grounder) -> None:
    said = [Said("user", "I loved Superbad (2007)", ("2",))]
    ranked = grounder.candidates_for(said)
    assert ranked[0] == "3" and "2" not in ranked  # same cast and genre, co-mentioned in train


def test_one_item_per_base_title_and_never_a_namesake_of_one_said(grounder: Grounder) -> None:
    ranked = grounder.retriever.rank([Said("user", "I loved Beauty and the Beast (2017)", ("9",))], 13)
    assert not {"9", "10", "11"} & set(ranked)  # remakes of what was said are not new suggestions
    assert len({"12", "13"} & set(ranked)) == 1  # same name, any case: one of them only
    everything = grounder.retriever.rank([Said("user", "a family fantasy")], 13)
    assert len({"9", "10", "11"} & set(everything)) == 1 and len(everything) == len(set(everything))


def test_the_words_said_before_a_train_recommendation_find_that_item(grounder: Grounder) -> None:
    signals = grounder.retriever.signals([Said("user", "scary please")])
    assert signals["context"].argmax() == 0  # dialogue b: "scary please" -> Halloween (1978)


def test_nothing_said_yet_gives_the_popular_items(grounder: Grounder) -> None:
    assert grounder.candidates_for([])[0] == "1"  # the most recommended train item


def test_conversations_scored_together_score_as_alone(grounder: Grounder) -> None:
    conversations = [
        [Said("user", "I loved Superbad (2007)", ("2",))],
        [],
        [Said("user", "scary please"), Said("recommender", "Halloween (1978)?", ("0",)), Said("user", "more")],
        [Said("user", "a romantic comedy with Julia Roberts")],
    ]
    together = grounder.retriever.signals_batch(conversations)
    for said, signals in zip(conversations, together, strict=True):
        alone = grounder.retriever.signals(said)
        assert signals.keys() == alone.keys()
        assert all(np.array_equal(signals[name], alone[name]) for name in alone)
    ranked = grounder.candidates_for_each(conversations)
    assert ranked == [grounder.candidates_for(said) for said in conversations]


def test_ranking_is_deterministic_and_fits_on_train_only() -> None:
    said = [Said("user", "something funny")]
    first = fit_retriever(CATALOG, TRAIN, RetrieverParams()).rank(said, 6)
    assert fit_retriever(CATALOG, TRAIN, RetrieverParams()).rank(said, 6) == first
    held_out = _dialogue("v", "validation", [("user", "hi", [])])
    with pytest.raises(ValueError, match="train dialogues only"):
        fit_retriever(CATALOG, [*TRAIN, held_out], RetrieverParams())


def test_notes_name_titles_with_their_facts() -> None:
    note = candidate_note([CATALOG.by_id["2"], CATALOG.by_id["1"]])
    assert note == "[Candidates: Superbad (2007): comedy, Jonah Hill | Halloween (1978): horror, thriller, Jamie Lee Curtis]"
    facts = item_note([CATALOG.by_id["1"]])
    assert facts == "[About Halloween (1978): horror, thriller; 1970s; directed by John Carpenter; starring Jamie Lee Curtis]"


def test_training_notes_plant_the_real_next_movie(grounder: Grounder) -> None:
    dialogue = _dialogue("d", "train", [
        ("user", "hi, anything?", []), ("recommender", "Have you seen Obscure Short (2016)?", ["6"]),
        ("user", "no", []), ("recommender", "ok", []),
    ])
    notes = training_candidate_notes(dialogue, grounder)
    assert set(notes) == {0, 2}
    assert "Obscure Short (2016)" in notes[0] and notes[0].count(" | ") == 2  # planted, still 3
    assert "Obscure Short (2016)" not in notes[2]  # said already: never a candidate again
    assert training_candidate_notes(dialogue, grounder) == notes
    assert training_item_notes(dialogue, grounder) == {1: item_note([CATALOG.by_id["6"]])}


def test_notes_follow_the_other_roles_messages_only(grounder: Grounder) -> None:
    dialogue = TRAIN[0]
    example = recommender_example(dialogue, training_candidate_notes(dialogue, grounder))
    assert example is not None
    assert "[Candidates: " in example[1]["content"] and example[1]["role"] == "user"
    assert example[2] == {"role": "assistant", "content": "Pineapple Express (2008)!"}
