"""Known answers for the metric functions (interplay.dialogue.metrics), on fixed text and hand-made dialogues."""

from __future__ import annotations

import pytest
from dialogue_fixtures import ATTRS_COMEDY, ATTRS_HORROR, CATALOG, clean_dialogues, dialogue

from interplay.dialogue import metrics

ITEMS = {
    row["item_id"]: {**row, "decade": metrics.decade_of(row["year"])} for row in CATALOG
}


# --- distinct-n and words ---------------------------------------------------------------------


def test_tokenize_lowercases_and_keeps_apostrophes() -> None:
    assert metrics.tokenize("Don't STOP, don't!") == ["don't", "stop", "don't"]


def test_distinct_n_on_fixed_text() -> None:
    assert metrics.distinct_n(["the cat sat on the mat"], 1) == pytest.approx(5 / 6)
    assert metrics.distinct_n(["the cat sat on the mat"], 2) == pytest.approx(1.0)
    # Pooled over texts: unigrams a b a b | a b -> 2 of 6; bigrams ab ba ab | ab -> 2 of 4.
    assert metrics.distinct_n(["a b a b", "a b"], 1) == pytest.approx(2 / 6)
    assert metrics.distinct_n(["a b a b", "a b"], 2) == pytest.approx(0.5)
    assert metrics.distinct_n(["Don't STOP, don't!"], 1) == pytest.approx(2 / 3)


def test_distinct_n_never_crosses_turns_and_is_none_without_ngrams() -> None:
    assert metrics.distinct_n(["a", "b"], 2) is None
    assert metrics.distinct_n([], 1) is None


def test_words_and_turns_per_role() -> None:
    rows = clean_dialogues()
    assert metrics.avg_turns(rows) == pytest.approx((5 + 4 + 3 + 4) / 4)
    user_turns = metrics.role_turns(rows, "user")
    assert len(user_turns) == 3 + 2 + 2 + 2
    assert metrics.avg_words_per_turn(rows, "user") == pytest.approx(
        sum(len(t.split()) for t in user_turns) / 9
    )
    assert metrics.word_count("  Hello   there, friend ") == 3


def test_duplicate_turns() -> None:
    flags = metrics.duplicate_turn_flags(["Hello!", "hello! ", "Hi", "Hello!", ""])
    assert flags == [False, True, False, True, False]
    row = dialogue("x", [("user", "Hello!"), ("recommender", "Hello!"), ("user", "ok"), ("recommender", "fine")])
    assert metrics.duplicate_turn_ratio([row]) == pytest.approx(0.25)


# --- recall@k ---------------------------------------------------------------------------------


def test_recall_at_k_on_hand_made_dialogues() -> None:
    rows = clean_dialogues()
    # Recommended [1,2] / target 2; [3] / 3; [4] / 3; [5,2] / 2.
    assert metrics.recall_at_k(rows, 1) == pytest.approx(1 / 4)
    assert metrics.recall_at_k(rows, 2) == pytest.approx(3 / 4)
    assert metrics.recall_at_k(rows, 10) == pytest.approx(3 / 4)


def test_recall_uses_distinct_items_in_order_of_first_mention() -> None:
    assert metrics.hit_at_k(["a", "a", "a", "b"], ["b"], 2)
    assert not metrics.hit_at_k(["a", "c", "b"], ["b"], 2)


def test_recall_for_real_dialogues_derives_recommended_items_from_mentions() -> None:
    real = {
        "messages": [],
        "item_mentions": [
            {"item_id": "9", "title": "X", "turn": 0, "role": "user"},
            {"item_id": "4", "title": "Y", "turn": 3, "role": "recommender"},
            {"item_id": "3", "title": "Z", "turn": 1, "role": "recommender"},
            {"item_id": "3", "title": "Z", "turn": 5, "role": "recommender"},
        ],
        "target_item_ids": ["4"],
    }
    assert metrics.recommended_items(real) == ["3", "4"]
    assert metrics.recall_at_k([real], 1) == 0.0
    assert metrics.recall_at_k([real], 2) == 1.0
    # Dialogues without a target are left out of the denominator.
    assert metrics.recall_at_k([real, {**real, "target_item_ids": []}], 2) == 1.0


# --- success and match score ------------------------------------------------------------------


def test_success_rate() -> None:
    assert metrics.success_rate(clean_dialogues()) == pytest.approx(0.5)


def test_match_score_known_answers() -> None:
    # Beerfest vs a 2000s comedy by Jay Chandrasekhar (actors unset: 3 fields) -> all shared.
    assert metrics.match_score(ITEMS["2"], ATTRS_COMEDY) == 1.0
    # Halloween (1978, horror, Jamie Lee Curtis) vs 1980s horror with Jack Nicholson: genres only.
    assert metrics.match_score(ITEMS["4"], ATTRS_HORROR) == pytest.approx(1 / 3)
    # Paddington shares nothing with the comedy target.
    assert metrics.match_score(ITEMS["5"], ATTRS_COMEDY) == 0.0
    # Case-insensitive; unknown item shares nothing; target without fields: undefined.
    assert metrics.match_score(ITEMS["2"], {**ATTRS_COMEDY, "genres": ["Comedy"]}) == 1.0
    assert metrics.match_score(None, ATTRS_COMEDY) == 0.0
    assert metrics.match_score(ITEMS["2"], {"genres": [], "decade": None, "directors": [], "actors": []}) is None


def test_mean_match_score_over_accepted_dialogues_only() -> None:
    rows = clean_dialogues()
    assert metrics.mean_match_score(rows, ITEMS) == 1.0  # d1 -> Beerfest, d2 -> The Shining
    rows[1]["accepted_item_id"] = "4"  # Halloween for the 1980s horror target
    assert metrics.mean_match_score(rows, ITEMS) == pytest.approx((1 + 1 / 3) / 2)


def test_half_match_rate_counts_unaccepted_dialogues_as_misses() -> None:
    rows = clean_dialogues()  # d1, d2 accepted (full matches), d3 gave up, d4 at max_turns
    assert metrics.half_match_rate(rows, ITEMS) == 0.5
    rows[1]["accepted_item_id"] = "4"  # Halloween for the 1980s horror target: 1/3 < 1/2
    assert metrics.half_match_rate(rows, ITEMS) == 0.25
    rows[0]["target_attributes"] = {"genres": [], "decade": None, "directors": [], "actors": []}
    assert metrics.half_match_rate(rows, ITEMS) == 0.0  # d1 has no fields: left out, 0 of 3
    assert metrics.half_match_rate(rows[:1], ITEMS) is None


def test_outcome_counts_name_every_outcome() -> None:
    rows = clean_dialogues()
    assert metrics.outcome_counts(rows) == {"accepted": 2, "gave_up": 1, "max_turns": 1, "leak_guard": 0, "error": 0}
    assert metrics.outcome_counts([]) == dict.fromkeys(metrics.OUTCOME_CLASSES, 0)


def test_the_leak_guard_is_its_own_outcome_and_its_rejections_are_reported() -> None:
    """leakage_rate reads the published text, which the guard keeps clean: the attempts it
    rejected are reported apart, and a dialogue it ended is not an ordinary error."""
    rows = clean_dialogues()
    rows[0]["leak_guard_rejections"] = 2  # tried twice, resampled, then went on
    rows[1]["leak_guard_rejections"] = 0
    rows[2].update(leak_guard_rejections=4, outcome="error", termination_reason="leak_guard", accepted_item_id=None)
    rows[3]["leak_guard_rejections"] = 0
    assert metrics.leakage_rate(rows) == 0.0  # nothing leaked into the text
    assert metrics.leak_attempt_rate(rows) == 0.5 and metrics.leak_guard_rejections_per_dialogue(rows) == 1.5
    counts = metrics.outcome_counts(rows)
    assert counts["leak_guard"] == 1 and counts["error"] == 0 and sum(counts.values()) == len(rows)
    for row in rows:  # no guard ran (a reference-dependent script): no attempt rate at all
        row["leak_guard_rejections"] = None
    assert metrics.leak_attempt_rate(rows) is None and metrics.leak_guard_rejections_per_dialogue(rows) is None


# --- leakage ----------------------------------------------------------------------------------


def test_no_leakage_in_clean_dialogues() -> None:
    rows = clean_dialogues()
    assert [metrics.dialogue_leaks(r) for r in rows] == [False] * 4
    assert metrics.leakage_rate(rows) == 0.0


def test_user_naming_target_before_recommender_leaks() -> None:
    row = dialogue(
        "leak",
        [("user", "I want something like Beerfest, any ideas?"), ("recommender", "Try Beerfest (2006).")],
        mentions=[("2", "Beerfest (2006)", 1, "recommender")],
    )
    assert metrics.leaked_targets(row) == [(0, "Beerfest (2006)")]
    assert metrics.leakage_rate([row, *clean_dialogues()]) == pytest.approx(1 / 5)


def test_fuzzy_and_linked_mentions_leak() -> None:
    fuzzy = dialogue(
        "fuzzy",
        [("user", "Something like the shinning please"), ("recommender", "Maybe Halloween (1978).")],
        targets=[("3", "The Shining (1980)")],
    )
    assert metrics.dialogue_leaks(fuzzy)
    linked = dialogue(
        "linked",
        [("user", "That Kubrick hotel one was great"), ("recommender", "Glad you liked it.")],
        mentions=[("3", "The Shining (1980)", 0, "user")],
        targets=[("3", "The Shining (1980)")],
    )
    assert metrics.dialogue_leaks(linked)


def test_naming_target_after_the_recommender_does_not_leak() -> None:
    row = dialogue(
        "after",
        [
            ("user", "Any comedy?"),
            ("recommender", "Beerfest (2006) is fun."),
            ("user", "Beerfest sounds great, thanks!"),
        ],
        mentions=[("2", "Beerfest (2006)", 1, "recommender"), ("2", "Beerfest (2006)", 2, "user")],
    )
    assert not metrics.dialogue_leaks(row)


def test_common_word_titles_need_the_rendered_title() -> None:
    target = [("7", "Up (2009)")]
    prose = dialogue("p", [("user", "What's up? I need a movie."), ("recommender", "Sure.")], targets=target)
    named = dialogue("n", [("user", "I loved Up (2009) a lot."), ("recommender", "Sure.")], targets=target)
    assert not metrics.dialogue_leaks(prose)
    assert metrics.dialogue_leaks(named)
