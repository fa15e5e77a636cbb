"""INSPIRED reader: one utterance a TSV row, grouped into dialogues by ``dialog_id``.

A *record* here is a dialogue (all its rows), so the report counts dialogues for every corpus; a
bad row rejects its whole dialogue. Columns are found by the header (the dataset's README lists
other names). ``QUOTATION_MARK`` placeholders in the text become quotes.

Item linking (:func:`link_annotation`): each title of a row's ``movies`` column is linked to the
catalog and kept only when the utterance itself names it as a film; the column is an automatic
tagger's and noisy ("Adventure Time (2010)" for "X-Men movies", "Holidays (2016)" for "around the
holidays", "Friday (1995)" for "this Friday").

Seed-profile rule (INSPIRED has no per-item questionnaire): in ``accept_new`` dialogues the target
is the recommendation the seeker accepted (:func:`accepted_target`): the last film the recommender
offered that the seeker had not talked about, up to the seeker's last "I accept ..."; none when the
catalog lacks that film (most 2019 releases), rather than an earlier film the seeker did not take.
Films the tagger missed count when the text writes them as titles (:func:`unannotated_films`).
``reject_new`` dialogues have none. Measured on ``tests/fixtures/inspired_targets.jsonl``. The
seeker's decision (``seeker_accepted``) is the label itself: ``accept_*`` or ``reject_*``. The
seeker's own linked mentions are their liked items; the genres and people they named become
``preferred_genres`` / ``preferred_people``. Nothing is marked disliked.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from interplay.corpus.catalog import Catalog, CatalogItem
from interplay.corpus.encoding import BOM_QUIRK, without_bom
from interplay.corpus.schema import Dialogue, ItemMention, Message, Role
from interplay.errors import BadRecordError
from interplay.text.titles import (
    names_title,
    normalize_text,
    split_title_year,
    written_as_title,
)

SOURCE = "inspired"
PATTERNS = ("*.tsv",)
REQUIRED_COLUMNS = ("dialog_id", "speaker", "text", "movies", "genres", "people_names", "coarse_label")
#: The authors' dialogue files (``data/dialog_data/`` of sweetpeach/Inspired): read by name, so
#: that one with a broken header fails naming the missing columns instead of being passed over.
DIALOGUE_FILES = ("train.tsv", "dev.tsv", "test.tsv")
#: Any other TSV is a dialogue file when its header has these columns; the rest of the release
#: (``movie_database.tsv``, the survey tables, which also have ``dialog_id``) is not.
UTTERANCE_COLUMNS = ("dialog_id", "speaker", "text")
_ROLES: dict[str, Role] = {"SEEKER": "user", "RECOMMENDER": "recommender"}


@dataclass
class _Group:
    line: int
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    error: BadRecordError | None = None


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip() and part.strip() != "nan"]


def _clean_text(text: str) -> str:
    return text.replace("QUOTATION_MARK", '"')


#: A number written right after a title: a sequel ("Despicable Me 2", "Frozen II").
_SEQUEL = r"\s+(\d{1,2}|ii|iii|iv|v)\b"
#: Years an annotation and the catalog may differ by and still be one film (release dates).
YEAR_TOLERANCE = 1
#: What follows a name that goes on into a longer one: a capitalized word other than "I" ("Dave
#: Chapelle"), "of" or "in" and one ("Knights of Ren", "Once Upon a Time in Hollywood"), or
#: "movies" / "films": the franchise, not one of its films ("Do they like Toy Story movies?"). A
#: number is a sequel (above).
_NAME_CONTINUES = re.compile(r"[ \t]*[:\-–]?[ \t]*(?:(?!I\b)[A-Z]|(?:of|in)[ \t]+[A-Z]|(?:movies|films)\b)")
#: Names of days and months are capitalized in any sentence ("this Friday", "on November 22"):
#: as one-word titles they count only with a year or in quotes.
_CALENDAR = frozenset(
    {
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december",
    }
)
_ARTICLE = re.compile(r"^(?:the|a|an) ")


def _places(text: str, name: str) -> list[re.Match[str]]:
    """Where ``text`` writes the words of ``name`` (any case and punctuation between them)."""
    words = normalize_text(name).split()
    if not words:
        return []
    pattern = r"(?<![\w'])" + r"[\W_]+".join(re.escape(w) for w in words) + r"(?![\w'])"
    return list(re.finditer(pattern, text, flags=re.IGNORECASE))


def _heads_longer_name(text: str, name: str) -> bool:
    """Whether every place ``text`` writes ``name`` goes on into a longer name
    (:data:`_NAME_CONTINUES`); False when the text does not write it out at all."""
    places = _places(text, name)
    return bool(places) and all(_NAME_CONTINUES.match(text, m.end()) for m in places)


#: A film named as the premise of a recommendation, not as one: "If you liked Guess Who, you'll
#: love this", "If you loved her in How to Lose a Guy in 10 Days, ...".
_IF_YOU_LIKED = re.compile(r"\bif you (?:\w+ )?(?:liked?|loved?|enjoy(?:ed)?)\b[^,.!?]*$", re.IGNORECASE)


def offers(text: str, name: str) -> bool:
    """Whether the recommender's ``text`` offers the film ``name`` rather than only using it as a
    premise (:data:`_IF_YOU_LIKED`); True when the text does not write the name out."""
    places = _places(text, name)
    return not places or not all(_IF_YOU_LIKED.search(text[: m.start()]) for m in places)


def _quoted_or_dated(name: str, text: str) -> bool:
    """Whether ``text`` writes ``name`` in quotes or followed by a year."""
    word = re.escape(name)
    pattern = rf"[\"“'‘]{word}[\"”'’]|\b{word}\s*\(\s*\d{{4}}\s*\)"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


def names_annotation(text: str, title: str, threshold: float = 90.0) -> bool:
    """Whether the utterance ``text`` names the annotated ``title`` as a film.

    The tagger annotates words that are not titles there: a one-word title counts only when
    written as a title ("around the holidays", "this Friday", "Emma Thompson" are not; see
    :func:`written_as_title`), and no title counts where the text only writes it as the head of a
    longer name ("Dave Chapelle", "Knights of Ren"). A leading article may be left out ("Blind
    Side") when two words or more remain."""
    name = split_title_year(title)[0]
    key = normalize_text(name)
    if len(key.split()) == 1 and not written_as_title(text, title):
        return False
    if key in _CALENDAR and not _quoted_or_dated(name, text):
        return False
    bare = _ARTICLE.sub("", key)
    spoken = [name] + ([bare] if bare != key and len(bare.split()) > 1 else [])
    return any(names_title(text, n, threshold) and not _heads_longer_name(text, n) for n in spoken)


def _catalog_entry(title: str, year: int | None, catalog: Catalog, threshold: float) -> CatalogItem | None:
    """The catalog film ``title`` links to, when its year agrees with ``year`` (give or take
    :data:`YEAR_TOLERANCE`; an undated side cannot disagree)."""
    item_id = catalog.title_index.link(title, year=year, cutoff=threshold)
    item = catalog.get(item_id) if item_id is not None else None
    if item is None or (year is not None and item.year is not None and abs(item.year - year) > YEAR_TOLERANCE):
        return None
    return item


def annotated_title(title: str, text: str) -> tuple[str, int | None]:
    """The film an annotated ``title`` stands for in ``text``: its name and year, moved to the
    sequel when a number follows the name there ("Despicable Me 2" for a "Despicable Me (2010)"
    annotation; the year is then unknown)."""
    name, year = split_title_year(title)
    sequel = re.search(re.escape(normalize_text(name)) + _SEQUEL, normalize_text(text))
    return (f"{name} {sequel.group(1)}", None) if sequel else (name, year)


def _film_of(title: str, text: str, catalog: Catalog, threshold: float) -> tuple[CatalogItem | None, bool]:
    """The catalog film an annotated ``title`` stands for in ``text`` (None when the catalog lacks
    it), and whether the text names it (see :func:`link_annotation`)."""
    name, year = annotated_title(title, text)
    item = _catalog_entry(name, year, catalog, threshold)
    main = name.split(":", 1)[0].strip()
    if item is None and main != name and year is not None:
        item = _catalog_entry(main, year, catalog, threshold)
        item = item if item is not None and item.year is not None else None
    named = names_annotation(text, name, threshold)
    named = named or (item is not None and names_annotation(text, item.name, threshold))
    return item, named


def link_annotation(title: str, text: str, catalog: Catalog, threshold: float) -> tuple[CatalogItem | None, str]:
    """The catalog item an annotated title (``movies`` column) names in its utterance, or None
    and the quirk that says why.

    The column is noisy: it names films the text does not ("Adventure Time (2010)" for "X-Men
    movies", "Holidays (2016)" for "around the holidays"; :func:`names_annotation`), other films of
    the same name ("Midway (2019)", which the catalog only has from 1976; "Mario (2018)", not
    "Mario (1984)") and the first film where the text names a sequel ("Despicable Me" for
    "Despicable Me 2"). So a link is kept only when the utterance names the title, the catalog's
    film is of the annotated year (give or take :data:`YEAR_TOLERANCE`; an undated side cannot
    disagree), and a number written right after the title moves it to that sequel (or to nothing,
    if the catalog has none). A full title the catalog lacks is tried by its main title, dated
    entries only ("Jumanji: Welcome to the Jungle (2017)" is ReDial's "Jumanji (2017)"). Measured
    on ``tests/fixtures/inspired_links.jsonl``."""
    item, named = _film_of(title, text, catalog, threshold)
    if not named:
        return None, "title_not_in_text"
    if item is None:
        return None, "unlinked_title"
    return item, ""


#: Titles found in the text (:func:`unannotated_films`, :func:`catalog_names_in`): at most this many
#: words; words written in lower case inside a title ("Shakespeare in Love").
_MAX_TITLE_WORDS = 8
_SMALL_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "vs", "v", "with"}
)
_WORD = re.compile(r"[^\W_][\w']*|&")


@dataclass(frozen=True)
class _Run:
    """Words ``first``..``last`` of a text (``span``) whose normalized form ``key`` is a catalog name."""

    first: int
    last: int
    span: str
    key: str


def _catalog_runs(text: str, catalog: Catalog) -> list[_Run]:
    """Every run of two to :data:`_MAX_TITLE_WORDS` words of ``text`` that is a catalog film's
    normalized name, the longest first at each word."""
    exact = catalog.title_index.exact
    words = list(_WORD.finditer(text))
    keys = [normalize_text(w.group(0)) for w in words]
    runs = []
    for start in range(len(words)):
        for end in range(min(len(words), start + _MAX_TITLE_WORDS), start + 1, -1):
            key = " ".join(k for k in keys[start:end] if k)
            if key in exact:
                span = text[words[start].start() : words[end - 1].end()]
                runs.append(_Run(words[start].start(), words[end - 1].end(), span, key))
    return runs


def _written_as_long_title(text: str, run: _Run, article: bool = False) -> bool:
    """Whether ``text`` writes the words of ``run`` as a title: in quotes, or each word capitalized
    (or a number) but the small ones (:data:`_SMALL_WORDS`) after the first; with ``article``, a
    leading "the" / "a" / "an" may be in lower case ("Dwayne the Rock Johnson")."""
    opening, closing = text[max(run.first - 1, 0) : run.first], text[run.last : run.last + 1]
    if opening and closing and opening in "\"“'‘" and closing in "\"”'’":
        return True
    words = run.span.split()
    if article and len(words) > 1 and words[0].lower() in ("the", "a", "an"):
        words = words[1:]
    return all(w[:1].isupper() or w[:1].isdigit() or (i and w.lower() in _SMALL_WORDS) for i, w in enumerate(words))


def unannotated_films(text: str, catalog: Catalog, known: set[str], threshold: float) -> list[CatalogItem]:
    """Catalog films of two words or more that ``text`` writes as titles (:func:`_written_as_long_title`)
    and the ``movies`` column missed ("Shakespeare in Love", "A Bad Mom's Christmas", a quoted
    "A quiet place"): the tagger misses a film now and then, often the one a seeker takes.

    Left out: names in ``known`` (normalized names the row already annotates, as films or people:
    "Emma Stone" is also a catalog title) and the words inside them; a name the catalog holds as
    several dated films (which one is meant is unknown); a name followed by a number (a sequel)
    or heading a longer one ("Once Upon a Time in Hollywood")."""
    index = catalog.title_index
    found: list[CatalogItem] = []
    covered = 0  # text before this offset belongs to a run already taken
    for run in _catalog_runs(text, catalog):
        if run.first < covered:
            continue
        if run.key in known:
            covered = run.last
            continue
        if re.match(r"\s*\d", text[run.last :]) or not _written_as_long_title(text, run):
            continue
        items = [item for p in index.exact[run.key] if (item := catalog.get(index.ids[p])) is not None]
        dated = [item for item in items if item.year is not None]
        if not items or len(dated) > 1 or not names_annotation(text, run.span, threshold):
            continue
        found.append((dated or items)[0])
        covered = run.last
    return found


def catalog_names_in(text: str, catalog: Catalog) -> list[str]:
    """Normalized names of the catalog films ``text`` writes as titles (:func:`_written_as_long_title`,
    a lower-case leading article allowed), whichever film of a name is meant and wherever they
    stand. Too loose to link a film by, but what the seeker talked about: a recommender who then
    names it ("You mentioned The Rock and he's in that one") is not bringing up a new film."""
    return [run.key for run in _catalog_runs(text, catalog) if _written_as_long_title(text, run, article=True)]


#: A seeker's utterance that takes a recommendation: the crowd task asked seekers to say so
#: ("I accept your recommendation", "i will accept thor").
_ACCEPTS = re.compile(r"(?<!not )(?<!n't )\baccept", re.IGNORECASE)
#: A seeker's utterance that says they have seen the film ("Oh man, I've actually already seen
#: it!", "I have watched this one too"; not "I have seen the trailer"): that film is not the new
#: one an ``accept_new`` dialogue ends on.
_HAS_SEEN = re.compile(
    r"\b(?:i'?ve|i have|i had|already)\s+(?:(?!not\b|never\b)\w+\s+){0,2}?(?:seen|watched)\s+(?:it|that|this)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Title:
    """A title a turn of the dialogue names: annotated, or found in the text."""

    turn: int
    role: Role
    key: str  # the normalized name
    item_id: str | None  # None: not in the catalog, or not known which film
    named: bool  # the text names it as a film (the recommender's: and offers it)


def accepted_target(
    titles: list[_Title], accepted_at: int | None, has_seen: frozenset[int] = frozenset()
) -> str | None:
    """The item id of the recommendation the seeker accepted: the last title the recommender's
    text named that the seeker had not talked about before, up to the seeker's last explicit
    acceptance (``accepted_at``, a turn) when there is one; later titles are asides ("I also
    recommend ..."). When the catalog lacks that film (most 2019 releases: the catalog is
    ReDial's) there is none, rather than an earlier film the seeker did not take. Every title the
    seeker's turns are annotated with counts as talked about, named in the text or not (the
    tagger reads "the first frozen" better than the rules here). A title the seeker answers by
    saying they have seen it (a turn of ``has_seen`` before the recommender names another) is
    not the one, and no earlier one is either."""
    seen: set[str] = set()
    chosen: str | None = None
    last_named = -1  # the turn of the recommender's last named title
    for title in titles:
        if accepted_at is not None and title.turn > accepted_at:
            break
        if last_named >= 0 and any(last_named < turn < title.turn for turn in has_seen):
            chosen = None
        names = {title.key} | ({title.item_id} if title.item_id is not None else set())
        if title.role == "user":
            seen |= names
        elif title.named:
            last_named = title.turn
            if not names & seen:
                chosen = title.item_id
    end = accepted_at if accepted_at is not None else max(has_seen, default=-1)
    if last_named >= 0 and any(last_named < turn <= end for turn in has_seen):
        chosen = None
    return chosen


def build_dialogue(
    dialog_id: str,
    rows: list[tuple[int, dict[str, str]]],
    catalog: Catalog,
    path: str,
    threshold: float,
) -> Dialogue:
    """Rows of one dialogue (line number, column -> value) -> a raw :class:`Dialogue`."""
    messages: list[Message] = []
    mentions: list[ItemMention] = []
    quirks: list[str] = []
    genres: list[str] = []
    people: list[str] = []
    labels: Counter[str] = Counter()
    titles: list[_Title] = []
    accepted_at: int | None = None
    has_seen: set[int] = set()
    scanned: list[ItemMention] = []  # films found in the text only: kept when one is the target
    for line, row in rows:
        role = _ROLES.get(row["speaker"].strip().upper())
        if role is None:
            raise BadRecordError(path, line, "speaker", "unknown_sender", f"unknown speaker {row['speaker']!r}")
        text = _clean_text(row["text"])
        turn = len(messages)
        if role == "user" and _ACCEPTS.search(text):
            accepted_at = turn
        if role == "user" and _HAS_SEEN.search(text):
            has_seen.add(turn)
        for title in _split_list(row["movies"]):
            item, named = _film_of(title, text, catalog, threshold)
            key = normalize_text(annotated_title(title, text)[0])
            offered = named and (role == "user" or offers(text, annotated_title(title, text)[0]))
            titles.append(_Title(turn, role, key, item.item_id if item is not None else None, offered))
            if not named or item is None:
                quirks.append("title_not_in_text" if not named else "unlinked_title")
                continue
            mentions.append(ItemMention(item.item_id, item.title, turn, role))
        known = {t.key for t in titles if t.turn == turn}
        known |= {normalize_text(n) for n in _split_list(row["people_names"])}
        for item in unannotated_films(text, catalog, known, threshold):
            offered = role == "user" or offers(text, item.name)
            titles.append(_Title(turn, role, normalize_text(item.name), item.item_id, offered))
            scanned.append(ItemMention(item.item_id, item.title, turn, role))
        if role == "user":
            titles.extend(_Title(turn, role, key, None, False) for key in catalog_names_in(text, catalog))
            genres.extend(g.lower() for g in _split_list(row["genres"]))
            people.extend(_split_list(row["people_names"]))
        label = row["coarse_label"].strip()
        if label and label != "nan":
            labels[label] += 1
        else:
            quirks.append("missing_label")
        messages.append(Message(role, text))

    outcome = labels.most_common(1)[0][0] if labels else ""
    accepted = accepted_target(titles, accepted_at, frozenset(has_seen)) if outcome == "accept_new" else None
    targets = [accepted] if accepted is not None else []
    if targets and targets[0] not in {m.item_id for m in mentions}:
        mentions = sorted(mentions + [m for m in scanned if m.item_id == targets[0]], key=lambda m: m.turn)
        quirks.append("unannotated_target")
    liked = [
        m.item_id for m in mentions if m.role == "user" and m.item_id not in targets
    ]
    return Dialogue(
        dialogue_id=f"{SOURCE}-{dialog_id.removesuffix('.pkl')}",
        source=SOURCE,
        split=None,
        messages=tuple(messages),
        item_mentions=tuple(mentions),
        liked_item_ids=tuple(dict.fromkeys(liked)),
        target_item_ids=tuple(targets),
        seeker_accepted=outcome.startswith("accept") if outcome.startswith(("accept", "reject")) else None,
        preferred_genres=tuple(dict.fromkeys(genres)),
        preferred_people=tuple(dict.fromkeys(people)),
        raw_file=path,
        raw_line=rows[0][0],
        quirks=tuple(quirks),
    )


def not_a_dialogue_file(path: Path) -> str | None:
    """Why ``path`` is not one of INSPIRED's dialogue files, or None when it is (by name or header)."""
    if path.name.lower() in DIALOGUE_FILES:
        return None
    with path.open("rb") as handle:
        header = without_bom(handle.readline())[0].decode("utf-8", errors="replace").rstrip("\r\n").split("\t")
    missing = [c for c in UTTERANCE_COLUMNS if c not in header]
    if missing:
        return f"not a dialogue file: its header has no {', '.join(missing)} column"
    return None


def read_inspired(
    path: Path, catalog: Catalog, match_threshold: float = 90.0
) -> Iterator[Dialogue | BadRecordError]:
    """Every dialogue of ``path`` (in order of first row), or the error that rejects it."""
    name = str(path)
    raw_lines = path.read_bytes().split(b"\n")
    raw_lines[0], bom = without_bom(raw_lines[0])
    header = raw_lines[0].decode("utf-8", errors="replace").rstrip("\r").split("\t")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        # Not a record problem: nothing in the file can be read without these columns.
        raise BadRecordError(name, 1, missing[0], "missing_field", f"header lacks column(s) {', '.join(missing)}")
    groups: dict[str, _Group] = {}
    for line_no, raw in enumerate(raw_lines[1:], start=2):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        dialog_id = raw.split(b"\t", 1)[0].decode("utf-8", errors="replace").strip()
        if not dialog_id:
            groups[f"(line {line_no})"] = _Group(
                line_no, error=BadRecordError(name, line_no, "dialog_id", "missing_field", "empty dialogue id")
            )
            continue
        group = groups.setdefault(dialog_id, _Group(line_no))
        if group.error is not None:
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            group.error = BadRecordError(name, line_no, "(line)", "undecodable", f"not UTF-8 at byte {exc.start}")
            continue
        cells = text.split("\t")
        if len(cells) != len(header):
            group.error = BadRecordError(
                name, line_no, "(line)", "malformed_row", f"expected {len(header)} columns, found {len(cells)}"
            )
            continue
        group.rows.append((line_no, dict(zip(header, cells, strict=True))))
    for index, (dialog_id, group) in enumerate(groups.items()):
        if group.error is not None:
            yield group.error
            continue
        try:
            dialogue = build_dialogue(dialog_id, group.rows, catalog, name, match_threshold)
        except BadRecordError as exc:
            yield exc
            continue
        yield replace(dialogue, quirks=dialogue.quirks + (BOM_QUIRK,)) if bom and index == 0 else dialogue
