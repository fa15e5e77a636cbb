"""The reference-dependent baseline: one model writes the whole conversation knowing the target.

This is how earlier synthetic CRS data was made, and what Interplay is compared against: the
script "knows" the answer, so the user steers toward a title and the recommender "guesses" it.
The zero-shot baseline needs nothing here: it is the paired engine with no adapters.

The writer (the base model, no adapter) writes one message at a time, as the side whose turn it
is, told the target title on both sides. Asked for a whole script at once, small models write one
speaker's monologue and never the other's lines; message by message, the script alternates by
construction, runs through the same engine (batching, shards, resume) and ends the same way (the
user's end marker, or ``max_turns``). Leaks are not guarded here: naming the target is what this
baseline does, and ``leakage_rate`` measures it.
"""

from __future__ import annotations

from functools import partial

from interplay.preprocess.profiles import Profile
from interplay.rows import ChatMessage, Role, role_view
from interplay.simulation.conversation import Conversation
from interplay.simulation.engine import RolePlayer


def target_title(profile: Profile) -> str:
    return profile.target_titles[0] if profile.target_titles else "a fitting movie"


def script_system_prompt(profile: Profile, role: Role, end_marker: str) -> str:
    """Each side's instructions, both naming the target (that is the point)."""
    title = target_title(profile)
    if role == "user":
        return (
            "You are a person chatting with a movie recommender to find a movie to watch. "
            f"{profile.preference_summary} You are looking for: {profile.target_attributes_text} "
            f"The movie you will end up with is {title}: when the recommender suggests it, accept it "
            f"and say goodbye, ending that message with {end_marker}. Write only your next message."
        )
    return (
        "You are a movie recommender chatting with a person who is looking for a movie. Ask about "
        f"their taste, then recommend {title}: it is the right movie for them. Write only your next message."
    )


def script_view(conversation: Conversation, role: Role, end_marker: str) -> list[ChatMessage]:
    """The writer's prompt for ``role``'s next message: instructions naming the target, then the chat."""
    return role_view(conversation.messages, role, script_system_prompt(conversation.profile, role, end_marker))


def script_players(writer: RolePlayer, end_marker: str) -> dict[Role, RolePlayer]:
    """Both sides played by one writer (its model, adapter and sampling), told the target."""
    return {
        role: RolePlayer(
            writer.generator, writer.adapter, writer.sampling,
            view=partial(script_view, role=role, end_marker=end_marker),
        )
        for role in ("user", "recommender")
    }
