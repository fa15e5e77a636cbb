"""Blinded pairwise tasks: Interplay's dialogue and a baseline's on the same seed profile.

Annotators must not be able to tell the systems apart by anything but the conversations: a task's
data hold an opaque pair id, the seeker's profile (the same for both sides) and the two
conversations as speaker-labelled turns; no system name, dialogue id or profile id. The order of
the pairs and the side each system takes are drawn from one seeded generator, so the same seed
gives the same files. Which system is A is written only to the key (:func:`pair_tasks`'s second
value), which the analysis reads back.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from typing import Any

from interplay.human_eval.criteria import SPEAKERS
from interplay.human_eval.errors import RecordError

#: The system every pair holds; the other side is the baseline chosen.
INTERPLAY = "interplay"


def turns(messages: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """A conversation as Label Studio's ``Paragraphs`` tag reads it: ``{author, text}`` per turn."""
    return [{"author": SPEAKERS.get(m["role"], m["role"]), "text": m["content"]} for m in messages]


def profile_text(row: Mapping[str, Any]) -> str:
    """What the seeker wanted, as both systems' rows of one profile state it."""
    parts = [str(row.get("preference_summary") or "").strip(), str(row.get("target_attributes_text") or "").strip()]
    return "\n".join(p for p in parts if p)


def fingerprint(data: Mapping[str, Any]) -> str:
    """A short hash of a task's two conversations: the analysis checks an export against its key
    with it (a key from another seed or another export would otherwise be read silently)."""
    both = json.dumps([data["dialogue_a"], data["dialogue_b"]], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(both.encode("utf-8")).hexdigest()[:16]


def by_profile(rows: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """``profile_id -> row``; a profile met twice is an error naming both rows."""
    index: dict[str, Mapping[str, Any]] = {}
    seen_at: dict[str, int] = {}
    for i, row in enumerate(rows):
        profile = row.get("profile_id")
        if not profile:
            raise RecordError(f"row {i}", "profile_id", "missing")
        if profile in index:
            raise RecordError(f"row {i}", "profile_id", f"{profile!r} also in row {seen_at[profile]}")
        index[str(profile)] = row
        seen_at[str(profile)] = i
    return index


def shared_profiles(
    interplay: Mapping[str, Mapping[str, Any]], baseline: Mapping[str, Mapping[str, Any]]
) -> tuple[list[str], list[str]]:
    """Profiles both systems have a conversation for (sorted), and those left out because one of
    the two has no message to judge."""
    both = sorted(interplay.keys() & baseline.keys())
    usable = [p for p in both if interplay[p].get("messages") and baseline[p].get("messages")]
    return usable, [p for p in both if p not in usable]


def pair_tasks(
    ours: Mapping[str, Mapping[str, Any]],
    theirs: Mapping[str, Mapping[str, Any]],
    baseline: str,
    seed: int,
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Label Studio tasks (``[{"data": ...}]``) and their key, one task per profile both Interplay
    (``ours``) and the baseline (``theirs``, named ``baseline``) have, each ``profile_id -> row``
    (:func:`by_profile`).

    The profiles are shuffled and each side drawn by ``random.Random(seed)``; ``limit`` keeps the
    first pairs of that order (a random sample of the profiles).
    """
    profiles, empty = shared_profiles(ours, theirs)
    rng = random.Random(seed)
    rng.shuffle(profiles)
    shared = len(profiles) + len(empty)
    if limit is not None:
        profiles = profiles[:limit]
    tasks: list[dict[str, Any]] = []
    pairs: dict[str, dict[str, Any]] = {}
    for number, profile in enumerate(profiles, start=1):
        interplay_first = rng.random() < 0.5
        sides = [(INTERPLAY, ours[profile]), (baseline, theirs[profile])]
        (name_a, row_a), (name_b, row_b) = sides if interplay_first else sides[::-1]
        pair_id = f"pair-{number:04d}"
        data = {
            "pair_id": pair_id,
            "profile": profile_text(ours[profile]),
            "dialogue_a": turns(row_a["messages"]),
            "dialogue_b": turns(row_b["messages"]),
        }
        tasks.append({"data": data})
        pairs[pair_id] = {
            "profile_id": profile,
            "A": {"system": name_a, "dialogue_id": row_a.get("dialogue_id")},
            "B": {"system": name_b, "dialogue_id": row_b.get("dialogue_id")},
            "fingerprint": fingerprint(data),
        }
    key = {
        "seed": seed,
        "systems": [INTERPLAY, baseline],
        "shared_profiles": shared,
        "left_out_empty": sorted(empty),
        "pairs": pairs,
    }
    return tasks, key
