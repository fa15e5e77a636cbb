"""Train on generated, test on real (interplay/evaluation/downstream.py, benchmarks/bench_downstream.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from interplay.corpus.schema import Dialogue, ItemMention, Message
from interplay.evaluation.downstream import (
    Event,
    Unit,
    equal_size_sets,
    example_losses,
    generated_units,
    hits_at,
    paired_figure,
    real_turn_chat,
    real_units,
    recommendation_events,
    ratio_figure,
    rerank,
    sft_rows,
    title_log_likelihoods,
)
from interplay.preprocess.profiles import Profile

ROOT = Path(__file__).resolve().parents[2]


def _profile(pid: str, dialogue_id: str, split: str = "train") -> Profile:
    return Profile.from_row({
        "profile_id": pid, "dialogue_id": dialogue_id, "split": split,
        "preference_summary": "You love comedies.",
        "target_attributes": {"genres": ["comedy"], "decade": "1990s", "directors": [], "actors": []},
        "target_attributes_text": "A comedy from the 1990s.",
        "target_item_ids": ["1"], "target_titles": ["Zebra Quest (1999)"], "opening_role": "user",
    })


def _dialogue(dialogue_id: str, split: str = "train", mentions: tuple[ItemMention, ...] = ()) -> Dialogue:
    messages = (Message("user", "Hi, any comedy?"), Message("recommender", "Try Zebra Quest (1999)"),
                Message("user", "I will watch it, thanks [END]"), Message("recommender", "Bye"))
    return Dialogue(dialogue_id, "redial", split, messages, mentions, seeker_accepted=True)


def _generated_row(i: int, profile: Profile, split: str = "train") -> dict:
    return {"dialogue_id": f"gen-{i}", "source": "interplay", "split": split, "profile_id": profile.profile_id,
            "messages": [{"role": "recommender", "content": "Hello!"}, {"role": "user", "content": "A comedy?"},
                         {"role": "recommender", "content": "Zebra Quest (1999)"}],
            "item_mentions": [], "accepted_item_id": None}


def test_equal_size_sets_are_equal_train_only_and_mix_disjoint_halves() -> None:
    profiles = [_profile(f"p{i}", f"d{i}") for i in range(6)]
    real = real_units(profiles, {f"d{i}": _dialogue(f"d{i}") for i in range(6)})
    by_id = {p.profile_id: p for p in profiles}
    interplay = generated_units([_generated_row(i, p) for i, p in enumerate(profiles)], by_id)
    reference = generated_units([_generated_row(10 + i, p) for i, p in enumerate(profiles)], by_id)
    sets = equal_size_sets(real, interplay, reference, 4)
    assert {name: len(units) for name, units in sets.items()} == {
        "real": 4, "interplay": 4, "reference_dependent": 4, "real_plus_interplay": 4}
    mixed = [u.dialogue.dialogue_id for u in sets["real_plus_interplay"]]
    assert mixed == ["d0", "d1", "gen-2", "gen-3"]  # half real, half generated, of different profiles
    assert all(u.dialogue.split == "train" for units in sets.values() for u in units)
    with pytest.raises(ValueError, match="fewer than the size 8"):
        equal_size_sets(real, interplay, reference, 8)


def test_no_test_dialogue_or_profile_reaches_a_training_set() -> None:
    test_profile = _profile("pt", "dt", split="test")
    with pytest.raises(ValueError, match="dt is of split 'test'"):
        real_units([test_profile], {"dt": _dialogue("dt", split="test")})
    with pytest.raises(ValueError, match="not a train profile"):  # a row of a profile outside the train set
        generated_units([_generated_row(0, test_profile)], {})
    with pytest.raises(ValueError, match="gen-0 is of split 'test'"):
        generated_units([_generated_row(0, test_profile, split="test")], {"pt": test_profile})
    train = [Unit(_dialogue("d0"), _profile("p0", "d0"))]
    leaked = [Unit(_dialogue("dt", split="test"), _profile("p1", "dt"))]
    with pytest.raises(ValueError, match="interplay dialogue dt"):
        equal_size_sets(train, leaked, train, 1)


def test_generated_and_real_rows_share_the_training_format() -> None:
    profile = _profile("p0", "d0")
    real = sft_rows([Unit(_dialogue("d0"), profile)], "user", "[END]", "[ACCEPT]")[0]
    generated = sft_rows(generated_units([_generated_row(0, profile)], {"p0": profile}), "user", "[END]", "[ACCEPT]")[0]
    assert real["messages"][0] == generated["messages"][0]  # the same system prompt of the profile
    assert real["messages"][-1] == {"role": "assistant", "content": "I will watch it, thanks [ACCEPT]"}
    assert generated["messages"][-1] == {"role": "assistant", "content": "A comedy? [END]"}  # not accepted
    recommender = sft_rows([Unit(_dialogue("d0"), None)], "recommender", "[END]", "[ACCEPT]")[0]["messages"]
    assert [m["role"] for m in recommender[1:]] == ["user", "assistant", "user", "assistant"]
    assert "[Candidates" not in json.dumps(recommender)  # no notes in any source


def test_real_turn_chat_scores_only_the_role_s_real_words() -> None:
    chat = real_turn_chat(_dialogue("d0", split="test"), _profile("p", "d0", "test"), "user", "[END]", "[ACCEPT]")
    assert [m["role"] for m in chat] == ["system", "assistant", "user", "assistant"]
    assert chat[-1]["content"] == "I will watch it, thanks"  # the real marker removed, none added
    assert real_turn_chat(_dialogue("d0", split="test"), None, "user", "[END]", "[ACCEPT]") is None
    recommender = real_turn_chat(_dialogue("d0", split="test"), None, "recommender", "[END]", "[ACCEPT]")
    assert [m["role"] for m in recommender] == ["system", "user", "assistant", "user", "assistant"]


def test_example_losses_count_only_labelled_tokens() -> None:
    import torch
    from tiny_lm import build_model, build_tokenizer

    from interplay.training.chat import encode_messages

    tokenizer = build_tokenizer()
    model = build_model(len(tokenizer)).eval()
    chat = real_turn_chat(_dialogue("d0", split="test"), None, "recommender", "[END]", "[ACCEPT]")
    encoded = encode_messages(tokenizer, chat)
    (total, tokens), = example_losses(model, [encoded], tokenizer.pad_token_id, batch_size=2)
    labelled = [i for i, label in enumerate(encoded.labels) if label != -100]
    assert tokens == len([i for i in labelled if i > 0]) > 0
    with torch.no_grad():  # the same sum from the full logits, over the labelled positions only
        logits = model(torch.tensor([encoded.input_ids])).logits[0].float().log_softmax(-1)
    expected = -sum(float(logits[i - 1, encoded.input_ids[i]]) for i in labelled if i > 0)
    assert total == pytest.approx(expected, rel=1e-4)
    assert len(labelled) < len(encoded.input_ids) / 2  # the other role's and the prompt's tokens are not scored


def test_title_likelihoods_with_the_cache_match_a_full_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    from tiny_lm import build_model, build_tokenizer

    from interplay.evaluation import downstream

    monkeypatch.setattr(downstream, "TITLE_GROUP", 2)  # several groups of titles, each padded to its own longest
    tokenizer = build_tokenizer()
    model = build_model(len(tokenizer)).eval()
    prompt = tokenizer("Have you seen a comedy? ", add_special_tokens=False)["input_ids"]
    titles = ["Super Troopers (2001)", "Zebra (1999)", "A", "The Lord of the Rings: The Two Towers (2002)", "Up (2009)"]
    scores = title_log_likelihoods(model, tokenizer, prompt, titles)
    for title, score in zip(titles, scores):
        ids = tokenizer(title, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([prompt + ids])).logits[0].float().log_softmax(-1)
        expected = sum(float(logits[len(prompt) + j - 1, ids[j]]) for j in range(len(ids)))
        assert score == pytest.approx(expected, abs=1e-4)


def test_recall_of_a_reranking_on_a_constructed_case() -> None:
    mentions = (ItemMention("1", "Zebra Quest (1999)", 0, "user"), ItemMention("1", "Zebra Quest (1999)", 1, "recommender"),
                ItemMention("2", "Moon Harbor (2004)", 1, "recommender"), ItemMention("3", "Pine Valley (2010)", 3, "recommender"))
    events = recommendation_events([_dialogue("d0", "test", mentions)])
    assert events == [Event("d0", 1, "2"), Event("d0", 3, "3")]  # item 1 was the seeker's before
    retriever = [["9", "8", "2"], ["3", "7", "6"]]
    reranked = [rerank(retriever[0], [0.1, -2.0, 5.0]), rerank(retriever[1], [-1.0, 0.0, 0.0])]
    assert reranked == [["2", "9", "8"], ["7", "6", "3"]]  # ties keep the retriever's order
    gold = [e.item_id for e in events]
    assert hits_at(reranked, gold, 1).tolist() == [1.0, 0.0]
    assert hits_at(reranked, gold, 3).tolist() == [1.0, 1.0]
    assert hits_at(retriever, gold, 1).tolist() == [0.0, 1.0]


def test_a_paired_difference_is_told_apart_where_separate_intervals_overlap() -> None:
    rng = __import__("numpy").random.default_rng(0)
    tokens = rng.integers(20, 200, size=60).astype(float)
    hard = rng.uniform(1.5, 4.5, size=60)  # dialogues differ far more than the two models do
    first, second = (hard - 0.05) * tokens, hard * tokens
    row = paired_figure((first, tokens), (second, tokens), resamples=400, seed=1)
    assert row["difference"] == round(first.sum() / tokens.sum() - second.sum() / tokens.sum(), 4)
    assert row["difference_ci"][1] < 0 and row["p_value"] < 0.01 and row["dialogues"] == 60
    alone = [ratio_figure(x, tokens, 400, 1)["ci"] for x in (first, second)]
    assert alone[0][1] > alone[1][0]  # unpaired, the two intervals overlap
    same = paired_figure((second, tokens), (second, tokens), resamples=400, seed=1)
    assert same["difference"] == 0 and same["p_value"] == 1.0
    with pytest.raises(ValueError, match="same ones"):
        paired_figure((first[:3], tokens[:3]), (second, tokens), resamples=10, seed=1)


def _tiny_run(root: Path) -> None:
    """A finished run's checkout, tiny: base + three adapters, processed data of all splits."""
    from tiny_lm import save_tiny_run_models

    from interplay.preprocess.artifacts import CATALOG_SCHEMA, DIALOGUES_SCHEMA, PROFILES_SCHEMA

    save_tiny_run_models(root)
    catalog = [{"item_id": str(i), "title": f"Movie {i} ({1990 + i})", "name": f"Movie {i}", "year": 1990 + i,
                "genres": ["comedy"], "directors": [], "actors": [], "plot": ""} for i in range(1, 7)]
    dialogues, profiles = [], []
    for i, split in enumerate(["train"] * 4 + ["validation"] * 2 + ["test"] * 3):
        first, second = str(1 + i % 6), str(1 + (i + 2) % 6)
        dialogues.append({
            "dialogue_id": f"d{i}", "source": "redial", "split": split,
            "messages": [{"role": "user", "content": f"I like comedies like Movie {first} ({1990 + int(first)})"},
                         {"role": "recommender", "content": f"Try Movie {second} ({1990 + int(second)})"},
                         {"role": "user", "content": "Thanks!"}],
            "item_mentions": [{"item_id": first, "title": "", "turn": 0, "role": "user"},
                              {"item_id": second, "title": "", "turn": 1, "role": "recommender"}]})
        profiles.append({
            "profile_id": f"p{i}", "dialogue_id": f"d{i}", "split": split,
            "preference_summary": "You love comedies.",
            "target_attributes": {"genres": ["comedy"], "decade": "1990s", "directors": [], "actors": []},
            "target_attributes_text": "A comedy from the 1990s.", "target_item_ids": [second],
            "target_titles": [f"Movie {second}"], "opening_role": "user"})
    processed = root / "data" / "processed"
    processed.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(profiles, schema=PROFILES_SCHEMA), processed / "profiles.parquet")
    pq.write_table(pa.Table.from_pylist(catalog, schema=CATALOG_SCHEMA), processed / "catalog.parquet")
    pq.write_table(pa.Table.from_pylist(dialogues, schema=DIALOGUES_SCHEMA), processed / "dialogues.parquet")
    tiny = {"max_tokens": 480, "max_steps": 1, "batch_size": 1, "gradient_accumulation_steps": 1, "eval_batch_size": 2,
            "precision": "float32", "warmup_steps": 0, "lora_r": 2, "lora_alpha": 4}
    params = {"finetune": {**tiny, "user": {}, "recommender": {}, "script": {}},
              "simulation": {"max_turns": 4, "batch_size": 2, "shard_size": 2, "precision": "float32",
                             "user": {"max_new_tokens": 6}, "recommender": {"max_new_tokens": 6}}}
    (root / "params.yaml").write_text(yaml.safe_dump(params))


def test_benchmark_end_to_end_on_a_tiny_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _tiny_run(run)
    out, page = tmp_path / "downstream.json", tmp_path / "downstream.md"
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_downstream.py"), "--root", str(run),
               "--work", str(tmp_path / "work"), "--sizes", "2", "--steps", "1", "--nll-dialogues", "3",
               "--events", "2", "--candidates", "6", "--resamples", "50", "--threads", "1",
               "--out", str(out), "--page", str(page)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(out.read_text())
    block = data["sizes"]["2"]
    assert set(block["results"]) == {"real", "interplay", "reference_dependent", "real_plus_interplay"}
    for source, roles in block["results"].items():
        assert block["training"][source]["user"]["train_rows"] == 2  # equal sizes
        assert roles["user"]["nll"]["dialogues"] == 3 and roles["user"]["nll"]["tokens"] > 0
        low, high = roles["recommender"]["recall@10"]["ci"]
        assert low <= roles["recommender"]["recall@10"]["value"] <= high
    assert data["protocol"]["recommendation_events"] == 2
    assert data["retriever"]["recall@10"]["value"] == 1.0  # every unmentioned item is a candidate
    assert len(data["goals"]) == 3 and "Train on generated, test on real" in page.read_text()
    pairs = {(c["role"], c["metric"], c["first"], c["second"]): c for c in block["comparisons"]}
    mixed = pairs[("recommender", "recall@10", "real_plus_interplay", "real")]
    assert mixed["difference"] == round(block["results"]["real_plus_interplay"]["recommender"]["recall@10"]["value"]
                                        - block["results"]["real"]["recommender"]["recall@10"]["value"], 4)
    assert all(c["dialogues"] > 0 and c["p_value"] is not None for c in pairs.values())
    assert "Paired over the test dialogues" in page.read_text()
    # a result kept without per-dialogue figures (an older commit) gets its NLL part computed again
    kept = min((tmp_path / "work" / "results").glob("2-interplay-user-*.json"))
    old = json.loads(kept.read_text())
    kept.write_text(json.dumps({k: v for k, v in old.items() if k != "per_dialogue"}))
    # a rerun reuses the generated dialogues, adapters and results
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    rerun = json.loads(out.read_text())
    def untimed(results: dict) -> dict:
        return {s: {r: {k: v for k, v in f.items() if not k.endswith("_time")} for r, f in roles.items()}
                for s, roles in results.items()}

    assert untimed(rerun["sizes"]["2"]["results"]) == untimed(block["results"])
    assert rerun["sizes"]["2"]["comparisons"] == block["comparisons"]
    assert json.loads(kept.read_text())["per_dialogue"] == old["per_dialogue"]
    assert all(t["cached"] for roles in rerun["sizes"]["2"]["training"].values() for t in roles.values())
