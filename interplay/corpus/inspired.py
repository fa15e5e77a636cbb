"""INSPIRED reader: one utterance a TSV row, grouped into dialogues by ``dialog_id``.

A *record* here is a dialogue (all its rows), so the report counts dialogues for every corpus; a
bad row rejects its whole dialogue. Columns are found by the header (the dataset's README lists
other names). ``QUOTATION_MARK`` placeholders in the text become quotes.

Item linking: each title of a row's ``movies`` column is linked to the catalog by fuzzy title match
and kept only when the utterance itself names it (the column is noisy: "Adventure Time (2010)"
for "X-Men movies").

Seed-profile rule (INSPIRED has no per-item questionnaire): in ``accept_new`` dialogues the target
is the last linked movie the recommender brought up first (one the seeker had not mentioned
before), i.e. the recommendation the seeker accepted; ``reject_new`` dialogues have none. The
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
from interplay.text.titles import names_title, normalize_text, split_title_year

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


def link_annotation(title: str, text: str, catalog: Catalog, threshold: float) -> tuple[CatalogItem | None, str]:
    """The catalog item an annotated title (``movies`` column) names in its utterance, or None
    and the quirk that says why.

    The column is noisy: it names films the text does not ("Adventure Time (2010)" for "X-Men
    movies"), other films of the same name ("Midway (2019)", which the catalog only has from
    1976) and the first film where the text names a sequel ("Despicable Me" for "Despicable Me
    2"). So a link is kept only when the utterance names the title, the catalog's film is of the
    annotated year (give or take :data:`YEAR_TOLERANCE`; an undated side cannot disagree), and a
    number written right after the title moves it to that sequel (or to nothing, if the catalog
    has none). Measured on ``tests/fixtures/inspired_links.jsonl``."""
    name, year = split_title_year(title)
    sequel = re.search(re.escape(normalize_text(name)) + _SEQUEL, normalize_text(text))
    if sequel:
        title, year = f"{name} {sequel.group(1)}", None
    item_id = catalog.title_index.link(title, cutoff=threshold)
    item = catalog.get(item_id) if item_id is not None else None
    if item is None:
        return None, "unlinked_title"
    if year is not None and item.year is not None and abs(item.year - year) > YEAR_TOLERANCE:
        return None, "annotated_year_differs"
    if not (names_title(text, title, threshold) or names_title(text, item.name, threshold)):
        return None, "title_not_in_text"
    return item, ""


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
    for line, row in rows:
        role = _ROLES.get(row["speaker"].strip().upper())
        if role is None:
            raise BadRecordError(path, line, "speaker", "unknown_sender", f"unknown speaker {row['speaker']!r}")
        text = _clean_text(row["text"])
        turn = len(messages)
        for title in _split_list(row["movies"]):
            item, problem = link_annotation(title, text, catalog, threshold)
            if item is None:
                quirks.append(problem)
                continue
            mentions.append(ItemMention(item.item_id, item.title, turn, role))
        if role == "user":
            genres.extend(g.lower() for g in _split_list(row["genres"]))
            people.extend(_split_list(row["people_names"]))
        label = row["coarse_label"].strip()
        if label and label != "nan":
            labels[label] += 1
        else:
            quirks.append("missing_label")
        messages.append(Message(role, text))

    seeker_seen: set[str] = set()
    recommended: list[str] = []
    for mention in mentions:
        if mention.role == "user":
            seeker_seen.add(mention.item_id)
        elif mention.item_id not in seeker_seen and mention.item_id not in recommended:
            recommended.append(mention.item_id)
    outcome = labels.most_common(1)[0][0] if labels else ""
    targets = recommended[-1:] if outcome == "accept_new" else []
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
