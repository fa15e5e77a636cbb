"""The reference-dependent baseline: one model writes the whole conversation knowing the target.

This is how earlier synthetic CRS data was made, and what Interplay is compared against: the
script "knows" the answer, so the user steers toward a title and the recommender "guesses" it.
The zero-shot baseline needs nothing here: it is the paired engine with no adapters.

The writer is the paper's "traditional" baseline as it would really be built: the base model with
the ``script`` adapter, fine-tuned with the same recipe as the two roles on the same train
dialogues to write both sides while told the target (:func:`interplay.preprocess.sft.script_examples`).
It writes one message at a time, as the side whose turn it is, told the target title on both sides. Asked for a whole script at once, small models write one
speaker's monologue and never the other's lines; message by message, the script alternates by
construction, runs through the same engine (batching, shards, resume) and ends the same way (the
user's end marker, or ``max_turns``). Leaks are not guarded here: naming the target is what this
baseline does, and ``leakage_rate`` measures it.
"""

from __future__ import annotations

from functools import partial

from interplay.dialogue.rows import ChatMessage, Role, role_view
from interplay.preprocess.profiles import Profile
from interplay.simulation.conversation import Conversation
from interplay.simulation.engine import RolePlayer
from interplay.text import prompts


def script_system_prompt(profile: Profile, role: Role, end_marker: str, accept_marker: str) -> str:
    """Each side's instructions, both naming the target (:func:`interplay.text.prompts.script_system_prompt`)."""
    return prompts.script_system_prompt(
        role, profile.preference_summary, profile.target_attributes_text, profile.target_titles,
        end_marker, accept_marker,
    )


def script_view(conversation: Conversation, role: Role, end_marker: str, accept_marker: str) -> list[ChatMessage]:
    """The writer's prompt for ``role``'s next message: instructions naming the target, then the chat."""
    system = script_system_prompt(conversation.profile, role, end_marker, accept_marker)
    return role_view(conversation.messages, role, system)


def script_players(players: dict[Role, RolePlayer], end_marker: str, accept_marker: str) -> dict[Role, RolePlayer]:
    """Each side's player (one writer: the same model and adapter, each side's own sampling) with
    the script view, told the target."""
    return {
        role: RolePlayer(
            player.generator, player.adapter, player.sampling,
            view=partial(script_view, role=role, end_marker=end_marker, accept_marker=accept_marker),
        )
        for role, player in players.items()
    }
