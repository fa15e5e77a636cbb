"""What a simulation reads from preprocessing: the seed profiles, typed as preprocessing made
them, and the catalog's title index. The stage and every Dask worker read them here."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from interplay.preprocess.artifacts import read_profiles as read_profile_file
from interplay.preprocess.profiles import Profile
from interplay.text.titles import TitleIndex

PROFILES = Path("data/processed/profiles.parquet")
CATALOG = Path("data/processed/catalog.parquet")
DIALOGUES = Path("data/processed/dialogues.parquet")


def read_profiles(root: Path) -> list[Profile]:
    return read_profile_file(root / PROFILES)


def read_catalog(root: Path) -> tuple[TitleIndex, dict[str, str]]:
    """The title index that links generated text to catalog ids, and item id -> title."""
    rows = pq.read_table(root / CATALOG, columns=["item_id", "title", "name", "year"]).to_pylist()
    index = TitleIndex.build((r["item_id"], r["name"], r["year"]) for r in rows)
    return index, {r["item_id"]: r["title"] for r in rows}
