"""Simulated dialogue rows: the SPEC schema, one fixed Arrow schema for every source.

The schema and each column's meaning are declared in :mod:`interplay.dialogue.rows`
(:data:`~interplay.dialogue.rows.DIALOGUE_COLUMNS`); this module fills a row from a finished conversation.
A fixed schema (rather than one inferred per shard) keeps a shard whose dialogues happen to have
no accepted item from typing that column as null, and so keeps combined files byte-identical.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from interplay.dialogue.rows import DIALOGUE_SCHEMA
from interplay.simulation.conversation import Conversation, outcome

#: Where each generated dataset is written (simulate, baselines) and read (validate, evaluate, publish).
GENERATED_PATHS: dict[str, str] = {
    "interplay": "data/simulated/dialogues.parquet",
    "zero_shot": "data/baselines/zero_shot.parquet",
    "reference_dependent": "data/baselines/reference_dependent.parquet",
}


def sample_key(profile_id: str, sample: int) -> str:
    """``p42`` for sample 0, ``p42-s3`` for sample 3: a sample's name in seeds and dialogue ids
    (:mod:`interplay.simulation.samples`)."""
    return profile_id if sample == 0 else f"{profile_id}-s{sample}"


def dialogue_row(
    conversation: Conversation,
    *,
    source: str,
    sample: int = 0,
    titles: dict[str, str],
    seed: int,
    shard: int,
    shard_seed: int,
    sampling: dict[str, Any],
    models: dict[str, str],
    params_hash: str,
) -> dict[str, Any]:
    """One finished conversation as a row of :data:`~interplay.dialogue.rows.DIALOGUE_SCHEMA`;
    ``sampling`` is a :data:`~interplay.dialogue.rows.SAMPLING` value (:func:`interplay.simulation.run.sampling_of`);
    ``sample`` tells a profile's dialogues apart (:mod:`interplay.simulation.samples`)."""
    profile = conversation.profile
    result, accepted = outcome(conversation)
    attributes = profile.target_attributes
    return {
        "dialogue_id": f"{source}-{sample_key(profile.profile_id, sample)}",
        "source": source,
        "split": profile.split,
        "messages": [dict(m) for m in conversation.messages],
        "item_mentions": [
            {"item_id": m["item_id"], "title": titles.get(m["item_id"], ""), "turn": m["turn"], "role": m["role"]}
            for m in conversation.mentions
        ],
        "candidates": [
            {"turn": turn, "item_ids": list(ids), "note": conversation.notes.get(turn, "")}
            for turn, ids in sorted(conversation.candidates.items())
        ],
        "profile_id": profile.profile_id,
        "preference_summary": profile.preference_summary,
        "target_attributes": {
            "genres": list(attributes.genres),
            "decade": attributes.decade,
            "directors": list(attributes.directors),
            "actors": list(attributes.actors),
        },
        "target_attributes_text": profile.target_attributes_text,
        "target_item_ids": list(profile.target_item_ids),
        "target_titles": list(profile.target_titles),
        "recommended_item_ids": list(conversation.recommended_item_ids),
        "accepted_item_id": accepted,
        "outcome": result,
        "user_decision": conversation.user_decision,
        "termination_reason": conversation.termination_reason or "error",
        "leak_guard_rejections": conversation.leak_guard_rejections,
        "num_turns": len(conversation.messages),
        "seed": seed,
        "shard": shard,
        "shard_seed": shard_seed,
        "sampling": sampling,
        "user_model": models["user"],
        "recommender_model": models["recommender"],
        "params_hash": params_hash,
    }


def to_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=DIALOGUE_SCHEMA)
