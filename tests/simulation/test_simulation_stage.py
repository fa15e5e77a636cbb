"""The simulate and baselines stages on a tiny workspace: files, baselines, and Dask shards."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from interplay.config.params import Params
from interplay.models.adapters import adapter_dir
from interplay.preprocess.artifacts import CATALOG_SCHEMA, DIALOGUES_SCHEMA, PROFILES_SCHEMA
from interplay.preprocess.profiles import Profile
from interplay.simulation.baselines import script_view
from interplay.simulation.conversation import Conversation
from interplay.simulation.runtime import adapter_identity
from interplay.simulation.stage import simulate_pairs

CATALOG = [
    {"item_id": "1", "title": "Zebra Quest (1999)", "name": "Zebra Quest", "year": 1999,
     "genres": ["comedy"], "directors": ["Ann Lee"], "actors": ["Bo Ray"], "plot": "A zebra on a quest."},
    {"item_id": "2", "title": "Moon Harbor (2004)", "name": "Moon Harbor", "year": 2004,
     "genres": ["drama"], "directors": [], "actors": [], "plot": ""},
    {"item_id": "3", "title": "Pine Valley (2010)", "name": "Pine Valley", "year": 2010,
     "genres": ["comedy", "romance"], "directors": [], "actors": ["Bo Ray"], "plot": ""},
]
#: Train dialogues the retriever is fitted on (validation and test ones must never reach it).
DIALOGUES = [
    {"dialogue_id": "t1", "source": "redial", "split": "train",
     "messages": [{"role": "user", "content": "I like comedies like Zebra Quest (1999)"},
                  {"role": "recommender", "content": "Try Pine Valley (2010)"}],
     "item_mentions": [{"item_id": "1", "title": "Zebra Quest (1999)", "turn": 0, "role": "user"},
                       {"item_id": "3", "title": "Pine Valley (2010)", "turn": 1, "role": "recommender"}]},
    {"dialogue_id": "v1", "source": "redial", "split": "validation",
     "messages": [{"role": "recommender", "content": "Moon Harbor (2004)?"}],
     "item_mentions": [{"item_id": "2", "title": "Moon Harbor (2004)", "turn": 0, "role": "recommender"}]},
]


def _profiles(n: int) -> list[dict]:
    return [
        {
            "profile_id": f"p{i:03d}", "dialogue_id": f"d{i:03d}", "split": "test",
            "preference_summary": "You love gentle comedies such as Moon Harbor (2004).",
            "target_attributes": {"genres": ["comedy"], "decade": "1990s", "directors": [], "actors": []},
            "target_attributes_text": "A comedy from the 1990s.",
            "target_item_ids": ["1"], "target_titles": ["Zebra Quest (1999)"],
            "opening_role": "user" if i % 2 else "recommender",
        }
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """models/base + the three adapters + processed profiles and catalog, all tiny."""
    from tiny_lm import save_tiny_run_models

    root = tmp_path_factory.mktemp("ws")
    save_tiny_run_models(root)
    processed = root / "data" / "processed"
    processed.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(_profiles(6), schema=PROFILES_SCHEMA), processed / "profiles.parquet")
    pq.write_table(pa.Table.from_pylist(CATALOG, schema=CATALOG_SCHEMA), processed / "catalog.parquet")
    pq.write_table(pa.Table.from_pylist(DIALOGUES, schema=DIALOGUES_SCHEMA), processed / "dialogues.parquet")
    return root


def _params(**simulation: object) -> Params:
    base = {"num_profiles": 4, "max_turns": 4, "batch_size": 2, "shard_size": 2,
            "user": {"max_new_tokens": 6}, "recommender": {"max_new_tokens": 6},
            "zero_shot": {"num_profiles": 2}, "reference_dependent": {"num_profiles": 2}}
    return Params.model_validate({"simulation": {**base, **simulation}})


def test_the_script_writer_knows_the_target_on_both_sides() -> None:
    conversation = Conversation(profile=Profile.from_row(_profiles(1)[0]), opening_role="user")
    conversation.messages.append({"role": "user", "content": "Hi, I want a comedy"})
    title = _profiles(1)[0]["target_titles"][0]
    for role in ("user", "recommender"):
        view = script_view(conversation, role, end_marker="[END]", accept_marker="[ACCEPT]")
        assert title in view[0]["content"]  # reference-dependent by design
        assert view[1] == {"role": "assistant" if role == "user" else "user", "content": "Hi, I want a comedy"}


def test_interplay_rows_carry_models_and_profiles(workspace: Path) -> None:
    out = simulate_pairs(_params(), workspace, "interplay", 4, Path("data/simulated/dialogues.parquet"))
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == 4
    assert all(r["source"] == "interplay" and "+lora:" in r["user_model"] for r in rows)
    assert rows[0]["user_model"] != rows[0]["recommender_model"]  # two adapters


def test_baselines_write_their_files(workspace: Path) -> None:
    zero = simulate_pairs(_params(), workspace, "zero_shot", 2, Path("data/baselines/zero_shot.parquet"))
    scripted = simulate_pairs(_params(), workspace, "reference_dependent", 2, Path("data/baselines/reference_dependent.parquet"))
    assert pq.read_table(zero).num_rows == 2
    table = pq.read_table(scripted).to_pylist()
    assert len(table) == 2 and all(r["source"] == "reference_dependent" for r in table)
    # one trained writer plays both sides: the script adapter, on both
    script = adapter_identity(adapter_dir(workspace, "script"))
    assert all(r["user_model"].split("@")[0].endswith("+" + script) for r in table)
    assert all(r["user_model"] == r["recommender_model"] for r in table)
    assert all(r["num_turns"] >= 1 for r in table)  # the writer speaks for both sides
    assert all("+lora" not in r["user_model"] for r in pq.read_table(zero).to_pylist())


@pytest.mark.slow
def test_dask_shards_match_a_local_run(workspace: Path) -> None:
    dask = simulate_pairs(
        _params(task_runner="dask", shard_size=1), workspace, "interplay", 4, Path("dask.parquet")
    )
    one_per_shard = simulate_pairs(_params(shard_size=1), workspace, "interplay", 4, Path("local1.parquet"))
    assert dask.read_bytes() == one_per_shard.read_bytes()
    assert pq.read_table(dask).num_rows == 4


def test_grounded_recommender_sees_candidates_never_the_profile(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Spies on the retriever's input and the recommender's prompts of a grounded run."""
    from interplay.grounding.retriever import CatalogRetriever
    from interplay.simulation.engine import TurnGenerator

    said_to_retriever: list[str] = []
    prompts: list[tuple[str | None, str]] = []
    rank, generate = CatalogRetriever.rank, TurnGenerator.generate

    def spy_rank(self, said, k):
        said_to_retriever.append(repr(said))
        return rank(self, said, k)

    def spy_generate(self, chats, sampling, adapter, **kwargs):
        prompts.extend((adapter, str(chat)) for chat in chats)
        return generate(self, chats, sampling, adapter, **kwargs)

    monkeypatch.setattr(CatalogRetriever, "rank", spy_rank)
    monkeypatch.setattr(TurnGenerator, "generate", spy_generate)
    out = simulate_pairs(_params(shard_size=4), workspace, "interplay", 4, Path("grounded.parquet"))
    rows = pq.read_table(out).to_pylist()
    profile = _profiles(1)[0]
    secrets = [profile["preference_summary"], profile["target_attributes_text"], "p00"]
    assert said_to_retriever
    for text in said_to_retriever:  # the retriever may offer the target; it is never told it
        assert not any(secret in text for secret in [*secrets, "Zebra Quest"])
    for text in [t for adapter, t in prompts if adapter == "recommender"]:
        assert not any(secret in text for secret in secrets)
    assert any("[Candidates: " in t for adapter, t in prompts if adapter == "recommender")
    for row in rows:  # one note per seeker turn the recommender answered, never in the text
        user_turns = {t for t, m in enumerate(row["messages"]) if m["role"] == "user"}
        assert {c["turn"] for c in row["candidates"]} <= user_turns
        assert all(c["note"].startswith("[Candidates: ") and c["item_ids"] for c in row["candidates"])
        assert not any("[Candidates" in m["content"] or "[About" in m["content"] for m in row["messages"])
    assert any(row["candidates"] for row in rows)


def test_ungrounded_run_has_no_notes(workspace: Path) -> None:
    out = simulate_pairs(_params(grounding="none"), workspace, "interplay", 2, Path("ungrounded.parquet"))
    assert all(row["candidates"] == [] for row in pq.read_table(out).to_pylist())


def test_retriever_is_fitted_on_train_dialogues_only(workspace: Path) -> None:
    from interplay.simulation.stage import grounder

    fitted = grounder(_params(), workspace, "interplay")
    assert fitted is not None and fitted.retriever.train_dialogue_ids == {"t1"}
    assert grounder(_params(), workspace, "zero_shot") is None
