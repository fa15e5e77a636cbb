"""The check of the user simulator's decision against real seekers' (benchmarks/bench_acceptance.py)."""

from __future__ import annotations

from interplay.corpus.schema import Dialogue, Message
from interplay.evaluation.acceptance import decision_figures, endings
from interplay.preprocess.profiles import Profile


def _profile(dialogue_id: str) -> Profile:
    return Profile.from_row({
        "profile_id": f"p-{dialogue_id}", "dialogue_id": dialogue_id, "split": "test",
        "preference_summary": "You love comedies.",
        "target_attributes": {"genres": ["comedy"], "decade": "1990s", "directors": [], "actors": []},
        "target_attributes_text": "A comedy from the 1990s.",
        "target_item_ids": ["1"], "target_titles": ["Zebra Quest (1999)"], "opening_role": "user",
    })


def _dialogue(dialogue_id: str, accepted: bool | None) -> Dialogue:
    messages = (Message("user", "Hi, any comedy?"), Message("recommender", "Try Zebra Quest (1999)"),
                Message("user", "I will watch it, thanks [END]"), Message("recommender", "Bye"))
    return Dialogue(dialogue_id, "redial", "test", messages, (), seeker_accepted=accepted)


def test_endings_are_the_training_examples_without_their_closing_marker() -> None:
    dialogues = [_dialogue("a", True), _dialogue("b", False), _dialogue("c", None), _dialogue("d", True)]
    profiles = {d: _profile(d) for d in ("a", "b", "c")}  # d has no profile
    found = endings(dialogues, profiles, "[END]", "[ACCEPT]")
    assert [(e.dialogue_id, e.accepted) for e in found] == [("a", True), ("b", False)]  # labelled, profiled
    last = found[0].chat[-1]
    assert last == {"role": "assistant", "content": "I will watch it, thanks"}  # the real marker is gone too
    assert "[ACCEPT]" in found[0].chat[0]["content"]  # the prompt the model was trained under


def test_figures_tell_a_decision_from_the_prior() -> None:
    actual = [True] * 60 + [False] * 40
    perfect = decision_figures(actual, actual, resamples=200)
    assert perfect["model"]["precision"] == 1.0 and perfect["model"]["recall"] == 1.0
    assert perfect["always_accept"]["precision"] == 0.6  # the majority rule: the prior, all recalled
    never = decision_figures([False] * 100, actual, resamples=200)
    assert never["model"]["precision"] is None and never["model"]["recall"] == 0.0
    noisy = decision_figures([i % 2 == 0 for i in range(100)], actual, resamples=200)
    low, high = noisy["model"]["precision_ci"]
    assert low <= noisy["model"]["precision"] <= high and low < high
    assert decision_figures([i % 2 == 0 for i in range(100)], actual, resamples=200) == noisy  # seeded
