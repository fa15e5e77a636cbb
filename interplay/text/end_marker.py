"""The one rule for the user's end marker: where it is recognized, and that it never stays in text.

The user simulator learns to close a conversation with a marker (``[END]`` by default). A 135M
model writes it back in many spellings — ``[End]``, ``[end]``, ``[ END ]`` — and a rule that
knows only the exact string misses them: the conversation runs on to ``max_turns`` with the marker
left in its text. So the marker is a pattern: its brackets, with any spacing inside them, around its
words in any case. Training data, simulation and validation all ask this module. Not caught: a
marker cut off by the token limit (``[EN``) or other words inside the brackets (``[END OF CHAT]``).
"""

from __future__ import annotations

import functools
import re

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


def regex_for_validation(marker: str) -> str:
    """The pattern as a plain regex string with an inline flag (for Great Expectations)."""
    return "(?i)" + marker_pattern(marker).pattern
