"""The one rule for the user's end markers: where they are recognized, and that they never stay in text.

The user simulator closes a conversation with one of two markers, and the marker is its decision:
the accept marker (``[ACCEPT]`` by default) when it takes a movie that was recommended, the end
marker (``[END]``) when it leaves without one. It learns which from the real seekers' own labels
(``Dialogue.seeker_accepted``: ReDial's questionnaire, INSPIRED's ``accept_*`` / ``reject_*``), so
"accepted" in the results is what the user said, not a guess from when it stopped talking. A 135M
model writes it back in many spellings — ``[End]``, ``[end]``, ``[ END ]`` — and a rule that
knows only the exact string misses them: the conversation runs on to ``max_turns`` with the marker
left in its text. So the marker is a pattern: its brackets, with any spacing inside them, around its
words in any case. Training data, simulation and validation all ask this module. Not caught: a
marker cut off by the token limit (``[EN``) or other words inside the brackets (``[END OF CHAT]``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Literal

#: The user's closing decision: ``accept`` (the accept marker) or ``decline`` (the end marker).
Decision = Literal["accept", "decline"]
ACCEPT_MARKER = "[ACCEPT]"
#: Both markers at their defaults: what text-cleaning code strips when not told otherwise.
DEFAULT_MARKERS: tuple[str, str] = ("[END]", ACCEPT_MARKER)

_BRACKETS = {"[": "]", "(": ")", "{": "}", "<": ">"}


@functools.cache
def marker_pattern(marker: str) -> re.Pattern[str]:
    """``[END]`` -> a case-insensitive pattern for ``[END]``, ``[End]``, ``[ end ]``, ``[END ]``."""
    text = marker.strip()
    if not text:
        raise ValueError("the end marker must not be empty")
    opening, closing = text[0], text[-1]
    if _BRACKETS.get(opening) == closing and len(text) > 2:
        words = text[1:-1].split()
        inner = r"\s*" + r"\s+".join(re.escape(w) for w in words) + r"\s*"
        return re.compile(re.escape(opening) + inner + re.escape(closing), re.IGNORECASE)
    words = text.split()
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE)


def has_marker(text: str, marker: str) -> bool:
    """Whether ``text`` holds the marker in any of its spellings."""
    return marker_pattern(marker).search(text) is not None


def strip_marker(text: str, marker: str) -> tuple[str, bool]:
    """``text`` without any spelling of the marker (whitespace collapsed), and whether it had one."""
    cleaned, count = marker_pattern(marker).subn(" ", text)
    return " ".join(cleaned.split()), count > 0


def regex_for_validation(*markers: str) -> str:
    """One plain regex string (inline flag, for Great Expectations) that finds any of ``markers``
    in any spelling."""
    return "(?i)" + "|".join(f"(?:{marker_pattern(m).pattern})" for m in markers)


def strip_markers(text: str, end_marker: str, accept_marker: str) -> tuple[str, Decision | None]:
    """``text`` without either marker in any spelling, and the decision it stated (None: neither).

    Where a turn holds both, the later one is the decision: a user who writes "[END] ... actually,
    I'll take it [ACCEPT]" has accepted.
    """
    last_end = max((m.end() for m in marker_pattern(end_marker).finditer(text)), default=-1)
    last_accept = max((m.end() for m in marker_pattern(accept_marker).finditer(text)), default=-1)
    decision: Decision | None = None
    if last_end >= 0 or last_accept >= 0:
        decision = "accept" if last_accept > last_end else "decline"
    return strip_all(text, (end_marker, accept_marker)), decision


def strip_all(text: str, markers: Sequence[str]) -> str:
    """``text`` without any of ``markers`` in any spelling, whitespace collapsed."""
    for marker in markers:
        text = marker_pattern(marker).sub(" ", text)
    return " ".join(text.split())

