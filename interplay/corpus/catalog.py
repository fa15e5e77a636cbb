"""The item catalog: what each movie id is (title, year, genres, directors, actors).

``id2info.json`` carries metadata for 99.9% of ReDial's mentions, but 568 of its names lack a year
and some have odd spacing; ``movies_with_mentions.csv`` names every ReDial id (URL-escaped, e.g.
``Why Him%3F``) with a year. The builder merges both so every id has a clean display title.

id2info was scraped by title, and some of its records describe another film of the same name:
``Beauty and the Beast (1992)`` carries the 2017 remake's IMDb id, genres and cast (Emma Watson).
IMDb numbered its titles below ``tt1000000`` until about 2007, so a film released before
:data:`OLD_FILM_BEFORE` whose record has a newer id is a namesake's: all 79 such records in
ReDial's id2info are (checked by hand). Their facts are dropped, the title kept, and the count
logged, so the notes and the retriever never state another film's cast.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from interplay.text.titles import TitleIndex, display_title, split_title_year

log = logging.getLogger(__name__)

#: Films released before this year with an IMDb id of ``tt1000000`` or above carry a namesake's facts.
OLD_FILM_BEFORE = 2003
NEW_IMDB_IDS_FROM = 1_000_000

ID2INFO = "id2info.json"
MENTIONS_CSV = "movies_with_mentions.csv"
CATALOG_FILES = (ID2INFO, MENTIONS_CSV)


@dataclass(frozen=True)
class CatalogItem:
    item_id: str
    name: str
    year: int | None
    genres: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    #: The metadata's plot summary (what the retriever matches a conversation against).
    plot: str = ""

    @property
    def title(self) -> str:
        """Display title, as rendered in dialogue text: ``Super Troopers (2001)``."""
        return display_title(self.name, self.year)

    @property
    def decade(self) -> str | None:
        return f"{self.year // 10 * 10}s" if self.year is not None else None


@dataclass(frozen=True, eq=False)
class Catalog:
    items: tuple[CatalogItem, ...]
    by_id: dict[str, CatalogItem] = field(repr=False)

    @classmethod
    def from_items(cls, items: Iterable[CatalogItem]) -> Catalog:
        ordered = tuple(sorted(items, key=lambda item: _id_sort_key(item.item_id)))
        return cls(ordered, {item.item_id: item for item in ordered})

    def __len__(self) -> int:
        return len(self.items)

    def get(self, item_id: str) -> CatalogItem | None:
        return self.by_id.get(item_id)

    @cached_property
    def title_index(self) -> TitleIndex:
        return TitleIndex.build((i.item_id, i.name, i.year) for i in self.items)


def _id_sort_key(item_id: str) -> tuple[int, int, str]:
    return (0, int(item_id), "") if item_id.isdigit() else (1, 0, item_id)


def _clean_name(raw: str) -> tuple[str, int | None]:
    return split_title_year(unquote(raw))


def _str_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(" ".join(str(v).split()) for v in value if isinstance(v, str) and v.strip())


def is_namesakes_record(info: Mapping[str, Any], year: int | None) -> bool:
    """Whether an id2info record describes a later film of the same name (see the module doc)."""
    imdb = str(info.get("imdb_id") or "")
    number = int(imdb[2:]) if imdb.startswith("tt") and imdb[2:].isdigit() else None
    return year is not None and number is not None and year < OLD_FILM_BEFORE and number >= NEW_IMDB_IDS_FROM


def build_catalog(
    id2info: Mapping[str, Mapping[str, Any]], mention_names: Mapping[str, str]
) -> Catalog:
    """Merge ``id2info`` metadata with ``movies_with_mentions`` names (id -> raw name).

    The id2info name wins; a missing year is taken from the mentions name; ids known only to
    the mentions file get a title and no metadata, and so do those whose record is a namesake's
    (:func:`is_namesakes_record`).
    """
    items: list[CatalogItem] = []
    namesakes = 0
    for item_id in set(id2info) | set(mention_names):
        info = id2info.get(item_id) or {}
        name, year = _clean_name(str(info.get("name") or ""))
        alt_name, alt_year = _clean_name(mention_names.get(item_id, ""))
        name = name or alt_name
        if not name:
            continue
        year = year if year is not None else alt_year
        if is_namesakes_record(info, year):
            namesakes += 1
            info = {}
        items.append(
            CatalogItem(
                item_id=str(item_id),
                name=name,
                year=year,
                genres=tuple(g.lower() for g in _str_list(info.get("genre"))),
                directors=_str_list(info.get("director")),
                actors=_str_list(info.get("star")),
                plot=" ".join(str(info.get("plot") or "").split()),
            )
        )
    if namesakes:
        log.info("catalog: facts of %d items dropped (their id2info record is a later namesake's)", namesakes)
    return Catalog.from_items(items)


def parse_mentions_csv(text: str) -> dict[str, str]:
    """``movieId,movieName,nbMentions`` -> {movieId: movieName}."""
    rows = csv.DictReader(io.StringIO(text))
    return {row["movieId"].strip(): row["movieName"] for row in rows if row.get("movieId")}


def load_catalog(catalog_dir: Path) -> Catalog:
    """Read whichever catalog files ``catalog_dir`` holds (at least one is required)."""
    id2info_path = catalog_dir / ID2INFO
    csv_path = catalog_dir / MENTIONS_CSV
    if not id2info_path.is_file() and not csv_path.is_file():
        raise FileNotFoundError(
            f"{catalog_dir}: no catalog files ({', '.join(CATALOG_FILES)}); "
            "set corpus.catalog_dir to a directory that holds them"
        )
    id2info = json.loads(id2info_path.read_text("utf-8")) if id2info_path.is_file() else {}
    names = parse_mentions_csv(csv_path.read_text("utf-8")) if csv_path.is_file() else {}
    catalog = build_catalog(id2info, names)
    log.info("catalog: %d items from %s", len(catalog), catalog_dir)
    return catalog
