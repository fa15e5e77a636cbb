"""Reference-freeness, proven by a counterfactual, and the leak guard's attempts, counted.

The engine runs here with scripted players: the user side says the same turns whatever its
profile, the recommender's reply is a function of everything it read. Two runs whose profiles and
targets differ must then give the recommender byte-identical inputs — every prompt and every
candidate note — since nothing of a profile may reach it. The catalog holds more items than a
note lists, so a note that followed the target (not the conversation) would differ between runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pytest
from dialogue_fixtures import CATALOG as CATALOG_ROWS

from interplay.config.params import RetrieverParams, SamplingParams
from interplay.corpus.catalog import Catalog, CatalogItem
from interplay.corpus.schema import Dialogue, ItemMention, Message
from interplay.dialogue.rows import ChatMessage
from interplay.grounding.notes import NOTE_HEADS, Grounder
from interplay.preprocess.profiles import Profile
from interplay.simulation.conversation import Conversation
from interplay.simulation.engine import RETRIES, EngineSettings, RolePlayer, run_conversations
from interplay.simulation.records import dialogue_row

SAMPLING = SamplingParams()
CATALOG = Catalog.from_items(
    [CatalogItem(str(r["item_id"]), r["title"].rsplit(" (", 1)[0], r["year"], tuple(r["genres"]), tuple(r["directors"]),
                 tuple(r["actors"])) for r in CATALOG_ROWS]
    + [CatalogItem("6", "Moon Harbor", 2004, ("drama",), ("Ada Lind",), ("Ben Roe",)),
       CatalogItem("7", "Glass Orchard", 1996, ("mystery",), ("Cy Hale",), ("Dee Moss",))]
)
TRAIN = [
    Dialogue(f"t{i}", "redial", "train",
             (Message("user", text), Message("recommender", f"Try {CATALOG.by_id[item].title}")),
             (ItemMention(item, CATALOG.by_id[item].title, 1, "recommender"),))
    for i, (text, item) in enumerate([("something funny", "1"), ("a good comedy", "2"), ("scary please", "3"),
                                      ("a horror night", "4"), ("for the kids", "5"), ("a drama", "6")])
]
USER_SCRIPT = ["Hi! I want a movie for tonight.", "Something that makes me laugh, maybe.", "Thanks, I will watch it. [END]"]


def _profile(pid: str, target: str, secret: str) -> Profile:
    item = CATALOG.by_id[target]
    return Profile.from_row({
        "profile_id": pid, "dialogue_id": f"d-{pid}", "split": "test",
        "preference_summary": f"You love {secret} films such as Glass Orchard (1996).",
        "target_attributes": {"genres": list(item.genres), "decade": f"{item.year // 10 * 10}s",
                              "directors": list(item.directors), "actors": list(item.actors)},
        "target_attributes_text": f"A {secret} {' '.join(item.genres)} film by {', '.join(item.directors)}.",
        "target_item_ids": [target], "target_titles": [item.title], "opening_role": "user",
    })


class ScriptedUser:
    """The user side: its n-th reply in a conversation (resampled ones included) is
    ``script[n]`` (the last one over and over after the end), whatever it reads."""

    def __init__(self, script: Sequence[str]) -> None:
        self.script = list(script)
        self.inputs: list[list[ChatMessage]] = []
        self.calls: dict[Any, int] = {}

    def generate(self, chats: Sequence[list[ChatMessage]], sampling: Any, adapter: Any, *, keys: Sequence[Any],
                 **_: Any) -> tuple[list[str], int]:
        self.inputs.extend(chats)
        replies = []
        for key in keys:
            n = self.calls.get(key, 0)
            self.calls[key] = n + 1
            replies.append(self.script[min(n, len(self.script) - 1)])
        return replies, 0


class EchoingRecommender:
    """The recommender side: a catalog title picked by a hash of everything it read, so that any
    difference in its input shows in the dialogue too."""

    def __init__(self) -> None:
        self.inputs: list[list[ChatMessage]] = []

    def generate(self, chats: Sequence[list[ChatMessage]], sampling: Any, adapter: Any, **_: Any) -> tuple[list[str], int]:
        self.inputs.extend(chats)
        items = sorted(CATALOG.by_id)
        picks = [CATALOG.by_id[items[int(hashlib.sha256(repr(c).encode()).hexdigest(), 16) % len(items)]] for c in chats]
        return [f"How about {item.title}?" for item in picks], 0


def _run(profiles: list[Profile], user: ScriptedUser, grounder: Grounder | None) -> tuple[list[Conversation], EchoingRecommender]:
    recommender = EchoingRecommender()
    players = {"user": RolePlayer(user, "user", SAMPLING), "recommender": RolePlayer(recommender, "recommender", SAMPLING)}
    settings = EngineSettings(batch_size=2, max_turns=8, end_marker="[END]", grounder=grounder)
    conversations = [Conversation(p, p.opening_role) for p in profiles]  # type: ignore[arg-type]
    done, _ = run_conversations(conversations, players, settings, CATALOG.title_index, seed=3)
    return done, recommender


@pytest.fixture(scope="module")
def grounder() -> Grounder:
    assert len(CATALOG) > RetrieverParams().candidates  # a note lists some items, not all
    return Grounder.fit(CATALOG, TRAIN, RetrieverParams())


def test_profiles_and_targets_never_change_what_the_recommender_reads(grounder: Grounder) -> None:
    """The counterfactual: other profiles, other targets, the same user turns -> the same bytes."""
    first_profiles = [_profile("a", "3", "zanzibar"), _profile("b", "1", "velvet")]
    second_profiles = [_profile("a", "5", "quokka"), _profile("b", "2", "marigold")]
    user_a, user_b = ScriptedUser(USER_SCRIPT), ScriptedUser(USER_SCRIPT)
    first, seen_a = _run(first_profiles, user_a, grounder)
    second, seen_b = _run(second_profiles, user_b, grounder)

    assert seen_a.inputs and repr(seen_a.inputs) == repr(seen_b.inputs)  # every prompt, byte for byte
    assert [c.notes for c in first] == [c.notes for c in second]  # the candidate and item notes
    assert [c.candidates for c in first] == [c.candidates for c in second]
    assert any(NOTE_HEADS[0] in m["content"] for chat in seen_a.inputs for m in chat)  # grounded indeed
    assert user_a.inputs != user_b.inputs  # the user side did read its (different) profiles

    recommender_text = repr(seen_a.inputs + seen_b.inputs)
    for profile in first_profiles + second_profiles:  # nor any piece of a profile, partial or whole
        secret = profile.preference_summary.split()[2]
        assert secret not in recommender_text
        assert profile.target_attributes_text not in recommender_text
        assert any(secret in repr(chat) for chat in user_a.inputs + user_b.inputs)
    assert "[For you" not in recommender_text  # the wish note is the user's alone
    assert any("[For you" in repr(chat) for chat in user_a.inputs)  # ...and the user did get it


def test_the_leak_guard_counts_the_turns_it_rejects() -> None:
    """A user that names its target before the recommender did is resampled; how often is kept
    in the row, so the attempts are reported although the published text never shows them."""
    leaking = ScriptedUser(["Is it The Shining (1980)?", "Is it The Shining (1980)?"])  # always tries
    done, _ = _run([_profile("a", "3", "zanzibar")], leaking, None)
    (conversation,) = done
    assert conversation.termination_reason == "leak_guard" and conversation.messages == []
    assert conversation.leak_guard_rejections == RETRIES + 1
    row = dialogue_row(conversation, source="interplay", titles={}, seed=1, shard=0, shard_seed=1, sampling={},
                       models={"user": "u", "recommender": "r"}, params_hash="h")
    assert row["outcome"] == "error" and row["leak_guard_rejections"] == RETRIES + 1

    honest = ScriptedUser(USER_SCRIPT)
    (clean,), _ = _run([_profile("a", "3", "zanzibar")], honest, None)
    assert clean.leak_guard_rejections == 0 and clean.termination_reason == "end_marker"


def test_note_text_a_model_copies_into_its_turn_never_enters_the_conversation(grounder: Grounder) -> None:
    """Both roles read notes after the other side's turns; a reply that copies one (the user's
    wish note names what the profile wants) is cleaned before anyone reads it, and a reply that
    is nothing but a note is resampled like an empty one."""
    copying = ScriptedUser([
        "[For you: Beerfest (2006) fits 2 of 3: comedy, 2000s]",  # a note alone: resampled
        "I like comedies [For you: Beerfest (2006) fits 2 of 3: comedy, 2000s] a lot.",
        "Sure [About Beerfest (2006): comedy; 2000s; directed by Jay Chandrasekhar",  # cut off inside a note
        "Thanks! [END]",
    ])
    (conversation,), recommender = _run([_profile("a", "3", "zanzibar")], copying, grounder)
    user_turns = [m["content"] for m in conversation.messages if m["role"] == "user"]
    assert user_turns[:2] == ["I like comedies a lot.", "Sure"]
    assert not any(head in m["content"] for m in conversation.messages for head in NOTE_HEADS)
    assert "[For you" not in repr(recommender.inputs)
