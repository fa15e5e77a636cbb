"""Each role's shared opening (chat template start + constant head of its system prompt) is
encoded once per role, not once per conversation, and replies do not change for it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_simulation import INDEX, SAMPLING, players_for

from interplay.preprocess.profiles import Profile
from interplay.simulation import engine
from interplay.simulation.conversation import Conversation
from interplay.simulation.engine import EngineSettings, RolePlayer, opening_ids, run_conversations

GREEDY = SAMPLING.model_copy(update={"temperature": 0.0})
SETTINGS = EngineSettings(batch_size=8, max_turns=1, end_marker="[END]")


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_lm import save_tiny

    return save_tiny(tmp_path_factory.mktemp("tiny") / "model")


def _profile(i: int) -> Profile:
    return Profile.from_row({
        "profile_id": f"p{i}", "dialogue_id": f"d{i}", "split": "test",
        "preference_summary": ["I love old westerns.", "Cartoons, mostly.", "Anything scary!"][i % 3] * (i + 1),
        "target_attributes": {"genres": ["comedy"], "decade": "1990s", "directors": [], "actors": []},
        "target_attributes_text": f"A comedy from the {1950 + 10 * i}s.",
        "target_item_ids": ["1"], "target_titles": ["Zebra Quest (1999)"],
        "opening_role": "user" if i % 2 else "recommender",
    })


def _prefill_counter(model: Any) -> list[int]:
    """Counts prompt tokens run through ``model`` as benchmarks/bench_simulate_stage.py does: the
    real (unmasked) tokens of every forward over more than one new column."""
    counted = [0]
    forward = model.forward

    def counting(*args: Any, **kwargs: Any) -> Any:
        width = kwargs["input_ids"].shape[1]
        if width > 1:
            counted[0] += int(kwargs["attention_mask"][:, -width:].sum())
        return forward(*args, **kwargs)

    model.forward = counting
    return counted


def _first_turns(players: dict[str, RolePlayer], n: int) -> list[Conversation]:
    conversations = [Conversation(_profile(i), _profile(i).opening_role) for i in range(n)]  # type: ignore[arg-type]
    return run_conversations(conversations, players, SETTINGS, INDEX, seed=5)[0]


def test_conversations_after_the_first_encode_fewer_prompt_tokens_by_their_roles_head(
    tiny_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six conversations, three opening with each role, one turn each: with the heads, each role's
    opening is encoded once (alone) instead of once per conversation, and the greedy turns are the
    same as when every prompt is encoded in full."""
    players = {role: replace(p, sampling=GREEDY) for role, p in players_for(tiny_dir).items()}
    counted = _prefill_counter(players["user"].generator.model)
    with_heads = _first_turns(players, 6)
    encoded_with_heads = counted[0]
    heads = {role: opening_ids(players[role], role, SETTINGS) for role in ("user", "recommender")}
    for conversation in with_heads:  # each head opens the real first prompt of its role
        role = conversation.opening_role
        prompt = engine._prompt(players[role], Conversation(conversation.profile, role), SETTINGS)
        assert players[role].generator.prompt_ids(prompt, GREEDY.max_new_tokens)[: len(heads[role])] == heads[role]
    assert all(len(ids) > 20 for ids in heads.values())

    monkeypatch.setattr(engine, "set_heads", lambda *_: None)
    counted[0] = 0
    in_full = _first_turns(players, 6)
    assert encoded_with_heads == counted[0] - 2 * len(heads["user"]) - 2 * len(heads["recommender"])
    assert [c.messages for c in with_heads] == [c.messages for c in in_full]
    assert [c.termination_reason for c in with_heads] == [c.termination_reason for c in in_full]
