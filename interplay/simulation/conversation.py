"""One simulated conversation: its state, what each role sees, and how it ends.

Everything here is pure: the engine generates text, this module decides what a turn means.
The recommender's view is built from its instructions and the conversation alone — the profile
is not even passed to :func:`recommender_view` — which is what makes the dialogues reference-free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from interplay.dialogue.rows import ChatMessage, Role, role_view
from interplay.grounding.notes import Grounder, strip_notes, user_note
from interplay.grounding.retriever import Said
from interplay.preprocess.profiles import Profile
from interplay.simulation.linking import link_titles
from interplay.text.end_marker import ACCEPT_MARKER, Decision, strip_markers
from interplay.text.prompts import RECOMMENDER_SYSTEM_PROMPT, user_system_prompt
from interplay.text.titles import TitleIndex, names_title, normalize_text

#: Why a conversation stopped -> its outcome class (SPEC: accepted | gave_up | max_turns | error).
TERMINATIONS = (
    "end_marker", "max_turns", "empty_turn", "premature_end", "repeated_turn", "leak_guard"
)


@dataclass
class Conversation:
    """A conversation between the two simulators, seeded by one profile."""

    profile: Profile
    opening_role: Role
    messages: list[ChatMessage] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    recommended_item_ids: list[str] = field(default_factory=list)
    termination_reason: str | None = None
    ended_with_marker_item: str | None = None
    #: What the user said when it ended the conversation: the accept marker (``accept``) or the end
    #: marker (``decline``); None while it has not ended it.
    user_decision: Decision | None = None
    #: Turn -> control note the *other* role sees after that message (grounding only): a user
    #: turn's candidate note (for the recommender), a recommender turn's item note (for the user).
    notes: dict[int, str] = field(default_factory=dict)
    #: Turn -> the candidates of a user turn's note, as ids (published with the dialogue).
    candidates: dict[int, list[str]] = field(default_factory=dict)
    #: Recommender turn -> its wish note: what of the profile's wish the items it named have.
    #: Computed from the profile, so kept apart: only :func:`user_view` reads it.
    wish_notes: dict[int, str] = field(default_factory=dict)
    #: User turns the leak guard rejected (None: no guard ran): what the published text, kept
    #: leak-free by the guard, no longer shows.
    leak_guard_rejections: int | None = None

    @property
    def finished(self) -> bool:
        return self.termination_reason is not None

    @property
    def next_role(self) -> Role:
        if not self.messages:
            return self.opening_role
        return "recommender" if self.messages[-1]["role"] == "user" else "user"


def user_view(conversation: Conversation, end_marker: str, accept_marker: str = ACCEPT_MARKER) -> list[ChatMessage]:
    """The profile's prompt and the conversation, with the facts of each item offered and what of
    the wish each has (:func:`interplay.dialogue.rows.role_view`, as in the training data)."""
    profile = conversation.profile
    system = user_system_prompt(
        profile.preference_summary, profile.target_attributes_text, end_marker, accept_marker
    )
    turns = set(conversation.notes) | set(conversation.wish_notes)
    notes = {t: user_note(conversation.notes.get(t), conversation.wish_notes.get(t)) for t in turns}
    return role_view(conversation.messages, "user", system, notes)


def recommender_view(messages: list[ChatMessage], notes: dict[int, str] | None = None) -> list[ChatMessage]:
    """Instructions and the conversation: nothing of the profile can reach the recommender.
    ``notes`` are the candidate notes of the seeker's turns, computed from the conversation."""
    return role_view(messages, "recommender", RECOMMENDER_SYSTEM_PROMPT, notes)


def what_was_said(conversation: Conversation) -> list[Said]:
    """The conversation as the retriever reads it: speakers, texts and linked items, nothing else."""
    items: dict[int, list[str]] = {}
    for mention in conversation.mentions:
        items.setdefault(mention["turn"], []).append(mention["item_id"])
    return [Said(m["role"], m["content"], tuple(items.get(t, ()))) for t, m in enumerate(conversation.messages)]


def ground(conversation: Conversation, grounder: Grounder) -> None:
    """The note of the latest turn: after a seeker message, the retriever's candidates for what
    was said (the profile is not passed); after a recommender message, the facts of the items it
    named, and (for the user's eyes only) what of the profile's wish they have."""
    if conversation.finished or not conversation.messages:
        return
    turn = len(conversation.messages) - 1
    if conversation.messages[turn]["role"] == "user":
        candidates = grounder.candidates_for(what_was_said(conversation))
        conversation.candidates[turn] = candidates
        note = grounder.candidate_note(candidates)
    else:
        named = [m["item_id"] for m in conversation.mentions if m["turn"] == turn]
        note = grounder.item_note(named)
        wish = grounder.wish_note(named, asdict(conversation.profile.target_attributes))
        if wish:
            conversation.wish_notes[turn] = wish
    if note:
        conversation.notes[turn] = note


def leaks_target(text: str, conversation: Conversation, threshold: float, index: TitleIndex | None = None) -> bool:
    """Whether a user turn names a target the recommender has not mentioned yet.

    The same rule as the ``leakage_rate`` metric: the text names the title
    (:func:`~interplay.text.titles.names_title`), or a title it names links to the target's id.
    """
    profile = conversation.profile
    pending = {
        item_id: title
        for item_id, title in zip(profile.target_item_ids, profile.target_titles)
        if item_id not in conversation.recommended_item_ids
    }
    if any(names_title(text, title, threshold) for title in pending.values()):
        return True
    return index is not None and bool(set(link_titles(text, index, threshold)) & set(pending))


#: The longest echo of the other role's recent turn that is not a repeat (a greeting, "yes").
ECHO_WORDS = 3


def _clean(text: str, end_marker: str, accept_marker: str, role: Role) -> tuple[str, Decision | None]:
    """The turn without any spelling of either marker or any note-like text (which no role may
    read as part of a message), and the decision that ends the conversation, if any (only the user
    ends it; a marker the recommender writes is removed all the same)."""
    content, decision = strip_markers(strip_notes(text), end_marker, accept_marker)
    return content, decision if role == "user" else None


def turn_problem(
    conversation: Conversation,
    text: str,
    end_marker: str,
    leak_threshold: float | None,
    index: TitleIndex | None = None,
    accept_marker: str = ACCEPT_MARKER,
) -> str | None:
    """Why a generated turn cannot be used as it is (empty, a repeat, a leak), or None.

    Repeats of the last three turns catch both loops and the two roles echoing each other, except
    a short echo (at most :data:`ECHO_WORDS` words) of the other role: "Hi" answered with "Hi" is
    how real dialogues open (in the ReDial sample, 131 of the 138 turns that repeat the other
    role's recent turn have at most 3 words; a speaker repeating itself happens 13 times in 28k).
    ``leak_threshold`` None skips the leak check (a reference-dependent script may name its target).
    """
    role = conversation.next_role
    content, ended = _clean(text, end_marker, accept_marker, role)
    if not content:  # nothing said (a bare marker included)
        return "empty_turn"
    if ended and not conversation.messages:  # a user who ends before anyone spoke has no dialogue
        return "premature_end"
    normalized = normalize_text(content)
    if content and any(
        normalize_text(m["content"]) == normalized and (m["role"] == role or len(normalized.split()) > ECHO_WORDS)
        for m in conversation.messages[-3:]
    ):
        return "repeated_turn"
    if role == "user" and leak_threshold is not None and leaks_target(content, conversation, leak_threshold, index):
        return "leak_guard"
    return None


def add_turn(
    conversation: Conversation,
    text: str,
    *,
    end_marker: str,
    max_turns: int,
    index: TitleIndex,
    link_cutoff: float,
    accept_marker: str = ACCEPT_MARKER,
) -> None:
    """Append a generated turn and decide whether the conversation has ended, and why.

    An empty or repeated turn ends the conversation without being appended (the engine samples
    such turns again a few times before it gets here).
    """
    role = conversation.next_role
    content, ended = _clean(text, end_marker, accept_marker, role)
    problem = turn_problem(  # leaks: the engine's job
        conversation, text, end_marker, leak_threshold=None, accept_marker=accept_marker
    )
    if problem is not None:
        conversation.termination_reason = problem
        return
    if content:
        turn = len(conversation.messages)
        conversation.messages.append({"role": role, "content": content})
        for item_id in link_titles(content, index, link_cutoff):
            conversation.mentions.append({"item_id": item_id, "turn": turn, "role": role})
            if role == "recommender" and item_id not in conversation.recommended_item_ids:
                conversation.recommended_item_ids.append(item_id)
            if role == "user" and ended and item_id in conversation.recommended_item_ids:
                conversation.ended_with_marker_item = item_id
    if ended:
        conversation.termination_reason = "end_marker"
        conversation.user_decision = ended
    elif len(conversation.messages) >= max_turns:
        conversation.termination_reason = "max_turns"


def outcome(conversation: Conversation) -> tuple[str, str | None]:
    """``(outcome, accepted_item_id)``: accepted is the user's decision, the accept marker, after a
    recommendation linked to the catalog; any other ending by the user is ``gave_up`` (the end
    marker, or the accept marker when nothing linkable had been recommended).

    The accepted item is the recommended title the user named when accepting, else the most recent
    recommendation before the end.
    """
    reason = conversation.termination_reason
    if reason == "end_marker":
        if conversation.user_decision == "accept" and conversation.recommended_item_ids:
            accepted = conversation.ended_with_marker_item
            if accepted is None:
                recommended = [m for m in conversation.mentions if m["role"] == "recommender"]
                accepted = recommended[-1]["item_id"]
            return "accepted", accepted
        return "gave_up", None
    if reason == "max_turns":
        return "max_turns", None
    return "error", None
