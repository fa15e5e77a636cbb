"""The one in-memory schema every corpus reader produces and every later stage consumes.

Readers keep what a seed profile needs next to the dialogue (liked, disliked and target items,
preferred genres and people), so profile building stays corpus-agnostic; ``raw_file`` /
``raw_line`` let any later check point the user at the record it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interplay.dialogue.rows import Role, Split


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class ItemMention:
    """A catalog item named in the dialogue; ``turn`` indexes ``Dialogue.messages``."""

    item_id: str
    title: str
    turn: int
    role: Role


@dataclass(frozen=True)
class Dialogue:
    dialogue_id: str
    source: str
    split: Split | None
    messages: tuple[Message, ...]
    item_mentions: tuple[ItemMention, ...]
    #: Items the seeker said they like / dislike (their own mentions), in order of mention.
    liked_item_ids: tuple[str, ...] = ()
    disliked_item_ids: tuple[str, ...] = ()
    #: Items recommended to and accepted by the seeker (see the reader for the corpus rule).
    target_item_ids: tuple[str, ...] = ()
    #: Whether the seeker accepted a recommendation, by the corpus's own labels (see the reader for
    #: the rule); None where the corpus records no decision. The user simulator learns to state
    #: its decision from it (:mod:`interplay.text.end_marker`).
    seeker_accepted: bool | None = None
    #: Genres and people the seeker named (corpora that annotate them, e.g. INSPIRED).
    preferred_genres: tuple[str, ...] = ()
    preferred_people: tuple[str, ...] = ()
    raw_file: str = ""
    raw_line: int = 0
    #: Harmless irregularities seen in this record (one entry per occurrence), for the report.
    quirks: tuple[str, ...] = field(default=(), compare=False)

    @property
    def opening_role(self) -> Role | None:
        return self.messages[0].role if self.messages else None
