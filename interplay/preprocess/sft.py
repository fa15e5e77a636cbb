"""Role-specific chat-format training examples (``system`` / ``user`` / ``assistant``).

``assistant`` is always the role being trained, so the fine-tuning loss falls on that role's
turns only. Which dialogues feed which set:

* **user simulator**: only dialogues with a seed profile (its prompt needs a summary and target
  attributes). The seeker's turns are ``assistant``; the dialogue is cut after the seeker's last
  turn, which ends with the seeker's decision: the accept marker where the real seeker accepted a
  recommendation (``Dialogue.seeker_accepted``, the corpus's labels), else the end marker. So the
  model learns both to close the conversation and to say whether it takes a movie.
* **recommender**: every train / validation dialogue, profile or not: its prompt carries no
  profile, and dialogues without an accepted item still show how to elicit preferences. The
  recommender's turns are ``assistant``; trailing seeker turns are dropped (nothing to learn from
  them), and there is no end marker.

* **script writer** (the trained reference-dependent baseline): the profiled dialogues again, each
  twice, once from each side, under instructions that name the target title
  (:func:`interplay.text.prompts.script_system_prompt`). One model learns to write both sides of a
  conversation that knows its answer; it never sees grounding notes (the baselines are ungrounded).

Test dialogues feed no set: they are held out for simulation and evaluation.
"""

from __future__ import annotations

from interplay.corpus.schema import Dialogue, Message, Role
from interplay.dialogue.rows import ChatMessage, role_view
from interplay.preprocess.profiles import Profile
from interplay.text.end_marker import strip_markers
from interplay.text.prompts import RECOMMENDER_SYSTEM_PROMPT, script_system_prompt, user_system_prompt


def _chat(messages: list[Message], trained: Role, notes: dict[int, str] | None = None) -> list[ChatMessage]:
    """Chat messages from the trained role's side; ``notes`` (turn -> control note) follow the
    other role's messages, as the simulation shows them (:mod:`interplay.grounding.notes`)."""
    return role_view([{"role": m.role, "content": m.content} for m in messages], trained, notes=notes)


def _cut_after_last(messages: tuple[Message, ...], role: Role) -> list[Message]:
    last = max((i for i, m in enumerate(messages) if m.role == role), default=-1)
    return list(messages[: last + 1])


def _without_markers(message: Message, end_marker: str, accept_marker: str) -> Message:
    """The message without any spelling of either marker; untouched (spacing too) where it has none."""
    cleaned, decision = strip_markers(message.content, end_marker, accept_marker)
    return Message(message.role, cleaned) if decision else message


def _ended_by_user(dialogue: Dialogue, end_marker: str, accept_marker: str) -> list[Message]:
    """The dialogue up to the seeker's last turn, which alone carries a marker: the accept marker
    where the seeker accepted a recommendation, else the end marker (no decision recorded: the end
    marker, since no acceptance is known)."""
    messages = [
        _without_markers(m, end_marker, accept_marker) for m in _cut_after_last(dialogue.messages, "user")
    ]
    if messages:
        last = messages[-1]
        marker = accept_marker if dialogue.seeker_accepted else end_marker
        messages[-1] = Message(last.role, f"{last.content} {marker}")
    return messages


def user_example(
    dialogue: Dialogue,
    profile: Profile,
    end_marker: str,
    accept_marker: str,
    notes: dict[int, str] | None = None,
) -> list[ChatMessage] | None:
    """The user-simulator example of a dialogue, or None when the seeker never speaks.

    A marker appears once, at the very end: any spelling of either that a real message happens to
    hold is removed first (:mod:`interplay.text.end_marker`), so the model learns one place and one
    form.
    """
    messages = _ended_by_user(dialogue, end_marker, accept_marker)
    if not messages:
        return None
    system = user_system_prompt(
        profile.preference_summary, profile.target_attributes_text, end_marker, accept_marker
    )
    return [{"role": "system", "content": system}, *_chat(messages, "user", notes)]


def recommender_example(dialogue: Dialogue, notes: dict[int, str] | None = None) -> list[ChatMessage] | None:
    """The recommender example of a dialogue, or None when the recommender never speaks;
    ``notes`` are its candidate notes (seeker turn -> note)."""
    messages = _cut_after_last(dialogue.messages, "recommender")
    if not messages:
        return None
    return [{"role": "system", "content": RECOMMENDER_SYSTEM_PROMPT}, *_chat(messages, "recommender", notes)]


def script_examples(
    dialogue: Dialogue, profile: Profile, end_marker: str, accept_marker: str
) -> list[list[ChatMessage]]:
    """The script writer's examples of a dialogue: its seeker side (ending with the decision's
    marker, as :func:`user_example`) and its recommender side, each under the instructions naming
    the target."""
    examples = []
    sides: tuple[tuple[Role, list[Message]], ...] = (
        ("user", _ended_by_user(dialogue, end_marker, accept_marker)),
        ("recommender", _cut_after_last(dialogue.messages, "recommender")),
    )
    for role, messages in sides:
        if messages:
            system = script_system_prompt(
                role, profile.preference_summary, profile.target_attributes_text, profile.target_titles,
                end_marker, accept_marker,
            )
            examples.append([{"role": "system", "content": system}, *_chat(messages, role)])
    return examples
