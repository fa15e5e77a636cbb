"""Title normalization and fuzzy title matching, shared by preprocessing, simulation and metrics.

One definition of "this text names this title" keeps the leak check on seed profiles, the
linking of mentions to catalog ids and the ``leakage_rate`` metric consistent with each other.
Everything here is pure: strings in, strings / scores / ids out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from rapidfuzz import fuzz, process

_YEAR_SUFFIX = re.compile(r"\s*\(\s*(\d{4})\s*\)\s*$")
_YEAR_ANYWHERE = re.compile(r"\(\s*\d{4}\s*\)")
_NON_WORD = re.compile(r"[^0-9a-z]+")

#: Words that are also titles ("It", "Her", "Up", "Signs") would match everyday prose if fuzzily
#: compared; titles that are one of these (or shorter than 4 characters) need an exact whole-word
#: match instead.
COMMON_WORDS: frozenset[str] = frozenset(
    """
    a about after again air all alone always am an and angel animal another any anything are as
    at away baby back bad be beautiful before being believe best better big birds black blue boy
    boys brave break bright brothers but by call came can cars chance change child children city
    clean close cold come coming could crash dark date day days dead did do does doing done door
    down dream drive during each early earth eight else end enough escape even ever every
    everything evil face fall family far fast father fear few fight fighter fire first five for
    found four free friend friends from fun game get girl girls give go going gone good got great
    green happy hard has have he heart heat heaven hell help her here hero high him his history home
    hope hot house how human hunt i if in inside into is it its just keep kids kill kind king know
    last late left legend less life light like little live long look looking lost love lucky made
    make man many may me memory men might mine mom money monster more most mother movie movies much
    must my mystery name need never new next nice night no nobody not nothing now of off old on once
    one only open or other others our out over own paper paradise party people perfect place play
    please power pray pretty prisoners psycho rain ready real red return rich right ring road run
    rush safe said same saw say scream see seen she should show signs since sing six sky sleep small
    so some something song soul speed split star start still stop storm story street such sure take
    taken teen tell ten than thank that the their them then there these they thing things think this
    those three through time to together too top true truth two under up us very wait walk want war
    was watch water way we well went were what when where which while white who why wild will wind
    with without woman women wonder world would year yes yesterday you young your zero
    """.split()
)


#: How many other titles must start with a title for it to be a series name (:attr:`TitleIndex.series`).
SERIES_MIN_SEQUELS = 5


def normalize_text(text: str) -> str:
    """Lowercase ASCII words separated by single spaces; parenthesized years are dropped."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _YEAR_ANYWHERE.sub(" ", text.lower().replace("&", " and ").replace("'", ""))
    return _NON_WORD.sub(" ", text).strip()


def split_title_year(title: str) -> tuple[str, int | None]:
    """``"Police Academy  (1984)"`` -> ``("Police Academy", 1984)``; odd spacing collapsed."""
    match = _YEAR_SUFFIX.search(title)
    year = int(match.group(1)) if match else None
    name = title[: match.start()] if match else title
    return " ".join(name.split()), year


def normalize_title(title: str) -> str:
    """The matching key of a title: no year, no punctuation, lowercase, single spaces."""
    return normalize_text(split_title_year(title)[0])


def display_title(name: str, year: int | None) -> str:
    """How a title is rendered in dialogue text: ``Super Troopers (2001)``."""
    name = " ".join(name.split())
    return f"{name} ({year})" if year is not None else name


def is_short_title(normalized: str) -> bool:
    """Titles that everyday words could match fuzzily; they need an exact whole-word match."""
    words = normalized.split()
    return len(normalized) < 4 or (len(words) == 1 and words[0] in COMMON_WORDS)


def _whole_words(haystack: str, needle: str) -> bool:
    return f" {needle} " in f" {haystack} "


def title_score(text: str, title: str) -> float:
    """How strongly (0-100) ``text`` names ``title``; both are raw strings."""
    norm_title = normalize_title(title)
    norm_text = normalize_text(text)
    if not norm_title or not norm_text:
        return 0.0
    if _whole_words(norm_text, norm_title):
        return 100.0
    if is_short_title(norm_title):
        return 0.0
    title_words = norm_title.split()
    text_words = norm_text.split()
    if len(title_words) == 1:
        # One distinctive word: compare word by word, so a typo ("terminater") still counts but
        # the title is not found inside longer words.
        return max((fuzz.ratio(norm_title, word) for word in text_words), default=0.0)
    # Compare against runs of about as many whole words as the title has: a substring alignment
    # (partial_ratio) would let "Iron Man what ..." name "Iron Man 2".
    n = len(title_words)
    windows = {
        " ".join(text_words[i : i + size])
        for size in {max(1, n - 1), n, n + 1}
        for i in range(max(1, len(text_words) - size + 1))
    }
    best = process.extractOne(norm_title, windows, scorer=fuzz.ratio)
    return float(best[1]) if best else 0.0


#: What may stand before a word that starts a sentence (so its capital says nothing).
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n])[\s\"'“‘(\[*_-]*$")
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’"}
_YEAR_AFTER = re.compile(r"\s*\(\s*\d{4}\s*\)")
_NAME_GOES_ON = re.compile(r"[ \t]+[A-Z0-9]")


def _written_as_title(text: str, name: str) -> bool:
    """Whether ``text`` writes the everyday-word title ``name`` as a title: followed by a year
    (``It (2017)``, any case; as for any title, the year is not compared), in quotes (``"Up"``),
    or capitalized as the title is inside a sentence (``we watched Up``; not ``what's up``, nor a
    sentence that starts with ``It was``). A longer name that starts with it (``Saw III``) names
    it, as for any title."""
    if not name.strip():
        return False
    for match in re.finditer(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text, flags=re.IGNORECASE):
        before, after = text[: match.start()], text[match.end() :]
        if _YEAR_AFTER.match(after):
            return True
        opening = before[-1:]
        if opening in _QUOTES and after.startswith(_QUOTES[opening]):
            return True
        if match.group(0) == name and name[:1].isupper():
            # Inside a sentence a capital marks a name; at its start only when the name goes on
            # ("Saw III", "It Comes at Night"), not in "It was great".
            if not _SENTENCE_START.search(before) or _NAME_GOES_ON.match(after):
                return True
    return False


def written_as_title(text: str, title: str) -> bool:
    """Whether ``text`` writes ``title`` (its year ignored) as a title rather than as everyday words:
    with a year, in quotes, or capitalized inside a sentence (:func:`_written_as_title`)."""
    return _written_as_title(text, split_title_year(title)[0])


def names_title(text: str, title: str, threshold: float = 90.0) -> bool:
    """The one rule for "this text names this title": the ``leakage_rate`` metric, the seed
    profiles' leak filter and the simulation's leak guard all call it.

    A title is named when the normalized fuzzy score (:func:`title_score`) reaches ``threshold``.
    Titles that are everyday words or shorter than four characters ("It", "Up", "Her",
    :func:`is_short_title`) would match ordinary prose, so for them only a title written as one
    counts: with its year, in quotes, or capitalized inside a sentence (:func:`_written_as_title`).
    """
    if is_short_title(normalize_title(title)):
        return _written_as_title(text, split_title_year(title)[0])
    return title_score(text, title) >= threshold


def names_any_title(text: str, titles: Iterable[str], threshold: float = 90.0) -> list[str]:
    """The titles among ``titles`` that ``text`` names, in the order given."""
    return [title for title in titles if names_title(text, title, threshold)]


@dataclass(frozen=True)
class TitleIndex:
    """Links free-text titles to item ids: exact normalized match first, then fuzzy.

    Build it once per catalog with :meth:`build`; ``link`` is then cheap enough for every
    mention of a corpus.
    """

    keys: tuple[str, ...]
    ids: tuple[str, ...]
    years: tuple[int | None, ...]
    exact: dict[str, tuple[int, ...]] = field(repr=False)

    @classmethod
    def build(cls, items: Iterable[tuple[str, str, int | None]]) -> TitleIndex:
        """``items``: ``(item_id, title, year)``; the title may carry its year too."""
        keys: list[str] = []
        ids: list[str] = []
        years: list[int | None] = []
        exact: dict[str, list[int]] = {}
        for item_id, title, year in items:
            name, title_year = split_title_year(title)
            key = normalize_text(name)
            if not key:
                continue
            exact.setdefault(key, []).append(len(keys))
            keys.append(key)
            ids.append(item_id)
            years.append(year if year is not None else title_year)
        return cls(tuple(keys), tuple(ids), tuple(years), {k: tuple(v) for k, v in exact.items()})

    @cached_property
    def series(self) -> frozenset[str]:
        """Keys of dated films that begin at least :data:`SERIES_MIN_SEQUELS` other titles ("star
        wars", "x men"): written bare, such a title names the franchise as often as its first
        film. An undated series entry ("Harry Potter") is the franchise itself and is left out."""
        keys = set(self.keys)
        dated = {k for k, y in zip(self.keys, self.years) if y is not None}
        starts: dict[str, int] = {}
        for key in keys:
            words = key.split()
            for end in range(1, len(words)):
                head = " ".join(words[:end])
                if head in dated:
                    starts[head] = starts.get(head, 0) + 1
        return frozenset(head for head, count in starts.items() if count >= SERIES_MIN_SEQUELS)

    def _prefer_year(self, positions: Iterable[int], year: int | None) -> int:
        """The entry of ``year``; failing that, a dated entry before an undated one (the undated
        "Predator" or "Titanic" of the catalog is rarely the film people mean)."""
        positions = list(positions)
        same = [p for p in positions if self.years[p] == year] if year is not None else []
        dated = [p for p in positions if self.years[p] is not None]
        return (same or dated or positions)[0]

    def link(self, title: str, year: int | None = None, cutoff: float = 90.0) -> str | None:
        """The item id ``title`` most likely names, or None below ``cutoff``.

        ``year`` defaults to the year in the title; among equally good candidates the one from
        that year wins.
        """
        name, title_year = split_title_year(title)
        year = year if year is not None else title_year
        key = normalize_text(name)
        if not key:
            return None
        if key in self.exact:
            return self.ids[self._prefer_year(self.exact[key], year)]
        if is_short_title(key) or not self.keys:
            return None
        candidates = process.extract(
            key, self.keys, scorer=fuzz.ratio, score_cutoff=cutoff, limit=10
        )
        if not candidates:
            return None
        best = max(score for _, score, _ in candidates)
        if year is not None:
            same_year = [c for c in candidates if self.years[c[2]] == year]
            if same_year:
                return self.ids[max(same_year, key=lambda c: (c[1], -c[2]))[2]]
        top = [c for c in candidates if c[1] == best]
        return self.ids[min(c[2] for c in top)]
