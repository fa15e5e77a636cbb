"""A quick look at a fine-tuned role: its next turn at a few points of held-out real dialogues.

The prompts are built exactly as in training (``interplay.text.prompts``) from test-split profiles,
which no fine-tuning set has seen; the real turn is shown next to the generated one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from interplay.config.params import FinetuneRole
from interplay.dialogue.rows import TRAINED_ROLE, role_view
from interplay.text.prompts import RECOMMENDER_SYSTEM_PROMPT, user_system_prompt


@dataclass(frozen=True)
class SamplePoint:
    """One place in a held-out dialogue where the trained role speaks next."""

    profile_id: str
    turn: int
    conversation: list[dict[str, str]]
    real: str


def sample_points(
    role: FinetuneRole,
    profiles: Sequence[dict[str, Any]],
    dialogues: dict[str, list[dict[str, str]]],
    end_marker: str,
    accept_marker: str,
    turns_per_profile: int = 2,
    notes: dict[str, dict[int, str]] | None = None,
) -> list[SamplePoint]:
    """Contexts (system prompt + real history in the role's chat view) before the role's turns;
    ``notes`` (dialogue id -> turn -> note) follow the other role's messages, as in training."""
    points: list[SamplePoint] = []
    for profile in profiles:
        messages = dialogues.get(profile["dialogue_id"])
        if not messages:
            continue
        if role == "user":
            system = user_system_prompt(
                profile["preference_summary"], profile["target_attributes_text"], end_marker, accept_marker
            )
        else:
            system = RECOMMENDER_SYSTEM_PROMPT
        noted = (notes or {}).get(profile["dialogue_id"], {})
        chat = role_view(messages, role, notes=noted)
        shown = 0
        for index, message in enumerate(chat):
            if message["role"] != TRAINED_ROLE:
                continue
            points.append(
                SamplePoint(
                    str(profile["profile_id"]),
                    index,
                    [{"role": "system", "content": system}, *chat[:index]],
                    message["content"],
                )
            )
            shown += 1
            if shown == turns_per_profile:
                break
    return points


def format_point(point: SamplePoint, generated: str, role: FinetuneRole, width: int = 160) -> str:
    """A few lines a person can skim: the last message heard, the real and the generated reply."""
    other = "recommender" if role == "user" else "user"

    def cut(text: str) -> str:
        text = " ".join(text.split())
        return text if len(text) <= width else text[: width - 3] + "..."

    heard = point.conversation[-1]["content"] if len(point.conversation) > 1 else "(the role opens)"
    return "\n".join(
        [
            f"--- profile {point.profile_id}, turn {point.turn}",
            f"  {other:>16}: {cut(heard)}",
            f"  {'real ' + role:>16}: {cut(point.real)}",
            f"  {'generated':>16}: {cut(generated)}",
        ]
    )
