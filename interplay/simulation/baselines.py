"""The reference-dependent baseline: one model writes the whole conversation knowing the target.

This is how earlier synthetic CRS data was made, and what Interplay is compared against: the
script "knows" the answer, so the user steers toward a title and the recommender "guesses" it.
The zero-shot baseline needs nothing here: it is the paired engine with no adapters.
"""

from __future__ import annotations

import re
from typing import Any

from interplay.simulation.conversation import ChatMessage, Conversation, add_turn
from interplay.textmatch import TitleIndex

SCRIPT_SYSTEM_PROMPT = (
    "You write realistic chat conversations between a person looking for a movie (User) and a "
    "movie recommender (Recommender). Write one line per message, each starting with 'User:' or "
    "'Recommender:'. Write nothing else."
)

_SPEAKER = re.compile(r"^\s*\**\s*(user|seeker|recommender|assistant)\s*\**\s*:\s*(.*)$", re.I)
_ROLE_OF = {"user": "user", "seeker": "user", "recommender": "recommender", "assistant": "recommender"}


def script_prompt(profile: dict[str, Any], max_turns: int) -> list[ChatMessage]:
    """The request for a whole conversation, target title included (that is the point)."""
    title = profile["target_titles"][0] if profile["target_titles"] else "a fitting movie"
    request = (
        f"Write a conversation of at most {max_turns} short messages. About the user: "
        f"{profile['preference_summary']} What they are looking for: {profile['target_attributes_text']} "
        f"The recommender asks about their taste and ends up recommending {title}; the user "
        "accepts it and says goodbye."
    )
    return [{"role": "system", "content": SCRIPT_SYSTEM_PROMPT}, {"role": "user", "content": request}]


def parse_script(text: str) -> list[ChatMessage]:
    """``User:``/``Recommender:`` lines as turns; consecutive lines of one speaker are merged."""
    turns: list[ChatMessage] = []
    for line in text.splitlines():
        match = _SPEAKER.match(line)
        if match:
            role, content = _ROLE_OF[match.group(1).lower()], match.group(2).strip()
            if turns and turns[-1]["role"] == role:
                turns[-1]["content"] = f"{turns[-1]['content']} {content}".strip()
            else:
                turns.append({"role": role, "content": content})
        elif turns and line.strip():
            turns[-1]["content"] = f"{turns[-1]['content']} {line.strip()}"
    return [t for t in turns if t["content"]]


def script_conversation(
    profile: dict[str, Any], script: str, *, max_turns: int, index: TitleIndex, link_cutoff: float
) -> Conversation:
    """A written script as a finished conversation; its end counts as the user ending it."""
    turns = parse_script(script)
    conversation = Conversation(profile=profile, opening_role=turns[0]["role"] if turns else "user")
    for turn in turns:
        if conversation.finished:
            break
        if turn["role"] != conversation.next_role:  # merged already; a guard for safety
            continue
        add_turn(conversation, turn["content"], end_marker="\0", max_turns=max_turns, index=index, link_cutoff=link_cutoff)
    if conversation.termination_reason is None:
        conversation.termination_reason = "script_end" if len(conversation.messages) >= 2 else "empty_turn"
    return conversation
