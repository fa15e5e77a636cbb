"""Find the movies a generated turn names, as catalog ids — only where the text names them as titles.

A catalog of 6,900 titles holds many everyday phrases ("Up", "Her", "The A-Team", "Home Alone",
"Good Time"): looking every word run up in the catalog links chatter to movies. So a run of
words counts as a title only when it is *written* as one:

1. ``Title (Year)`` — the form both roles are trained on (preprocessing renders every mention so);
   the longest catalog title ending the capitalized run before the year is taken, fuzzily.
2. a quoted span (``"the notebook"``, “Up”), looked up like a title with its year.
3. a run of Capitalized Words (small words such as "of", "the" may stay lowercase inside) that is
   exactly a catalog title, with two deliberate limits: a one-word title needs form 1 or 2 (no
   capitalized word alone is trusted: sentence starts, names and "Her" look the same), and a run
   that starts a sentence needs at least two capitalized words.

Matching uses the one title index of :mod:`interplay.textmatch`, so metrics and simulation agree on
what a mention is. ``tests/fixtures/linking_labels.jsonl`` holds hand-labelled links of generated
and real text that measure this rule's precision and recall.
"""

from __future__ import annotations

import re

from interplay.textmatch import TitleIndex, normalize_text

#: A title word: capitalized or a number, or one of the small words titles keep lowercase.
_WORD = r"(?:[A-Z0-9][^\s()]*|of|the|and|a|an|in|on|to|for|at|by|with|from|vs\.?|&|-|:)"
_TITLE_WITH_YEAR = re.compile(rf"((?:{_WORD}\s+)*{_WORD})\s*\(\s*(\d{{4}})\s*\)")
_QUOTED = re.compile(r"[\"“”]([^\"“”]{1,80})[\"“”](?:\s*\(\s*(\d{4})\s*\))?")
_TOKEN = re.compile(r"\S+")
#: Words a title keeps lowercase inside a capitalized run ("Lord of the Rings", "Gone with the Wind").
_SMALL = frozenset("a an and at by for from in into of on or the to vs vs. with & - :".split())
_MAX_WORDS = 8
_CONNECTORS = frozenset({"and", "or", "&", "like", "vs", "vs."})


def _link_with_year(candidate: str, year: int, index: TitleIndex, cutoff: float) -> tuple[str | None, int]:
    """Try the candidate words longest suffix first: "Yes The Shining" should find "The Shining".

    Returns the id and the character offset in ``candidate`` where the linked title starts (the
    words before it stay for the other forms: "Hot Tub Time Machine and Super Troopers (2001)").
    """
    words = list(re.finditer(r"\S+", candidate))
    for i, word in enumerate(words):
        before = words[i - 1].group(0) if i else None
        # a title starts the run, follows its first word (a sentence start: "Yes The Shining") or
        # a connector ("... and Super Troopers"); not the middle of a longer, made-up title
        if i > 1 and before.lower() not in _CONNECTORS:
            continue
        item_id = index.link(candidate[word.start() :], year=year, cutoff=cutoff)
        if item_id is not None and _same_numbers(candidate[word.start() :], index, item_id):
            return item_id, word.start()
    return None, 0


def _same_numbers(written: str, index: TitleIndex, item_id: str) -> bool:
    """A fuzzy match must not change a number: "Deadpool 4" is not "Deadpool 2"."""
    key = index.keys[index.ids.index(item_id)]
    return re.findall(r"\d+", normalize_text(written)) == re.findall(r"\d+", key)


def _is_capitalized(word: str) -> bool:
    core = word.lstrip("\"'“‘(")
    return bool(core) and (core[0].isupper() or core[0].isdigit())


Span = list[tuple[str, bool, int]]  # (word, starts a sentence, character offset)


def _runs(text: str) -> list[Span]:
    """Runs of words; punctuation ending a word ends its run."""
    runs: list[Span] = []
    current: Span = []
    sentence_start = True
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        word = token.strip("\"'“”‘’()[]{}.,;!?")
        if word:
            current.append((word, sentence_start, match.start()))
        if not word or token[-1] in ".,;!?)\"”":  # a colon stays inside: "Star Trek: The Next Generation"
            if current:
                runs.append(current)
            current = []
        sentence_start = not word or token[-1] in ".!?"
    if current:
        runs.append(current)
    return runs


def _span_is_title_shaped(span: Span) -> bool:
    words = [w for w, _, _ in span]
    if not _is_capitalized(words[0]) or not _is_capitalized(words[-1]):
        return False
    if any(not _is_capitalized(w) and w.lower() not in _SMALL for w in words):
        return False
    # A sentence start is capitalized anyway: it does not count ("The Others were boring").
    capitalized = sum(1 for i, w in enumerate(words) if _is_capitalized(w) and not (i == 0 and span[0][1]))
    return len(words) >= 2 and (not span[0][1] or capitalized >= 2)


def _whole_title(run: Span, position: int, size: int) -> bool:
    """The span is the whole title as written: no capitalized word or number right after it
    ("The Avengers 3", "The Haunting Of Agnes"), nor right before it unless that word only starts
    the sentence ("Yes The Shining")."""
    after = run[position + size][0] if position + size < len(run) else None
    if after is not None and _is_capitalized(after):
        return False
    if position > 0:
        word, sentence_start, _ = run[position - 1]
        if _is_capitalized(word) and not (sentence_start and position == 1):
            return False
    return True


def _capitalized_mentions(text: str, index: TitleIndex) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for run in _runs(text):
        position = 0
        while position < len(run):
            for size in range(min(_MAX_WORDS, len(run) - position), 1, -1):
                span = run[position : position + size]
                key = normalize_text(" ".join(w for w, _, _ in span))
                if key in index.exact and _span_is_title_shaped(span) and _whole_title(run, position, size):
                    found.append((span[0][2], index.ids[index.exact[key][0]]))
                    position += size - 1
                    break
            position += 1
    return found


def link_titles(text: str, index: TitleIndex, cutoff: float = 90.0) -> list[str]:
    """Catalog ids named in ``text``, in order of first appearance, without repeats."""
    found: list[tuple[int, str | None]] = []
    remainder = text

    def blank(start: int, end: int) -> str:  # same length, so offsets stay those of ``text``
        return remainder[:start] + " ." + " " * (end - start - 2) + remainder[end:]

    for match in _QUOTED.finditer(text):
        year = int(match.group(2)) if match.group(2) else None
        item_id = index.link(match.group(1), year=year, cutoff=cutoff)
        if item_id is not None:  # quoted speech that is no title keeps its words for the other forms
            found.append((match.start(), item_id))
            remainder = blank(match.start(), match.end())
    for match in _TITLE_WITH_YEAR.finditer(remainder):
        item_id, offset = _link_with_year(match.group(1), int(match.group(2)), index, cutoff)
        if item_id is None:  # only the year goes: the words before it may hold another title
            remainder = blank(match.start(2) - 1, match.end())
            continue
        found.append((match.start() + offset, item_id))
        remainder = blank(match.start() + offset, match.end())
    found += _capitalized_mentions(remainder, index)
    ids: list[str] = []
    for _, item_id in sorted(found, key=lambda f: f[0]):
        if item_id is not None and item_id not in ids:
            ids.append(item_id)
    return ids
