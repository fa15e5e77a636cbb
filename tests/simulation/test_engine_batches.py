"""How the engine batches the two roles: one batch for both where one model plays both sides with
the same adapter and sampling (the baselines), one batch per role otherwise (Interplay)."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
from test_simulation import INDEX, SAMPLING, SECRET, one_writer, players_for, profile

from interplay.simulation.conversation import TERMINATIONS, Conversation
from interplay.simulation.engine import EngineSettings, RolePlayer, run_conversations

MAX_TURNS = 6


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_lm import save_tiny

    return save_tiny(tmp_path_factory.mktemp("tiny") / "model")


#: Per call of a generator, per row: its conversation (its key's id), its role, its prompt as text.
Calls = list[list[tuple[int, str, str]]]


def spied(players: dict[str, RolePlayer]) -> Calls:
    """Records each call of the players' generator(s)."""
    calls: Calls = []
    for generator in {id(p.generator): p.generator for p in players.values()}.values():
        original = generator.generate

        def spy(chats, sampling, adapter, *, keys, cache, original=original):
            calls.append([(key[0], key[1], str(chat)) for key, chat in zip(keys, chats)])
            return original(chats, sampling, adapter, keys=keys, cache=cache)

        generator.generate = spy  # type: ignore[method-assign]
    return calls


def simulate(players: dict[str, RolePlayer], n: int, batch_size: int, seed: int = 3) -> list[Conversation]:
    settings = EngineSettings(batch_size=batch_size, max_turns=MAX_TURNS, end_marker="[END]")
    conversations = [Conversation(profile=profile(i), opening_role=profile(i).opening_role) for i in range(n)]
    return run_conversations(conversations, players, settings, INDEX, seed)[0]


def assert_well_formed(conversations: list[Conversation]) -> None:
    for conversation in conversations:
        roles = [m["role"] for m in conversation.messages]
        assert conversation.termination_reason in TERMINATIONS
        assert roles[:1] in ([], [conversation.opening_role])
        assert all(a != b for a, b in pairwise(roles))  # roles alternate
        assert len(roles) <= MAX_TURNS
        if conversation.termination_reason == "max_turns":
            assert len(roles) == MAX_TURNS
        if conversation.termination_reason == "end_marker":
            assert roles[-1] == "user"


@pytest.mark.parametrize("adapter", ["user", None])
def test_one_writer_generates_both_roles_in_one_batch_per_step(tiny_dir: Path, adapter: str | None) -> None:
    players = one_writer(tiny_dir, adapter)
    calls = spied(players)
    conversations = simulate(players, 6, batch_size=4)  # all six fit one batch of 2 x 4 rows
    assert_well_formed(conversations)
    assert roles(calls[0]) == {"user", "recommender"} and len(calls[0]) == 6
    # one call per step, each holding every conversation still going: a conversation leaves the
    # calls when it ends and never misses one before
    for before, after in pairwise(calls):
        assert {row[0] for row in after} <= {row[0] for row in before}
    turns = sum(len(c.messages) for c in conversations)
    assert turns <= sum(len(call) for call in calls) <= turns + len(conversations) * 3  # kept, resampled, ending
    for call in calls:  # each row is shown its own role's view: the profile only in the user's
        assert all((SECRET in prompt) == (role == "user") for _, role, prompt in call)


def roles(call: list[tuple[int, str, str]]) -> set[str]:
    return {role for _, role, _ in call}


def test_a_shared_batch_holds_up_to_two_batches_of_rows(tiny_dir: Path) -> None:
    players = one_writer(tiny_dir)
    calls = spied(players)
    assert_well_formed(simulate(players, 8, batch_size=2))  # pool of 5: more waiting than one batch
    assert max(len(call) for call in calls) == 4
    assert any(roles(call) == {"user", "recommender"} for call in calls)


@pytest.mark.parametrize("differ", ["adapter", "sampling"])
def test_roles_that_differ_keep_one_batch_each(tiny_dir: Path, differ: str) -> None:
    players = players_for(tiny_dir) if differ == "adapter" else one_writer(tiny_dir)
    if differ == "sampling":
        slower = replace(players["recommender"], sampling=SAMPLING.model_copy(update={"temperature": 0.5}))
        players = {**players, "recommender": slower}
    calls = spied(players)
    assert_well_formed(simulate(players, 6, batch_size=4))
    assert all(len(roles(call)) == 1 for call in calls)
    assert max(len(call) for call in calls) <= 4


def test_a_shared_batch_gives_the_same_dialogues_for_a_seed(tiny_dir: Path) -> None:
    runs = []
    for _ in range(2):
        players = one_writer(tiny_dir)
        calls = spied(players)
        runs.append([(c.messages, c.termination_reason) for c in simulate(players, 6, batch_size=2, seed=11)])
        assert any(len(roles(call)) == 2 for call in calls)
    assert runs[0] == runs[1]
    assert any(messages for messages, _ in runs[0])
