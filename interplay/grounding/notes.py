"""The control notes that ground both simulators, for training data and simulation alike.

* A **candidate note** follows a seeker message in the recommender's view: the retriever's top
  ``K`` for the conversation up to that message, as ``Title (Year)`` with a few facts. It is
  computed from what was said only, once, when the message is said — history never changes, so
  the prefix cache stays valid.
* An **item note** follows a recommender message that names catalog items, in the user's view:
  those items' genres, decade, directors and lead actors — what a person who knows the movie
  would know, and exactly the fields a seed profile's target attributes use, so the user can tell
  whether an offer fits. It never names the target unless the recommender just did.
* A **wish note** follows each item note in the user's view only: what of the seeker's own wish
  (its profile's target attributes) each offered item has, as :func:`interplay.dialogue.metrics.shared_attributes`
  decides — "[For you: Happy Gilmore (1996) fits 3 of 3: comedy, 1990s, Adam Sandler]". A person
  who knows what they want sees this at a glance; a 135M model trained a few hundred steps does
  not reliably compare two attribute lists in its context, so the comparison is written out.
  It is computed from the profile, so it lives apart from the shared notes and never reaches the
  recommender (``Conversation.wish_notes``).

Notes are control text: they are never part of a published message; the dialogue rows carry the
candidate notes in a column of their own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from interplay.config.params import RetrieverParams
from interplay.corpus.catalog import Catalog, CatalogItem
from interplay.corpus.schema import Dialogue
from interplay.dialogue.metrics import ATTRIBUTE_FIELDS, present_fields, shared_attributes
from interplay.grounding.retriever import CatalogRetriever, Said, fit_retriever, said_of

CANDIDATES_HEAD = "[Candidates: "
ITEM_HEAD = "[About "
WISH_HEAD = "[For you: "
#: Every note's head: whatever starts with one of these is control text, not dialogue.
NOTE_HEADS = (CANDIDATES_HEAD, ITEM_HEAD, WISH_HEAD)
#: Where a note starts, wherever it stands (validation: no published message holds one).
NOTE_HEAD_PATTERN = "(?:" + "|".join(re.escape(h) for h in NOTE_HEADS) + ")"
#: A grounding note: its head, then text in which a title may hold one level of brackets
#: (``[About [REC] (2007): horror]``), up to its closing bracket — or to the end of a reply that
#: was cut off inside one.
NOTE_PATTERN = re.compile(NOTE_HEAD_PATTERN + r"(?:[^\[\]]|\[[^\[\]]*\])*(?:\]|$)")


def strip_notes(text: str) -> str:
    """``text`` without note-like text, whitespace collapsed where a note was (a text without one
    is returned as it is). Both simulators read notes after the other side's turns and learned
    their form, so a model may copy one into its own reply: left there, a profile's wish note in a
    user turn would reach the recommender."""
    if not NOTE_PATTERN.search(text):
        return text
    return " ".join(NOTE_PATTERN.sub(" ", text).split())
#: Items an item note describes at most (a message listing ten titles gets the first three).
MAX_NOTED_ITEMS = 3


def _join(values: Sequence[str], limit: int) -> str:
    return ", ".join(values[:limit])


def candidate_facts(item: CatalogItem) -> str:
    """``Title (Year): genre, genre, lead actor``: enough to choose and to say why."""
    facts = [*item.genres[:2], *item.actors[:1]]
    return f"{item.title}: {', '.join(facts)}" if facts else item.title


def item_facts(item: CatalogItem) -> str:
    """``Title (Year): horror, thriller; 2010s; directed by X; starring A, B``."""
    parts = [item.title + ":" if item.genres else item.title]
    if item.genres:
        parts[0] += " " + _join(item.genres, 3)
    if item.decade:
        parts.append(item.decade)
    if item.directors:
        parts.append("directed by " + _join(item.directors, 2))
    if item.actors:
        parts.append("starring " + _join(item.actors, 2))
    return "; ".join(parts)


def candidate_note(items: Sequence[CatalogItem]) -> str:
    return CANDIDATES_HEAD + " | ".join(candidate_facts(i) for i in items) + "]" if items else ""


def item_note(items: Sequence[CatalogItem]) -> str:
    return " ".join(f"{ITEM_HEAD}{item_facts(i)}]" for i in items[:MAX_NOTED_ITEMS])


def _attributes(item: CatalogItem) -> dict[str, Any]:
    return {"genres": item.genres, "decade": item.decade, "directors": item.directors, "actors": item.actors}


def wish_note(items: Sequence[CatalogItem], wish: Mapping[str, Any]) -> str:
    """Per noted item with facts, how many of the wish's fields it fits and with what, in the
    wish's order: ``[For you: Happy Gilmore (1996) fits 3 of 4: comedy, 1990s, Adam Sandler]``.

    The count is the item's ``match_score`` times the wish's fields: in real dialogues nearly
    every offer shares something (a genre) with the seeker's wish, and what tells the movie they
    end up taking is how much it shares.
    """
    fields = len(present_fields(wish))
    notes = []
    for item in items[:MAX_NOTED_ITEMS]:
        if not fields or not (item.genres or item.directors or item.actors):
            continue  # no wish, or no facts: nothing to compare (the item note says as little)
        shared = shared_attributes(_attributes(item), wish)
        values = [v for field in ATTRIBUTE_FIELDS for v in shared.get(field, ())]
        fits = f"fits {len(shared)} of {fields}" + (f": {', '.join(values)}" if values else "")
        notes.append(f"{WISH_HEAD}{item.title} {fits}]")
    return " ".join(notes)


def user_note(item: str | None, wish: str | None) -> str:
    """The note the user reads after a recommender message: the items' facts, then the wish note."""
    return " ".join(n for n in (item, wish) if n)


@dataclass(frozen=True)
class Grounder:
    """The catalog and its retriever: everything the notes of one run are computed from."""

    catalog: Catalog
    retriever: CatalogRetriever
    candidates: int

    @classmethod
    def fit(cls, catalog: Catalog, train: Iterable[Dialogue], params: RetrieverParams) -> Grounder:
        """The retriever fitted on the train dialogues (only: see ``fit_retriever``)."""
        return cls(catalog, fit_retriever(catalog, train, params), params.candidates)

    def candidates_for(self, said: Sequence[Said]) -> list[str]:
        """The retriever's top items for what was said (never a profile: it is not an input)."""
        return self.retriever.rank(said, self.candidates)

    def candidates_for_each(self, conversations: Sequence[Sequence[Said]]) -> list[list[str]]:
        """:meth:`candidates_for` of each conversation, ranked together (faster, same items)."""
        return self.retriever.rank_batch(conversations, self.candidates)

    def candidate_note(self, item_ids: Sequence[str]) -> str:
        return candidate_note([self.catalog.by_id[i] for i in item_ids if i in self.catalog.by_id])

    def item_note(self, item_ids: Sequence[str]) -> str:
        return item_note(self._items(item_ids))

    def wish_note(self, item_ids: Sequence[str], wish: Mapping[str, Any]) -> str:
        return wish_note(self._items(item_ids), wish)

    def _items(self, item_ids: Sequence[str]) -> list[CatalogItem]:
        unique = list(dict.fromkeys(item_ids))
        return [self.catalog.by_id[i] for i in unique if i in self.catalog.by_id]


def _slot(dialogue_id: str, turn: int, size: int) -> int:
    """A fixed pseudo-random position for a planted candidate, so no slot means "the answer"."""
    digest = hashlib.sha256(f"{dialogue_id}:{turn}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % size


def training_candidate_notes(dialogue: Dialogue, grounder: Grounder, plant: bool = True) -> dict[int, str]:
    """Turn -> candidate note, for every seeker message a recommender message answers.

    Computed from the real conversation up to that message, like at simulation time. Where the
    movie the real recommender names next is not among the candidates, it replaces the lowest one
    (training data only; ``plant`` False leaves the retriever alone), at a fixed pseudo-random
    slot, so the model learns to choose among the candidates and to name them, not to pick a
    position.
    """
    return training_candidate_notes_each([dialogue], grounder, plant)[0]


#: Conversations the retriever ranks in one call: large enough that scikit-learn's per-call cost
#: vanishes, small enough that the items x conversations score arrays stay in tens of MB.
RANK_CHUNK = 256


def training_candidate_notes_each(
    dialogues: Sequence[Dialogue], grounder: Grounder, plant: bool = True
) -> list[dict[int, str]]:
    """:func:`training_candidate_notes` of each dialogue, their turns ranked together in chunks
    (preprocessing ranks every answered seeker turn of the corpus: one call per turn was most
    of its time). The same notes as one dialogue at a time."""
    turns = [_answered_turns(dialogue) for dialogue in dialogues]
    conversations = [said_of(d, turn + 1) for d, answered in zip(dialogues, turns) for turn in answered]
    chunks = range(0, len(conversations), RANK_CHUNK)
    ranked = iter([
        candidates
        for start in tqdm(chunks, desc="candidate notes", unit=" chunks", disable=None, leave=False)
        for candidates in grounder.candidates_for_each(conversations[start : start + RANK_CHUNK])
    ])
    return [
        _candidate_notes(dialogue, grounder, answered, [next(ranked) for _ in answered], plant)
        for dialogue, answered in zip(dialogues, turns)
    ]


def _answered_turns(dialogue: Dialogue) -> list[int]:
    """The seeker messages a recommender message answers."""
    messages = dialogue.messages
    return [
        turn for turn in range(len(messages) - 1)
        if messages[turn].role == "user" and messages[turn + 1].role == "recommender"
    ]


def _candidate_notes(
    dialogue: Dialogue, grounder: Grounder, turns: list[int], ranked: list[list[str]], plant: bool
) -> dict[int, str]:
    first_mention: dict[str, int] = {}
    for mention in dialogue.item_mentions:
        first_mention.setdefault(mention.item_id, mention.turn)
    notes: dict[int, str] = {}
    for turn, candidates in zip(turns, ranked, strict=True):
        answer = [
            m.item_id for m in dialogue.item_mentions
            if m.turn == turn + 1 and m.role == "recommender" and first_mention[m.item_id] == turn + 1
            and m.item_id in grounder.catalog.by_id
        ]
        if plant and answer and not set(answer) & set(candidates):
            kept = candidates[: grounder.candidates - 1]
            kept.insert(_slot(dialogue.dialogue_id, turn, len(kept) + 1), answer[0])
            candidates = kept
        notes[turn] = grounder.candidate_note(candidates)
    return notes


def training_item_notes(
    dialogue: Dialogue, grounder: Grounder, wish: Mapping[str, Any] | None = None
) -> dict[int, str]:
    """Turn -> the user's note (item note, then the wish note of ``wish``, the profile's target
    attributes), for every recommender message that names catalog items."""
    named: dict[int, list[str]] = {}
    for mention in dialogue.item_mentions:
        if mention.role == "recommender":
            named.setdefault(mention.turn, []).append(mention.item_id)
    notes = {
        turn: user_note(grounder.item_note(ids), grounder.wish_note(ids, wish) if wish is not None else None)
        for turn, ids in named.items()
    }
    return {turn: note for turn, note in notes.items() if note}
