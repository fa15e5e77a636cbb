"""Hand-made dialogues in the generated-dialogue contract, shared by the metric and gate tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

ATTRS_COMEDY = {"genres": ["comedy"], "decade": "2000s", "directors": ["Jay Chandrasekhar"], "actors": []}
ATTRS_HORROR = {"genres": ["horror"], "decade": "1980s", "directors": [], "actors": ["Jack Nicholson"]}
_ROLE_SAMPLING = {"temperature": 0.7, "top_p": 0.9, "top_k": 50, "repetition_penalty": 1.1,
                  "no_repeat_ngram_size": 4, "max_new_tokens": 40}
SAMPLING = {"shard_size": 32, "batch_size": 16, "max_turns": 16, "max_context_tokens": 768,
            "user": _ROLE_SAMPLING, "recommender": _ROLE_SAMPLING}

#: A tiny catalog: item_id -> metadata (as evaluation reads it from catalog.parquet).
CATALOG = [
    {"item_id": "1", "title": "Super Troopers (2001)", "year": 2001, "genres": ["comedy", "crime"],
     "directors": ["Jay Chandrasekhar"], "actors": ["Jay Chandrasekhar", "Kevin Heffernan"]},
    {"item_id": "2", "title": "Beerfest (2006)", "year": 2006, "genres": ["comedy"],
     "directors": ["Jay Chandrasekhar"], "actors": ["Kevin Heffernan"]},
    {"item_id": "3", "title": "The Shining (1980)", "year": 1980, "genres": ["horror", "drama"],
     "directors": ["Stanley Kubrick"], "actors": ["Jack Nicholson"]},
    {"item_id": "4", "title": "Halloween (1978)", "year": 1978, "genres": ["horror"],
     "directors": ["John Carpenter"], "actors": ["Jamie Lee Curtis"]},
    {"item_id": "5", "title": "Paddington (2014)", "year": 2014, "genres": ["family"],
     "directors": ["Paul King"], "actors": ["Ben Whishaw"]},
]


def _msg(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def dialogue(
    dialogue_id: str,
    messages: list[tuple[str, str]],
    *,
    source: str = "interplay",
    mentions: list[tuple[str, str, int, str]] = (),
    targets: list[tuple[str, str]] = (("2", "Beerfest (2006)"),),
    attributes: dict[str, Any] | None = None,
    recommended: list[str] | None = None,
    accepted: str | None = None,
    outcome: str = "gave_up",
) -> dict[str, Any]:
    item_mentions = [{"item_id": i, "title": t, "turn": turn, "role": r} for i, t, turn, r in mentions]
    if recommended is None:
        recommended = list(dict.fromkeys(m["item_id"] for m in item_mentions if m["role"] == "recommender"))
    return {
        "dialogue_id": dialogue_id,
        "source": source,
        "split": "test",
        "messages": [_msg(r, c) for r, c in messages],
        "item_mentions": item_mentions,
        "candidates": [],
        "profile_id": f"p-{dialogue_id}",
        "preference_summary": "You love goofy comedies.",
        "target_attributes": copy.deepcopy(attributes or ATTRS_COMEDY),
        "target_attributes_text": "A comedy from the 2000s.",
        "target_item_ids": [t[0] for t in targets],
        "target_titles": [t[1] for t in targets],
        "recommended_item_ids": recommended,
        "accepted_item_id": accepted,
        "outcome": outcome,
        "user_decision": "accept" if outcome == "accepted" else ("decline" if outcome == "gave_up" else None),
        "termination_reason": "end_marker" if outcome in ("accepted", "gave_up") else outcome,
        "leak_guard_rejections": 0,
        "num_turns": len(messages),
        "seed": 13,
        "shard": 0,
        "shard_seed": 2890156,
        "sampling": copy.deepcopy(SAMPLING),
        "user_model": "user-adapter",
        "recommender_model": "recommender-adapter",
        "params_hash": "abc123",
    }


def clean_dialogues(source: str = "interplay") -> list[dict[str, Any]]:
    """Four well-formed, leak-free dialogues (two accepted)."""
    return [
        dialogue(
            "d1",
            [
                ("user", "Hi! I want something funny to watch tonight."),
                ("recommender", "Have you seen Super Troopers (2001)? It is a goofy cop comedy."),
                ("user", "Yes, loved it. Anything else like that?"),
                ("recommender", "Then try Beerfest (2006), same crew and just as silly."),
                ("user", "Perfect, I will watch that one, thanks!"),
            ],
            source=source,
            mentions=[("1", "Super Troopers (2001)", 1, "recommender"), ("2", "Beerfest (2006)", 3, "recommender")],
            accepted="2",
            outcome="accepted",
        ),
        dialogue(
            "d2",
            [
                ("recommender", "Hello, what kind of movies do you enjoy?"),
                ("user", "I like scary movies from the eighties with great actors."),
                ("recommender", "You might like The Shining (1980) with Jack Nicholson."),
                ("user", "Sounds great, thank you."),
            ],
            source=source,
            mentions=[("3", "The Shining (1980)", 2, "recommender")],
            targets=[("3", "The Shining (1980)")],
            attributes=ATTRS_HORROR,
            accepted="3",
            outcome="accepted",
        ),
        dialogue(
            "d3",
            [
                ("user", "Can you suggest a horror movie?"),
                ("recommender", "Halloween (1978) is a classic slasher."),
                ("user", "Not really my thing, bye."),
            ],
            source=source,
            mentions=[("4", "Halloween (1978)", 1, "recommender")],
            targets=[("3", "The Shining (1980)")],
            attributes=ATTRS_HORROR,
            outcome="gave_up",
        ),
        dialogue(
            "d4",
            [
                ("user", "Any family films you would recommend?"),
                ("recommender", "Paddington (2014) is charming for all ages."),
                ("user", "Nice, what else is there?"),
                ("recommender", "Maybe a comedy like Beerfest (2006)?"),
            ],
            source=source,
            mentions=[("5", "Paddington (2014)", 1, "recommender"), ("2", "Beerfest (2006)", 3, "recommender")],
            outcome="max_turns",
        ),
    ]


# -- a simulate stage's output, as the publish tests read it ------------------------------------


def _row(split: str, i: int, variant: str = "") -> dict[str, Any]:
    accepted = i % 2 == 0
    return {
        "dialogue_id": f"{split}-{i:03d}",
        "source": "redial",
        "split": split,
        "messages": [
            {"role": "user", "content": f"I want a silly comedy tonight {i}{variant}"},
            {"role": "recommender", "content": "Have you seen Super Troopers (2001)?"},
            {"role": "user", "content": "Sounds great, thanks! [END]" if accepted else "No thanks."},
        ],
        "item_mentions": [{"item_id": "1", "title": "Super Troopers (2001)", "turn": 1, "role": "recommender"}],
        "profile_id": f"profile-{split}-{i}",
        "preference_summary": "You love slapstick comedies such as Beerfest (2006).",
        "target_attributes": {
            "genres": ["comedy", "crime"],
            "decade": "2000s",
            "directors": ["Jay Chandrasekhar"],
            "actors": ["Kevin Heffernan"] if i % 3 else [],
        },
        "target_attributes_text": "a comedy crime movie from the 2000s",
        "target_item_ids": ["1"],
        "target_titles": ["Super Troopers (2001)"],
        "recommended_item_ids": ["1"],
        "accepted_item_id": "1" if accepted else None,
        "outcome": "accepted" if accepted else "gave_up",
        "user_decision": "accept" if accepted else "decline",
        "termination_reason": "end_marker",
        "leak_guard_rejections": 0,
        "num_turns": 3,
        "seed": 13 + i,
        "user_model": "smollm2-135m+user@1a2b3c",
        "recommender_model": "smollm2-135m+recommender@4d5e6f",
        "params_hash": "0123456789abcdef",
    }


def write_dialogues(root: Path, splits: dict[str, int], variant: str = "") -> list[dict[str, Any]]:
    rows = [_row(split, i, variant) for split, n in splits.items() for i in range(n)]
    path = root / "data" / "simulated" / "dialogues.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(list(reversed(rows))), path)  # unsorted on purpose
    return rows
