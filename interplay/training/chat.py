"""Chat examples as token ids with labels on the trained role's tokens only.

The base model's own chat template renders each dialogue. Which characters belong to the trained
role is found by rendering prefixes of the conversation: the text an assistant message adds after
the generation prompt is that message (content plus the template's end-of-turn marker). Tokens
are then labelled by their character offsets, so any template whose renderings of prefixes are
prefixes of the whole works, without ``{% generation %}`` markers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from interplay.dialogue.rows import TRAINED_ROLE
from interplay.dialogue.rows import ChatMessage as Message

IGNORE_INDEX = -100


class TemplateError(ValueError):
    """The chat template does not render prefixes of a conversation as prefixes of it."""


@dataclass(frozen=True)
class Encoded:
    """One training example: ids, labels (``-100`` where not supervised) and its length."""

    input_ids: list[int]
    labels: list[int]

    @property
    def length(self) -> int:
        return len(self.input_ids)

    @property
    def supervised(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def _render(tokenizer: Any, messages: Sequence[Message], generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=generation_prompt
    )


def supervised_char_spans(tokenizer: Any, messages: Sequence[Message]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered dialogue and the character spans of the trained role's messages."""
    text = _render(tokenizer, messages)
    spans: list[tuple[int, int]] = []
    for k, message in enumerate(messages):
        if message["role"] != TRAINED_ROLE:
            continue
        start = len(_render(tokenizer, messages[:k], generation_prompt=True)) if k else 0
        end_text = _render(tokenizer, messages[: k + 1])
        if not text.startswith(end_text) or start > len(end_text):
            raise TemplateError("chat template does not render conversation prefixes as prefixes")
        spans.append((start, len(end_text)))
    return text, spans


def encode_messages(tokenizer: Any, messages: Sequence[Message]) -> Encoded:
    """Token ids of the whole dialogue; labels only where a token lies in a trained span."""
    text, spans = supervised_char_spans(tokenizer, messages)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = enc["input_ids"]
    labels = [IGNORE_INDEX] * len(ids)
    span_index = 0
    for i, (start, end) in enumerate(enc["offset_mapping"]):
        while span_index < len(spans) and spans[span_index][1] <= start:
            span_index += 1
        if span_index < len(spans) and start >= spans[span_index][0] and end > start:
            labels[i] = ids[i]
    return Encoded(ids, labels)


def _message_lengths(tokenizer: Any, messages: Sequence[Message]) -> list[int]:
    """Approximate tokens each message adds (its template text tokenized on its own)."""
    lengths = []
    previous = ""
    for k in range(len(messages)):
        rendered = _render(tokenizer, messages[: k + 1])
        lengths.append(len(tokenizer(rendered[len(previous):], add_special_tokens=False)["input_ids"]))
        previous = rendered
    return lengths


def truncate_messages(
    tokenizer: Any, messages: Sequence[Message], max_tokens: int, head: int = 2, step: int = 1
) -> list[Message]:
    """Keep the system prompt, the first ``head`` messages and as many final messages as fit.

    Plain tail truncation cuts the end of long dialogues, which is where the user simulator's end
    marker is; keeping the latest turns keeps it. The kept tail starts with a role other than the
    head's last one, so roles still alternate for templates that insist on it.

    With ``step`` > 1 the messages after the head are dropped ``step`` at a time (the kept tail
    starts at a multiple of ``step``, or at the last message): a growing conversation then keeps
    the same cut for several turns, and a live simulation reuses its encoded prompt
    (:mod:`interplay.simulation.prefix_cache`) instead of encoding the whole tail again each turn.
    """
    messages = list(messages)
    system = [m for m in messages[:1] if m["role"] == "system"]
    rest = messages[len(system):]
    lengths = _message_lengths(tokenizer, messages)
    if sum(lengths) <= max_tokens:
        return messages
    rest_lengths = lengths[len(system):]
    fixed = system + rest[:head]
    budget = max_tokens - sum(lengths[: len(fixed)])
    tail_start = len(rest)
    used = 0
    while tail_start > head and used + rest_lengths[tail_start - 1] <= budget:
        tail_start -= 1
        used += rest_lengths[tail_start]
    if step > 1 and tail_start < len(rest):
        tail_start = min(head + -(-(tail_start - head) // step) * step, len(rest) - 1)
    while tail_start < len(rest) and fixed and rest[tail_start]["role"] == fixed[-1]["role"]:
        tail_start += 1
    if tail_start >= len(rest):  # not even the last message fits after the head: drop the head
        return system + rest[-1:]
    return fixed + rest[tail_start:]


def window_messages(tokenizer: Any, messages: Sequence[Message], max_tokens: int) -> list[list[Message]]:
    """A conversation too long for ``max_tokens`` as consecutive windows that each fit, every one
    with the system prompt; each later window opens with the other role's message before it.

    Truncating a long dialogue to its head and tail (:func:`truncate_messages`) teaches a model
    that conversations end after a few turns: the middle it never sees is where real seekers
    explain what they want and real recommenders name movies. Windows train on every turn, in
    the context that precedes it, and only the last window holds the end.
    """
    messages = list(messages)
    system = [m for m in messages[:1] if m["role"] == "system"]
    rest = messages[len(system):]
    lengths = _message_lengths(tokenizer, messages)
    if sum(lengths) <= max_tokens:
        return [messages]
    budget = max_tokens - sum(lengths[: len(system)])
    rest_lengths = lengths[len(system):]
    windows: list[list[Message]] = []
    start = 0
    while start < len(rest):
        end, used = start, 0
        while end < len(rest) and used + rest_lengths[end] <= budget:
            used += rest_lengths[end]
            end += 1
        end = max(end, start + 1)  # a message longer than the budget is a window of its own
        windows.append(system + rest[start:end])
        if end >= len(rest):
            break
        # the next window opens with the last message heard, when it is the other role's
        context = end - 1 if end - 1 > start and rest[end - 1]["role"] != TRAINED_ROLE else end
        start = context
    return windows


def encode_windows(tokenizer: Any, messages: Sequence[Message], max_tokens: int) -> list[Encoded]:
    """Every window of the conversation (:func:`window_messages`) with trained tokens, encoded."""
    encoded = (encode_example(tokenizer, window, max_tokens) for window in window_messages(tokenizer, messages, max_tokens))
    return [e for e in encoded if e is not None]


def encode_example(tokenizer: Any, messages: Sequence[Message], max_tokens: int) -> Encoded | None:
    """Truncated, encoded example, or ``None`` when nothing of the trained role survives."""
    kept = truncate_messages(tokenizer, messages, max_tokens)
    encoded = encode_messages(tokenizer, kept)
    if encoded.length > max_tokens:  # tokenization across message boundaries differs slightly
        encoded = Encoded(encoded.input_ids[:max_tokens], encoded.labels[:max_tokens])
    return encoded if encoded.supervised else None
