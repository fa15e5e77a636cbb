"""Reading what the evaluate stage compares: generated dialogues, real test dialogues, catalog."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from interplay.dialogue.metrics import decade_of
from interplay.simulation.records import GENERATED_PATHS

log = logging.getLogger(__name__)

REAL_DIALOGUES = "data/processed/dialogues.parquet"
PROFILES = "data/processed/profiles.parquet"
CATALOG = "data/processed/catalog.parquet"
#: Profile columns joined onto a real dialogue (by ``dialogue_id``) for recall@k and leakage.
PROFILE_COLUMNS = ("target_item_ids", "target_titles", "target_attributes")


def read_parquet_rows(path: Path, columns: list[str] | None = None) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    if columns is not None:
        present = set(pq.read_schema(path).names)
        columns = [c for c in columns if c in present]
    return pq.read_table(path, columns=columns).to_pylist()


def real_test_rows(dialogues: Path, profiles: Path | None) -> list[dict[str, Any]]:
    """Real test dialogues, each with the targets of its own seed profile (if it has one)."""
    rows = [
        r
        for r in read_parquet_rows(
            dialogues, ["dialogue_id", "source", "split", "messages", "item_mentions", "seeker_accepted"]
        )
        if r.get("split") == "test"
    ]
    by_dialogue: dict[str, dict[str, Any]] = {}
    if profiles is not None and profiles.is_file():
        for profile in read_parquet_rows(profiles, ["dialogue_id", *PROFILE_COLUMNS]):
            by_dialogue.setdefault(str(profile.get("dialogue_id")), profile)
    for row in rows:
        profile = by_dialogue.get(str(row.get("dialogue_id")), {})
        for column in PROFILE_COLUMNS:
            row[column] = profile.get(column)
    return rows


def catalog_items(path: Path) -> dict[str, dict[str, Any]] | None:
    """item_id -> {genres, decade, directors, actors}, from whichever of those columns exist.

    ``decade`` comes from a ``decade`` column or else from ``year`` (``1990s``), as in the seed
    profiles' target attributes. None when the catalog file is missing.
    """
    if not path.is_file():
        log.warning("evaluate: %s is missing; match_score cannot be computed", path)
        return None
    wanted = ["item_id", "year", "decade", "genres", "directors", "actors"]
    items: dict[str, dict[str, Any]] = {}
    for row in read_parquet_rows(path, wanted):
        decade = row.get("decade") or decade_of(row.get("year"))
        items[str(row["item_id"])] = {
            "genres": row.get("genres") or [],
            "decade": decade,
            "directors": row.get("directors") or [],
            "actors": row.get("actors") or [],
        }
    return items


def load_systems(root: Path) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """``system -> rows`` for every dataset present, and ``system -> path`` of those missing."""
    systems: dict[str, list[dict[str, Any]]] = {}
    missing: dict[str, str] = {}
    real = root / REAL_DIALOGUES
    if real.is_file():
        systems["real"] = real_test_rows(real, root / PROFILES)
    else:
        missing["real"] = REAL_DIALOGUES
    for name, rel in GENERATED_PATHS.items():
        if (root / rel).is_file():
            systems[name] = read_parquet_rows(root / rel)
        else:
            missing[name] = rel
    for name, rel in missing.items():
        log.warning("evaluate: %s is missing; no %s row in the report", rel, name)
    return systems, missing


def summary_of_validation(path: Path) -> Mapping[str, Any] | None:
    import json

    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text("utf-8"))
    except ValueError:
        return None
