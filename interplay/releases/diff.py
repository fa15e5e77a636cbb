"""What differs between a release's dataset files and a reproduction's, in words a user can act on.

A reproduction at another path on the same machine gives the same bytes; on another machine,
float training may give other adapter weights. Then a bare "hash mismatch" does not say whether
the dataset is really another one: the model ids (``base:…+lora:<adapter sha>@<precision>``)
change with any weight, while the dialogue texts may not. This compares two files' rows by
``dialogue_id`` and says which columns differ, and whether the texts are among them. Pure: the
tables are read by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

#: Columns naming the models that wrote a dialogue (they change with any adapter weight).
MODEL_ID_COLUMNS = ("user_model", "recommender_model")
#: The column holding what was said.
TEXT_COLUMN = "messages"
KEY_COLUMN = "dialogue_id"


@dataclass(frozen=True)
class FileDifference:
    """One dataset file that is not the same bytes as the release's."""

    path: str
    verdict: str
    columns: tuple[str, ...] = ()

    @property
    def texts_differ(self) -> bool:
        return TEXT_COLUMN in self.columns


def _rows_by_key(table: pa.Table) -> dict[object, dict]:
    return {row[KEY_COLUMN]: row for row in table.to_pylist()}


def compare_tables(path: str, expected: pa.Table | None, actual: pa.Table | None) -> FileDifference:
    """Why ``actual`` (the reproduction's file) is not ``expected`` (the release's)."""
    if actual is None:
        return FileDifference(path, "missing from the reproduction")
    if expected is None:
        return FileDifference(path, "not in the release")
    if expected.schema.names != actual.schema.names or KEY_COLUMN not in expected.schema.names:
        gone = sorted(set(expected.schema.names) - set(actual.schema.names))
        new = sorted(set(actual.schema.names) - set(expected.schema.names))
        return FileDifference(path, f"other columns (release only: {gone or 'none'}; reproduction only: {new or 'none'})")
    before, after = _rows_by_key(expected), _rows_by_key(actual)
    if before.keys() != after.keys():
        return FileDifference(
            path, f"other dialogues ({len(before.keys() - after.keys())} only in the release, "
            f"{len(after.keys() - before.keys())} only in the reproduction)"
        )
    changed: dict[str, int] = {}
    for key, row in before.items():
        for column in expected.schema.names:
            if row[column] != after[key][column]:
                changed[column] = changed.get(column, 0) + 1
    columns = tuple(name for name in expected.schema.names if name in changed)
    if not columns:
        return FileDifference(path, "the same rows, written in other bytes")
    if set(columns) <= set(MODEL_ID_COLUMNS):
        return FileDifference(path, f"only the model ids differ ({', '.join(columns)}); the dialogue texts are identical", columns)
    others = [c for c in columns if c != TEXT_COLUMN]
    if TEXT_COLUMN in changed:
        also = f"; also {', '.join(others)}" if others else ""
        return FileDifference(path, f"the dialogue texts differ in {changed[TEXT_COLUMN]} of {len(before)} dialogues{also}", columns)
    return FileDifference(path, f"the dialogue texts are identical; other columns differ: {', '.join(columns)}", columns)
