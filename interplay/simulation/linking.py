"""Find the movies a generated turn names, as catalog ids — only where the text names them as titles.

A catalog of 6,900 titles holds many everyday phrases ("Up", "Her", "The A-Team", "Home Alone",
"Good Time"): looking every word run up in the catalog links chatter to movies. So a run of
words counts as a title only when it is *written* as one:

1. ``Title (Year)`` — the form both roles are trained on (preprocessing renders every mention so);
   the longest catalog title ending the capitalized run before the year is taken, fuzzily.
2. a quoted span (``"the notebook"``, “Up”), looked up like a title with its year; without a year
   only exactly. A quoted made-up title ("Indiana Jones & The Darker Tendrils") names nothing.
3. ``Title (...)`` with something else than a year in the parentheses ("Predator (sic!)"): form 1
   with the year garbled, linked exactly.
4. a run of Capitalized Words (small words such as "of", "the" may stay lowercase inside) that is
   exactly a catalog title, with deliberate limits: a one-word title needs form 1, 2 or 3 (no
   capitalized word alone is trusted: sentence starts, names and "Her" look the same), a run that
   starts a sentence needs two capitalized words besides small ones ("Black Panther has", not "The
   Others were"), and a title that bare names something else as often needs a year or quotes: a
   series ("Star Wars"), a holiday ("New Year's Eve"), an article and an everyday word ("The One").

Matching uses the one title index of :mod:`interplay.text.titles`, so metrics and simulation agree on
what a mention is. ``tests/fixtures/linking_labels.jsonl`` holds hand-labelled links of generated
and real text that measure this rule's precision and recall.
"""

from __future__ import annotations

import re

from interplay.text.titles import COMMON_WORDS, TitleIndex, is_short_title, normalize_text

#: Words a title keeps lowercase inside a capitalized run ("Lord of the Rings", "Gone with the Wind",
#: "Live Free or Die Hard"): one list for the title-year pattern and the capitalized runs alike.
_SMALL_WORDS = ("of", "the", "and", "or", "a", "an", "in", "into", "on", "to", "for", "at", "by", "with",
                "from", "vs.", "vs", "&", "-", ":")
_SMALL = frozenset(_SMALL_WORDS)
#: A title word: capitalized or a number, or one of :data:`_SMALL_WORDS`.
_WORD = rf"(?:[A-Z0-9][^\s()]*|{'|'.join(map(re.escape, _SMALL_WORDS))})"
#: A run of title words starts a word: not inside one ("favorites: Watch A Beautiful Mind (2015)"
#: must not start at the colon, "BrazenHearte (2000)" not at "Hearte").
_RUN = rf"(?<![\w'’])((?:{_WORD}\s+)*{_WORD})"
_TITLE_WITH_YEAR = re.compile(rf"{_RUN}\s*\(\s*(\d{{4}})\s*\)")
#: ``Title (...)`` without a year: the trained form with the year garbled ("Predator (sic!)").
_TITLE_WITH_ASIDE = re.compile(rf"{_RUN}\s*\(([^()]*)")
_SEQUEL_ORDINAL = re.compile(r"\s*(?:[2-9]|\d\d+)(?:st|nd|rd|th)\b")
_QUOTED = re.compile(r"[\"“”]([^\"“”]{1,80})[\"“”](?:\s*\(\s*(\d{4})\s*\))?")
_TOKEN = re.compile(r"\S+")
_MAX_WORDS = 8
_CONNECTORS = frozenset({"and", "or", "&", "like", "vs", "vs."})
_ARTICLES = frozenset({"a", "an", "the"})
#: Catalog titles that are holidays: a greeting ("Have a safe New Year's Eve") names no film.
_HOLIDAYS = frozenset(
    {"new years eve", "christmas eve", "valentines day", "mothers day", "independence day", "halloween"}
)


def _link_with_year(
    candidate: str, year: int | None, index: TitleIndex, cutoff: float
) -> tuple[str | None, int]:
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


def _link_with_aside(candidate: str, aside: str, index: TitleIndex) -> tuple[str | None, int]:
    """``Title (...)`` with no year in the parentheses ("Highlander (I have no idea!)", "Fargo (that
    one was great"): the trained form with the year garbled, so a title ending the run counts, but
    only exactly (no year confirms a fuzzy guess), and neither an everyday word ("Her (my wife)")
    nor a title that needs its year anyway (:func:`_bare_title_is_ambiguous`), nor one followed by
    a sequel's ordinal ("The Avengers (3rd)" is not the first)."""
    item_id, offset = _link_with_year(candidate, None, index, cutoff=100.0)
    if item_id is None or _SEQUEL_ORDINAL.match(aside):
        return None, 0
    key = index.keys[index.ids.index(item_id)]
    return (None, 0) if is_short_title(key) or _bare_title_is_ambiguous(key, index) else (item_id, offset)


def _bare_title_is_ambiguous(key: str, index: TitleIndex) -> bool:
    """Titles that, capitalized but with neither year nor quotes, name something else as often as
    the film: a series ("Star Wars", "Star Trek": :attr:`TitleIndex.series`), a holiday ("New
    Year's Eve") or an article and an everyday word ("The One who wasn't", "The Others")."""
    words = [w for w in key.split() if w not in _ARTICLES]
    return key in index.series or key in _HOLIDAYS or (len(words) == 1 and words[0] in COMMON_WORDS)


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


def _is_title_shaped(text: str) -> bool:
    """Every word capitalized, or one of the small words titles keep lowercase."""
    words = [w for w in (t.strip("\"'“”‘’()[]{}.,;!?") for t in text.split()) if w]
    return bool(words) and _is_capitalized(words[0]) and all(_is_capitalized(w) or w.lower() in _SMALL for w in words)


def _span_is_title_shaped(span: Span) -> bool:
    words = [w for w, _, _ in span]
    if not _is_capitalized(words[0]) or not _is_capitalized(words[-1]):
        return False
    if any(not _is_capitalized(w) and w.lower() not in _SMALL for w in words):
        return False
    # A sentence start is capitalized anyway, so there it takes two capitalized words that are
    # not small ones:
    # "Black Panther has always been" is a title, "The Others were boring" is not.
    capitalized = sum(1 for w in words if _is_capitalized(w) and w.lower() not in _SMALL)
    return len(words) >= 2 and (not span[0][1] or capitalized >= 2)


def _whole_title(run: Span, position: int, size: int) -> bool:
    """The span is the whole title as written: no capitalized word or number right after it
    ("The Avengers 3", "The Haunting Of Agnes") unless a colon opens a subtitle ("Cape Fear: The
    Lost City"), nor right before it unless that word only starts the sentence ("Yes The
    Shining")."""
    after = run[position + size][0] if position + size < len(run) else None
    if after is not None and _is_capitalized(after) and not run[position + size - 1][0].endswith(":"):
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
                if (
                    key in index.exact
                    and not _bare_title_is_ambiguous(key, index)
                    and _span_is_title_shaped(span)
                    and _whole_title(run, position, size)
                ):
                    found.append((span[0][2], index.link(key, cutoff=100.0)))
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
        # without a year a near miss is mostly another title ("EndGame" is not "End Game" (2006))
        item_id = index.link(match.group(1), year=year, cutoff=cutoff if year else 100.0)
        if item_id is not None:
            found.append((match.start(), item_id))
        # quoted speech that is no title keeps its words for the other forms; a quoted made-up
        # title ("Indiana Jones & The Darker Tendrils") names nothing inside it either
        if item_id is not None or _is_title_shaped(match.group(1)):
            remainder = blank(match.start(), match.end())
    for match in _TITLE_WITH_YEAR.finditer(remainder):
        item_id, offset = _link_with_year(match.group(1), int(match.group(2)), index, cutoff)
        if item_id is None:  # only the year goes: the words before it may hold another title
            remainder = blank(match.start(2) - 1, match.end())
            continue
        found.append((match.start() + offset, item_id))
        remainder = blank(match.start() + offset, match.end())
    for match in _TITLE_WITH_ASIDE.finditer(remainder):
        item_id, offset = _link_with_aside(match.group(1), match.group(2), index)
        if item_id is not None:
            found.append((match.start() + offset, item_id))
            remainder = blank(match.start() + offset, match.end(1))
    found += _capitalized_mentions(remainder, index)
    ids: list[str] = []
    for _, item_id in sorted(found, key=lambda f: f[0]):
        if item_id is not None and item_id not in ids:
            ids.append(item_id)
    return ids
