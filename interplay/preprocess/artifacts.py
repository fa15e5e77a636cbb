"""Arrow tables of a :class:`PreprocessResult`, and writing them where the next stages look.

Schemas are explicit (declared with each field's meaning in :mod:`interplay.dialogue.rows`; no pandas
metadata, no timestamps) and rows keep reading order, so the same inputs and params give
byte-identical files, and DVC sees no change where there was none.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from interplay.corpus.catalog import Catalog, CatalogItem
from interplay.corpus.schema import Dialogue, ItemMention, Message
from interplay.dialogue.rows import CATALOG_SCHEMA, DIALOGUES_SCHEMA, PROFILES_SCHEMA, SFT_SCHEMA
from interplay.preprocess.pipeline import PreprocessResult, SftRow
from interplay.preprocess.profiles import Profile


def dialogues_table(result: PreprocessResult) -> pa.Table:
    rows = [
        {
            "dialogue_id": d.dialogue_id,
            "source": d.source,
            "split": d.split,
            "messages": [asdict(m) for m in d.messages],
            "item_mentions": [asdict(m) for m in d.item_mentions],
            "seeker_accepted": d.seeker_accepted,
        }
        for d in result.dialogues
    ]
    return pa.Table.from_pylist(rows, schema=DIALOGUES_SCHEMA)


def profiles_table(result: PreprocessResult) -> pa.Table:
    return pa.Table.from_pylist([p.to_row() for p in result.profiles], schema=PROFILES_SCHEMA)


def catalog_table(result: PreprocessResult) -> pa.Table:
    rows = [
        {
            "item_id": i.item_id,
            "title": i.title,
            "name": i.name,
            "year": i.year,
            "genres": list(i.genres),
            "directors": list(i.directors),
            "actors": list(i.actors),
            "plot": i.plot,
        }
        for i in result.catalog.items
    ]
    return pa.Table.from_pylist(rows, schema=CATALOG_SCHEMA)


def sft_table(rows: list[SftRow]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"dialogue_id": r.dialogue_id, "messages": r.messages} for r in rows], schema=SFT_SCHEMA
    )


def tables(result: PreprocessResult) -> dict[str, pa.Table]:
    """Every table, keyed by its path under ``data/processed/``."""
    out = {
        "dialogues.parquet": dialogues_table(result),
        "catalog.parquet": catalog_table(result),
        "profiles.parquet": profiles_table(result),
    }
    for role, splits in result.sft.items():
        for split, rows in splits.items():
            out[f"sft/{role}/{split}.parquet"] = sft_table(rows)
    return out


def write_table(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    pq.write_table(table, tmp, compression="zstd", store_schema=False)
    tmp.replace(path)


def write_json(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_outputs(result: PreprocessResult, processed_dir: Path, report_path: Path) -> None:
    """Write every table under ``processed_dir`` and the report to ``report_path``."""
    for rel, table in tables(result).items():
        write_table(table, processed_dir / rel)
    write_json(result.report, report_path)


def read_dialogues(path: Path, splits: tuple[str, ...] | None = None) -> list[Dialogue]:
    """The dialogues of ``dialogues.parquet`` (of the given splits), as the readers made them."""
    dialogues = []
    for row in pq.read_table(path).to_pylist():
        if splits is not None and row["split"] not in splits:
            continue
        dialogues.append(
            Dialogue(
                dialogue_id=row["dialogue_id"],
                source=row["source"],
                split=row["split"],
                messages=tuple(Message(m["role"], m["content"]) for m in row["messages"]),
                item_mentions=tuple(ItemMention(**m) for m in row["item_mentions"]),
                seeker_accepted=row.get("seeker_accepted"),
            )
        )
    return dialogues


def read_profiles(path: Path) -> list[Profile]:
    """The seed profiles of ``profiles.parquet``, typed as preprocessing made them."""
    return [Profile.from_row(row) for row in pq.read_table(path, schema=PROFILES_SCHEMA).to_pylist()]


def read_catalog(path: Path) -> Catalog:
    """The catalog of ``catalog.parquet``."""
    return Catalog.from_items(
        CatalogItem(
            item_id=r["item_id"], name=r["name"], year=r["year"], genres=tuple(r["genres"]),
            directors=tuple(r["directors"]), actors=tuple(r["actors"]), plot=r["plot"] or "",
        )
        for r in pq.read_table(path).to_pylist()
    )
