"""Corpus-agnostic clean-up of a raw dialogue, the form every later stage sees.

``@123`` mentions become display titles (``Super Troopers (2001)``) so models learn to name
titles, not ids; consecutive messages of one speaker are merged so turns alternate, which both
chat-format training sets rely on.
"""

from __future__ import annotations

import re
from dataclasses import replace

from interplay.corpus.schema import Dialogue, ItemMention, Message
from interplay.errors import BadRecordError

_MENTION = re.compile(r"@(\d+)")


def render_mentions(text: str, titles: dict[str, str]) -> str:
    """Replace ``@id`` with its title; ids without a title are left as they are."""
    return _MENTION.sub(lambda m: titles.get(m.group(1), m.group(0)), text)


def normalize_dialogue(dialogue: Dialogue) -> Dialogue:
    """Render mentions, drop empty messages, merge consecutive messages of one speaker.

    Raises :class:`BadRecordError` (``empty_dialogue``) when no text is left.
    """
    quirks = list(dialogue.quirks)
    titles = {m.item_id: m.title for m in dialogue.item_mentions}
    new_turn: dict[int, int] = {}
    merged: list[Message] = []
    for index, message in enumerate(dialogue.messages):
        content = " ".join(render_mentions(message.content, titles).split())
        if not content:
            quirks.append("empty_message")
            continue
        if merged and merged[-1].role == message.role:
            merged[-1] = Message(message.role, f"{merged[-1].content} {content}")
            quirks.append("merged_messages")
        else:
            merged.append(Message(message.role, content))
        new_turn[index] = len(merged) - 1
    if not merged:
        raise BadRecordError(
            dialogue.raw_file, dialogue.raw_line, "messages", "empty_dialogue", "the dialogue has no text"
        )
    mentions: dict[tuple[str, int], ItemMention] = {}
    for mention in dialogue.item_mentions:
        if mention.turn in new_turn:
            turn = new_turn[mention.turn]
            mentions.setdefault((mention.item_id, turn), replace(mention, turn=turn))
    return replace(dialogue, messages=tuple(merged), item_mentions=tuple(mentions.values()), quirks=tuple(quirks))
