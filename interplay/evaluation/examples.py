"""Example dialogues for a reader: which ones (a fixed rule) and how they look (one renderer).

Used by the evaluation report (``reports/evaluation.md``, three per generated system) and by the
dataset card (``release/README.md``, three Interplay dialogues). Pure: no file is read here, and
nothing beyond the standard library is imported, so the publish stage can use it cheaply.

The rule (:func:`choose_examples`), per system, over its rows sorted by ``dialogue_id``:

1. the first dialogue whose outcome is ``accepted``;
2. the first dialogue the user gave up on (``gave_up``); if there is none, the first that ended
   otherwise without an accepted item (``max_turns`` or ``error``);
3. one drawn with ``random.Random(seed).sample`` from the dialogues not chosen yet (in
   ``dialogue_id`` order), ``seed`` being the pipeline's ``seed`` parameter.

A slot the system has no dialogue for is filled by the draw as well, so a system gets
``min(n, number of dialogues)`` examples, never the same dialogue twice.

Rendering (:func:`render_example`): message texts are model-generated, so every text taken from a
row is escaped (Markdown punctuation backslash-escaped, ``<``/``>``/``&`` as entities, newlines as
``<br>``): a message can neither start a heading, a table, a code block or HTML, nor end the list
it is in, nor reach a card's YAML front matter.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]

#: The rule in words, for the report and the card (``{seed}`` is filled in).
RULE = (
    "chosen by a fixed rule, not for quality: in `dialogue_id` order, the first accepted dialogue, "
    "the first the user gave up on (else the first that ended otherwise without an accepted item), "
    "and one drawn at random (Python's `random.Random({seed})`) from the rest"
)
#: How to read a rendered example.
LEGEND = (
    "Linked catalog items are in **bold** (or named after the message as `[linked: …]` where the "
    "title was linked fuzzily); an indented \"offered\" line after a seeker turn is the candidate "
    "note the grounded recommender read, which is not part of the messages. Targets are for "
    "evaluation only: neither model saw them."
)

ROLE_LABELS = {"user": "User", "recommender": "Recommender"}
#: Longest candidate note shown (characters of the original note).
MAX_NOTE_CHARS = 600

OTHER_ENDINGS = ("max_turns", "error")


def choose_examples(rows: Iterable[Row], seed: int, n: int = 3) -> list[Row]:
    """Up to ``n`` example rows by the module's fixed rule: first accepted, first gave up (else
    first ended otherwise), then drawn with ``random.Random(seed)`` from the rest.

    Deterministic for the same rows (in any order) and seed; the rows themselves are returned.
    """
    ordered = sorted(rows, key=lambda r: str(r.get("dialogue_id") or ""))
    if n <= 0 or not ordered:
        return []
    taken: list[int] = []

    def first(predicate: Any) -> None:
        if len(taken) >= n:
            return
        for index, row in enumerate(ordered):
            if index not in taken and predicate(row):
                taken.append(index)
                return

    first(lambda r: r.get("outcome") == "accepted")
    before = len(taken)
    first(lambda r: r.get("outcome") == "gave_up")
    if len(taken) == before:
        first(lambda r: r.get("outcome") in OTHER_ENDINGS)
    rest = [i for i in range(len(ordered)) if i not in taken]
    k = min(n - len(taken), len(rest))
    if k > 0:
        taken += random.Random(seed).sample(rest, k)
    return [ordered[i] for i in taken]


def mention_titles(rows: Iterable[Row]) -> dict[str, str]:
    """item_id -> title from the rows' own ``item_mentions`` (where the catalog is not at hand)."""
    titles: dict[str, str] = {}
    for row in rows:
        for mention in row.get("item_mentions") or []:
            item_id, title = mention.get("item_id"), mention.get("title")
            if item_id is not None and title:
                titles.setdefault(str(item_id), str(title))
    return titles


# -- escaping ------------------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"([\\`*_\[\]{}#|~$])")
_NEWLINES = re.compile(r"\s*(?:\r\n|\r|\n)\s*")


def escape(text: Any) -> str:
    """Text as inert inline Markdown: one line, no markup, no HTML."""
    return escape_piece("" if text is None else str(text).strip())


def escape_piece(text: str) -> str:
    """:func:`escape` without trimming (a piece between two marked titles keeps its spaces)."""
    value = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _PUNCTUATION.sub(r"\\\1", value)
    return _NEWLINES.sub("<br>", value)


def code(text: Any) -> str:
    """A short identifier as a code span (backticks and line breaks removed)."""
    value = " ".join(str(text).replace("`", "'").split())
    return f"`{value}`" if value else "`?`"


# -- linked titles ---------------------------------------------------------------------------------

_YEAR = re.compile(r"\s*\(\d{4}\)\s*$")


def _find(text: str, title: str) -> list[tuple[int, int]]:
    """Spans of ``title`` in ``text`` as whole words, any case; else of the title without its
    ``(Year)`` (case-sensitive when that is shorter than four characters, e.g. "It")."""
    title = title.strip()
    bare = _YEAR.sub("", title).strip()
    tries = [(title, re.IGNORECASE)]
    if bare and bare != title:
        tries.append((bare, re.IGNORECASE if len(bare) >= 4 else 0))
    for candidate, flags in tries:
        pattern = re.compile(r"(?<!\w)" + re.escape(candidate) + r"(?!\w)", flags)
        spans = [m.span() for m in pattern.finditer(text)]
        if spans:
            return spans
    return []


def mark_titles(text: str, titles: Sequence[str]) -> tuple[str, list[str]]:
    """``text`` escaped, each occurrence of a linked title in bold; and the titles not found."""
    text = text.strip()
    accepted: list[tuple[int, int]] = []
    missing: list[str] = []
    for title in sorted(dict.fromkeys(t for t in titles if t), key=len, reverse=True):
        spans = [s for s in _find(text, title) if all(s[1] <= a or s[0] >= b for a, b in accepted)]
        if spans:
            accepted += spans
        else:
            missing.append(title)
    out, at = [], 0
    for start, end in sorted(accepted):
        out.append(escape_piece(text[at:start]))
        out.append("**" + escape_piece(text[start:end]) + "**")
        at = end
    out.append(escape_piece(text[at:]))
    marked = "".join(out)
    order = {t: i for i, t in enumerate(titles)}
    return marked, sorted(missing, key=lambda t: order.get(t, 0))


# -- rendering -----------------------------------------------------------------------------------


def item_title(item_id: Any, titles: Mapping[str, str], row: Row) -> str:
    """An item's title: the catalog's, else the row's target title, else its id."""
    key = str(item_id)
    if key in titles and titles[key]:
        return titles[key]
    for target_id, target_title in zip(row.get("target_item_ids") or [], row.get("target_titles") or []):
        if str(target_id) == key and target_title:
            return str(target_title)
    return f"item {key}"


def attributes_text(row: Row) -> str:
    """What the user simulator was looking for, as plain text ("" when the row has nothing)."""
    text = row.get("target_attributes_text")
    if text:
        return str(text)
    attributes = row.get("target_attributes") or {}
    parts = []
    for key in ("genres", "decade", "directors", "actors"):
        value = attributes.get(key)
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        if value:
            parts.append(f"{key}: {value}")
    return "; ".join(parts)


def _attributes(row: Row) -> str:
    return escape(attributes_text(row)) or "none"


@dataclass(frozen=True)
class Outcome:
    """How a dialogue ended, as both renderers (this Markdown and the HTML page) state it."""

    outcome: str
    reason: str | None  # the termination reason, where it says more than the outcome
    messages: int
    accepted: str | None  # the accepted item's id
    targets: bool  # whether the row has targets at all
    hits: list[str]  # ids of targets among the recommended items


def outcome_of(row: Row) -> Outcome:
    outcome = str(row.get("outcome") or "unknown")
    messages = row.get("num_turns")
    if messages is None:
        messages = len(row.get("messages") or [])
    reason = row.get("termination_reason")
    targets = [str(t) for t in row.get("target_item_ids") or []]
    recommended = {str(i) for i in row.get("recommended_item_ids") or []}
    return Outcome(
        outcome=outcome,
        reason=str(reason) if reason and reason != outcome else None,
        messages=int(messages),
        accepted=row.get("accepted_item_id") or None,
        targets=bool(targets),
        hits=[t for t in targets if t in recommended],
    )


def _outcome(row: Row, titles: Mapping[str, str]) -> str:
    end = outcome_of(row)
    how = f"{code(end.reason)}, " if end.reason else ""
    text = f"{code(end.outcome)} ({how}{end.messages} messages)"
    if end.accepted:
        text += f": the user accepted **{escape(item_title(end.accepted, titles, row))}** ({code(end.accepted)})"
    else:
        text += ": no item accepted"
    if end.targets:
        if end.hits:
            named = ", ".join(escape(item_title(t, titles, row)) for t in end.hits)
            text += f"; a target was among the recommended items: yes ({named})"
        else:
            text += "; a target was among the recommended items: no"
    return text + "."


def _offered(entry: Mapping[str, Any], titles: Mapping[str, str], row: Row) -> str:
    note = str(entry.get("note") or "").strip()
    if not note:
        ids = entry.get("item_ids") or []
        note = "; ".join(item_title(i, titles, row) for i in ids)
    if len(note) > MAX_NOTE_CHARS:
        note = note[: MAX_NOTE_CHARS - 1].rstrip() + "…"
    return escape(note)


def render_example(row: Row, titles: Mapping[str, str], *, heading_level: int = 4) -> str:
    """One dialogue as Markdown: a heading, the profile, targets and outcome, then the messages
    (linked titles in bold, each seeker turn's candidate note after it)."""
    titles = {**mention_titles([row]), **{str(k): v for k, v in titles.items() if v}}
    heading = "#" * max(1, min(heading_level, 6))
    outcome = row.get("outcome") or "unknown"
    targets = row.get("target_titles") or []
    lines = [
        f"{heading} {code(row.get('dialogue_id') or '?')} ({code(outcome)})",
        "",
        f"- **Profile summary:** {escape(row.get('preference_summary')) or 'none'}",
        f"- **Target attributes:** {_attributes(row)}",
        "- **Target titles:** " + ("; ".join(escape(t) for t in targets) if targets else "none"),
        f"- **Outcome:** {_outcome(row, titles)}",
        "",
        "Messages:",
        "",
    ]
    mentions: dict[int, list[str]] = {}
    for mention in row.get("item_mentions") or []:
        title = mention.get("title") or titles.get(str(mention.get("item_id")))
        if title and mention.get("turn") is not None:
            mentions.setdefault(int(mention["turn"]), []).append(str(title))
    offered = {int(c["turn"]): c for c in row.get("candidates") or [] if c.get("turn") is not None}
    messages = row.get("messages") or []
    for turn, message in enumerate(messages):
        role = str(message.get("role") or "")
        label = ROLE_LABELS.get(role, escape(role) or "?")
        text, unfound = mark_titles(str(message.get("content") or ""), mentions.get(turn, []))
        line = f"- **{label}:** {text or '(empty)'}"
        if unfound:
            line += " [linked: " + "; ".join(f"**{escape(t)}**" for t in unfound) + "]"
        lines.append(line)
        if turn in offered:
            note = _offered(offered[turn], titles, row)
            if note:
                lines.append(f"  > offered: {note}")
    if not messages:
        lines.append("- (no messages)")
    return "\n".join(lines)
