"""The paired simulation engine on a tiny model: reference-free, deterministic, resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from interplay.config.params import SamplingParams
from interplay.preprocess.profiles import Profile
from interplay.simulation import shards
from interplay.simulation.conversation import Conversation, add_turn, outcome
from interplay.simulation.engine import EngineSettings, RolePlayer, TurnGenerator
from interplay.simulation.linking import link_titles
from interplay.simulation.run import ShardJob, in_process, opening_role, select_profiles, simulate_to_file
from interplay.text.titles import TitleIndex

SECRET = "zanzibar-velvet"  # a string only the profile holds
INDEX = TitleIndex.build(
    [("1", "Zebra Quest", 1999), ("2", "Moon Harbor", 2004), ("3", "The Shining", 1980), ("4", "It", 2017)]
)
TITLES = {"1": "Zebra Quest (1999)", "2": "Moon Harbor (2004)", "3": "The Shining (1980)", "4": "It (2017)"}
SAMPLING = SamplingParams(temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=8, no_repeat_ngram_size=0)


def profile(i: int) -> Profile:
    return Profile.from_row({
        "profile_id": f"p{i:03d}",
        "dialogue_id": f"d{i:03d}",
        "split": "test",
        "preference_summary": f"You love {SECRET} comedies such as Moon Harbor (2004).",
        "target_attributes": {"genres": ["comedy"], "decade": "1990s", "directors": [], "actors": []},
        "target_attributes_text": f"A {SECRET} comedy from the 1990s.",
        "target_item_ids": ["1"],
        "target_titles": ["Zebra Quest (1999)"],
        "opening_role": "recommender" if i % 3 else "user",
    })


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_lm import save_tiny

    return save_tiny(tmp_path_factory.mktemp("tiny") / "model")


def players_for(model_dir: Path) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model

    from interplay.training.finetune import load_base

    model, tokenizer = load_base(model_dir)
    torch.manual_seed(0)  # the adapters' random weights are part of the "model"
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    model = get_peft_model(model, config, adapter_name="user")
    model.add_adapter("recommender", config)
    generator = TurnGenerator(model.eval(), tokenizer, max_context_tokens=256)
    return {role: RolePlayer(generator, role, SAMPLING) for role in ("user", "recommender")}


def one_writer(model_dir: Path, adapter: str | None = "user") -> dict:
    """Both sides played by one generator with one adapter and one sampling, as in the baselines:
    a script writer (one adapter of a model that holds two), or None: the bare model (zero-shot)."""
    if adapter is None:
        from interplay.training.finetune import load_base

        model, tokenizer = load_base(model_dir)
        generator = TurnGenerator(model.eval(), tokenizer, max_context_tokens=256)
    else:
        generator = players_for(model_dir)["user"].generator
    return {role: RolePlayer(generator, adapter, SAMPLING) for role in ("user", "recommender")}


def job(seed: int = 7, shard_size: int = 2) -> ShardJob:
    settings = EngineSettings(batch_size=4, max_turns=6, end_marker="[END]")
    return ShardJob("interplay", seed, None, settings, TITLES, {"user": "u", "recommender": "r"}, "h", shard_size)


def simulate(profiles: list[Profile], shard_size: int, players: dict, work: Path, out: Path):
    """The stage's own path (:func:`simulate_to_file`), shards run in this process."""
    shard_job = job(shard_size=shard_size)
    return simulate_to_file(shard_job, profiles, in_process(shard_job, players, INDEX), work, out)


def test_linking_finds_titles_with_and_without_year() -> None:
    text = "Yes The Shining (1980) is scary, and Zebra Quest is fun. It is late."
    assert link_titles(text, INDEX) == ["3", "1"]  # "It" alone is a common word, not a title
    # written in lowercase, a title is ordinary words (the catalog is full of everyday phrases)
    assert link_titles("zebra quest is fun", INDEX) == []


def test_acceptance_is_the_users_marker_after_a_recommendation() -> None:
    kw = dict(end_marker="[END]", accept_marker="[ACCEPT]", max_turns=10, index=INDEX, link_cutoff=90)
    conv = Conversation(profile=profile(1), opening_role="recommender")
    add_turn(conv, "Try Zebra Quest (1999)!", **kw)
    add_turn(conv, "Great, I will watch it. Bye [Accept]", **kw)
    assert conv.termination_reason == "end_marker" and conv.user_decision == "accept"
    assert outcome(conv) == ("accepted", "1")
    assert conv.messages[-1]["content"] == "Great, I will watch it. Bye"

    # Ending with the end marker after a recommendation is a refusal, not an acceptance (the old
    # rule counted it as accepted: "No I haven't watched it either. Bye [END]").
    declined = Conversation(profile=profile(2), opening_role="recommender")
    add_turn(declined, "Try Zebra Quest (1999)!", **kw)
    add_turn(declined, "No, I have no idea about that one. Thanks anyway [END]", **kw)
    assert declined.user_decision == "decline"
    assert outcome(declined) == ("gave_up", None)

    gave_up = Conversation(profile=profile(2), opening_role="recommender")
    add_turn(gave_up, "What kind of movies do you like?", **kw)
    add_turn(gave_up, "Nothing for me, bye [END]", **kw)
    assert outcome(gave_up) == ("gave_up", None)

    # Accepting when nothing linkable was recommended names no item: not a success.
    nothing = Conversation(profile=profile(3), opening_role="recommender")
    add_turn(nothing, "What kind of movies do you like?", **kw)
    add_turn(nothing, "Sounds good, I will take it [ACCEPT]", **kw)
    assert outcome(nothing) == ("gave_up", None)

    greeting = Conversation(profile=profile(3), opening_role="user")
    add_turn(greeting, "Hello!", **kw)
    add_turn(greeting, "Hello!", **kw)  # a short echo of the other side is how dialogues open
    assert greeting.termination_reason is None and len(greeting.messages) == 2
    add_turn(greeting, "Hello!", **kw)  # the user repeating itself is a loop
    assert greeting.termination_reason == "repeated_turn" and len(greeting.messages) == 2

    echo = Conversation(profile=profile(4), opening_role="user")
    add_turn(echo, "I love old westerns with Clint Eastwood", **kw)
    add_turn(echo, "I love old westerns with Clint Eastwood", **kw)  # a long echo is a loop
    assert echo.termination_reason == "repeated_turn" and len(echo.messages) == 1


def test_reused_prompt_states_give_the_same_replies_as_encoding_from_scratch(tiny_dir: Path) -> None:
    """The engine keeps each conversation's states between turns; the replies must not change."""
    from interplay.simulation.prefix_cache import PrefixCache

    generator = players_for(tiny_dir)["user"].generator
    greedy = SamplingParams(temperature=0.0, max_new_tokens=6, no_repeat_ngram_size=0)
    first = [[{"role": "system", "content": "You are a movie fan."}, {"role": "user", "content": f"Hello {i}"}] for i in range(3)]
    cache = PrefixCache()
    keys = ["a", "b", "c"]
    replies, _ = generator.generate(first, greedy, "user", keys=keys, cache=cache)
    later = [
        chat + [{"role": "assistant", "content": reply}, {"role": "user", "content": "Tell me more" + "!" * i}]
        for i, (chat, reply) in enumerate(zip(first, replies))
    ]
    prompts = [generator.prompt_ids(chat, greedy.max_new_tokens) for chat in later]
    reused = [cache.reusable(key, ids) for key, ids in zip(keys, prompts)]
    assert all(r >= len(generator.prompt_ids(chat[:2], 0)) for r, chat in zip(reused, later))  # up to the reply
    assert generator.generate(later, greedy, "user", keys=keys, cache=cache)[0] == generator.generate(later, greedy, "user")[0]
    cache.drop("a")
    assert len(cache) == 2 and cache.reusable("a", prompts[0]) == 0


def test_a_batch_holds_its_states_in_one_buffer_with_room_for_the_reply(tiny_dir: Path) -> None:
    """Decoding writes each step's states in place: a cache that concatenated at every step would
    copy everything held (hundreds of prompt tokens) once per generated token."""
    from interplay.simulation.prefix_cache import PrefixCache

    generator = players_for(tiny_dir)["user"].generator
    chats = [[{"role": "user", "content": "Hello" + "!" * i}] for i in range(2)]
    prompts = [generator.prompt_ids(chat, 6) for chat in chats]
    layout = PrefixCache().layout(["a", "b"], prompts, generator.tokenizer.pad_token_id, reserve=6)
    width = layout.input_ids.shape[1]
    out = generator.model.generate(
        input_ids=layout.input_ids, attention_mask=layout.attention_mask, cache=layout.cache, max_new_tokens=6,
        min_new_tokens=6, do_sample=False, pad_token_id=generator.tokenizer.pad_token_id, return_dict_in_generate=True,
    )
    keys = out.cache.layers[0].keys
    assert keys.shape[2] == width + 5  # every column but the last sampled one
    rows, heads, _, dim = keys.shape
    assert keys.untyped_storage().nbytes() == rows * heads * (width + 6) * dim * keys.element_size()


def test_recommender_never_sees_the_profile(tiny_dir: Path, tmp_path: Path) -> None:
    players = players_for(tiny_dir)
    generator = players["recommender"].generator
    seen: list[tuple[str | None, str]] = []
    original = generator.generate

    def spy(chats, sampling, adapter, **kwargs):
        seen.extend((adapter, str(chat)) for chat in chats)
        return original(chats, sampling, adapter, **kwargs)

    generator.generate = spy  # type: ignore[method-assign]
    profiles = [profile(i) for i in range(6)]
    simulate(profiles, 3, players, tmp_path / "work", tmp_path / "out.parquet")
    recommender_prompts = [text for adapter, text in seen if adapter == "recommender"]
    user_prompts = [text for adapter, text in seen if adapter == "user"]
    assert recommender_prompts and user_prompts
    assert all(SECRET in text for text in user_prompts)
    for text in recommender_prompts:
        assert SECRET not in text
        assert "Zebra Quest" not in text and "1999" not in text  # the target, nor its year (the guard
        # keeps the user from naming it; a random tiny model does not write it by chance)
        assert "comedy from the 1990s" not in text


def test_same_seed_same_bytes_and_rows_follow_schema(tiny_dir: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    profiles = [profile(i) for i in range(5)]
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run / "dialogues.parquet"
        simulate(profiles, 2, players_for(tiny_dir), tmp_path / run / "work", out)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    table = pq.read_table(tmp_path / "a" / "dialogues.parquet").to_pylist()
    assert [row["profile_id"] for row in table] == [p.profile_id for p in profiles]
    for row in table:
        assert row["outcome"] in {"accepted", "gave_up", "max_turns", "error"}
        assert row["num_turns"] == len(row["messages"]) <= 6
        roles = [m["role"] for m in row["messages"]]
        assert all(a != b for a, b in zip(roles, roles[1:]))  # roles alternate


def test_each_row_carries_what_replays_its_shard(tiny_dir: Path, tmp_path: Path) -> None:
    """A row's ``shard``, ``shard_seed`` and ``sampling`` are enough to replay its shard."""
    from interplay.simulation.engine import run_conversations

    profiles = [profile(i) for i in range(5)]
    rows = simulate(profiles, 2, players_for(tiny_dir), tmp_path / "work", tmp_path / "out.parquet").to_pylist()
    assert [r["shard"] for r in rows] == [0, 0, 1, 1, 2]
    assert [r["shard_seed"] for r in rows] == [shards.shard_seed(7, r["shard"]) for r in rows]
    row = rows[3]
    sampling = row["sampling"]
    assert set(sampling["user"]) == set(SamplingParams.model_fields)  # every sampling setting is recorded
    assert sampling["user"] == sampling["recommender"] == SAMPLING.model_dump()
    assert (sampling["shard_size"], sampling["batch_size"], sampling["max_turns"], sampling["max_context_tokens"]) == (2, 4, 6, 256)

    shard = shards.cut(profiles, sampling["shard_size"])[row["shard"]]
    settings = EngineSettings(batch_size=sampling["batch_size"], max_turns=sampling["max_turns"], end_marker="[END]")
    players = {
        role: RolePlayer(player.generator, player.adapter, SamplingParams(**sampling[role]))
        for role, player in players_for(tiny_dir).items()
    }
    conversations = [Conversation(profile=p, opening_role=opening_role(p, None, row["seed"])) for p in shard]
    replayed, _ = run_conversations(conversations, players, settings, INDEX, row["shard_seed"])
    assert [c.messages for c in replayed] == [r["messages"] for r in rows if r["shard"] == row["shard"]]


def test_selection_and_opening_share_are_deterministic() -> None:
    profiles = [profile(i) for i in range(40)]
    first = select_profiles(profiles, ["test"], 10, seed=3)
    assert first == select_profiles(list(reversed(profiles)), ["test"], 10, seed=3)
    assert select_profiles(profiles, ["train"], None, seed=3) == []
    users = sum(opening_role(p, 0.25, seed=1) == "user" for p in profiles)
    assert 4 <= users <= 18
    assert opening_role(profile(0), None, 1) == "user" and opening_role(profile(1), None, 1) == "recommender"


_WORKER = """
import sys
from pathlib import Path
sys.path.insert(0, {repo!r})
sys.path.insert(0, {repo!r} + '/tests')
sys.path.insert(0, {repo!r} + '/tests/simulation')
from test_simulation import {players}, profile, simulate
simulate([profile(i) for i in range(16)], 2, {players}(Path({model!r})), Path({work!r}), Path({out!r}))
"""


@pytest.mark.parametrize("players", ["players_for", "one_writer"])  # one batch per role; one for both
def test_kill_and_resume_gives_the_same_bytes(tiny_dir: Path, tmp_path: Path, repo_root: Path, players: str) -> None:
    make_players = {"players_for": players_for, "one_writer": one_writer}[players]
    profiles = [profile(i) for i in range(16)]
    reference = tmp_path / "reference.parquet"
    simulate(profiles, 2, make_players(tiny_dir), tmp_path / "ref-work", reference)

    work, out = tmp_path / "work", tmp_path / "resumed.parquet"
    code = _WORKER.format(repo=str(repo_root), model=str(tiny_dir), work=str(work), out=str(out), players=players)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not shards.shard_path(work, 1).exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = 8 - len(shards.pending_shards(work, 8))
    assert 0 < done_before < 8, "the worker was not killed in the middle of the run"
    assert not out.exists()

    simulate(profiles, 2, make_players(tiny_dir), work, out)
    assert out.read_bytes() == reference.read_bytes()


def test_leak_guard_follows_the_leakage_metric_for_everyday_word_titles() -> None:
    from interplay.simulation.conversation import turn_problem

    conv = Conversation(profile=replace(profile(1), target_item_ids=("4",), target_titles=("It (2017)",)),
                        opening_role="user")
    assert turn_problem(conv, "I love it when a movie scares me", "[END]", 90, INDEX) is None
    assert turn_problem(conv, "Maybe something like It (2017)?", "[END]", 90, INDEX) == "leak_guard"
    zebra = Conversation(profile=profile(2), opening_role="user")
    assert turn_problem(zebra, "I want to see zebra quest", "[END]", 90, INDEX) == "leak_guard"
    assert turn_problem(zebra, "I want to see zebra quest", "[END]", None, INDEX) is None  # scripts may


def test_a_bare_end_marker_or_an_ending_first_turn_is_not_a_dialogue() -> None:
    from interplay.simulation.conversation import turn_problem

    conv = Conversation(profile=profile(1), opening_role="user")
    assert turn_problem(conv, "Bye [END]", "[END]", 90, INDEX) == "premature_end"
    conv.messages.append({"role": "user", "content": "Hi"})
    conv.messages.append({"role": "recommender", "content": "Try Moon Harbor (2004)."})
    assert turn_problem(conv, " [END] ", "[END]", 90, INDEX) == "empty_turn"
    assert turn_problem(conv, "No thanks, bye [END]", "[END]", 90, INDEX) is None

