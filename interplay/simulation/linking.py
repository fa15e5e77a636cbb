"""Find the movies a generated turn names, as catalog ids.

Both roles are trained on text where every mention is rendered ``Title (Year)``, so that pattern
is the main signal; catalog titles of two or more words (or one uncommon word) that stand in a turn
without a year are found by exact normalized n-gram lookup. Matching uses the one title index of
:mod:`interplay.textmatch`, so metrics and simulation agree on what a mention is.
"""

from __future__ import annotations

import re

from interplay.textmatch import TitleIndex, is_short_title, normalize_text

#: A title word: capitalized or a number, or one of the small words titles keep lowercase.
_WORD = r"(?:[A-Z0-9][^\s()]*|of|the|and|a|an|in|on|to|for|at|with|from|vs\.?|&|-|:)"
_TITLE_WITH_YEAR = re.compile(rf"((?:{_WORD}\s+)*{_WORD})\s*\((\d{{4}})\)")
_MAX_NGRAM = 8


def _link_with_year(candidate: str, year: int, index: TitleIndex, cutoff: float) -> str | None:
    """Try the candidate words longest suffix first: "Yes The Shining" should find "The Shining"."""
    words = candidate.split()
    for start in range(len(words)):
        item_id = index.link(" ".join(words[start:]), year=year, cutoff=cutoff)
        if item_id is not None:
            return item_id
    return None


def _ngram_mentions(text: str, index: TitleIndex) -> list[tuple[int, str]]:
    words = normalize_text(text).split()
    found: list[tuple[int, str]] = []
    position = 0
    while position < len(words):
        for size in range(min(_MAX_NGRAM, len(words) - position), 0, -1):
            key = " ".join(words[position : position + size])
            if key in index.exact and not is_short_title(key) and (size > 1 or len(key) > 6):
                found.append((position, index.ids[index.exact[key][0]]))
                position += size - 1
                break
        position += 1
    return found


def link_titles(text: str, index: TitleIndex, cutoff: float = 90.0) -> list[str]:
    """Catalog ids named in ``text``, in order of first appearance, without repeats."""
    ids: list[str] = []
    remainder = text
    for match in _TITLE_WITH_YEAR.finditer(text):
        item_id = _link_with_year(match.group(1), int(match.group(2)), index, cutoff)
        if item_id is not None and item_id not in ids:
            ids.append(item_id)
        remainder = remainder.replace(match.group(0), " ")
    for _, item_id in _ngram_mentions(remainder, index):
        if item_id not in ids:
            ids.append(item_id)
    return ids
