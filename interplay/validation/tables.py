"""The tables the validation suites run on, built from dialogue rows.

- **dialogues**: one row per dialogue, the contract's columns as read plus derived checks
  (``schema_ok__<column>`` for nested columns, ``accepted_in_recommended``, ``leaked`` ...);
- **turns**: one row per message (``dialogue_id``, ``turn``, ``role``, ``content``,
  ``num_words``, ``role_alternates``, ``is_duplicate``);
- **bigrams**: one row per word bigram of a turn (``role``, ``bigram``), so that a role's
  distinct-2 is the proportion of unique values of ``bigram`` among that role's rows.

Derived columns never raise on malformed input: a value of the wrong shape makes its check
False, and the expectation on it names the offending rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from interplay.dialogue import metrics
from interplay.dialogue.rows import DIALOGUE_COLUMNS


def _names(keep: Any) -> tuple[str, ...]:
    return tuple(c.name for c in DIALOGUE_COLUMNS if keep(c))


#: Every column of a generated-dialogue file (the contract between simulate and validate), as
#: :data:`interplay.dialogue.rows.DIALOGUE_COLUMNS` declares it.
CONTRACT_COLUMNS: tuple[str, ...] = _names(lambda c: True)
#: Scalar columns that must be non-null strings / integers; nullable ones (``accepted_item_id``)
#: must be strings where set.
STR_COLUMNS: tuple[str, ...] = _names(lambda c: pa.types.is_string(c.type) and not c.nullable)
NULLABLE_STR_COLUMNS: tuple[str, ...] = _names(lambda c: pa.types.is_string(c.type) and c.nullable)
INT_COLUMNS: tuple[str, ...] = _names(lambda c: pa.types.is_integer(c.type))
NESTED_COLUMNS: tuple[str, ...] = _names(lambda c: pa.types.is_nested(c.type))


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _messages_ok(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(m, Mapping) and "role" in m and "content" in m for m in value
    )


def _mentions_ok(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(m, Mapping)
        and isinstance(m.get("item_id"), str)
        and isinstance(m.get("title"), str)
        and isinstance(m.get("turn"), int)
        and m.get("role") in metrics.ROLES
        for m in value
    )


def _attributes_ok(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and all(_is_str_list(value.get(f)) for f in ("genres", "directors", "actors"))
        and (value.get("decade") is None or isinstance(value.get("decade"), str))
    )


def conforms(value: Any, type_: pa.DataType) -> bool:
    """Whether a value read from a row has the shape of its Arrow type, with no null inside."""
    if pa.types.is_list(type_):
        return isinstance(value, list) and all(conforms(v, type_.value_type) for v in value)
    if pa.types.is_struct(type_):
        return isinstance(value, Mapping) and all(conforms(value.get(f.name), f.type) for f in type_)
    if pa.types.is_string(type_):
        return isinstance(value, str)
    if pa.types.is_integer(type_):
        return isinstance(value, int) and not isinstance(value, bool)
    if pa.types.is_floating(type_):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return value is not None


def shape_of(type_: pa.DataType) -> str:
    """A nested type as the suites describe it: ``a list of {role, content}``."""
    if pa.types.is_list(type_):
        inner = type_.value_type
        return f"a list of {shape_of(inner) if pa.types.is_nested(inner) else 'strings'}"
    if pa.types.is_struct(type_):
        return "{" + ", ".join(f.name for f in type_) + "}"
    return str(type_)


#: Column -> its Arrow type in the contract.
COLUMN_TYPES: dict[str, pa.DataType] = {c.name: c.type for c in DIALOGUE_COLUMNS}
#: Nested columns whose check says more than their shape (roles, a nullable decade); every other
#: nested column of the contract is checked against its Arrow type (:func:`conforms`).
_SEMANTIC_CHECKS = {
    "messages": _messages_ok,
    "item_mentions": _mentions_ok,
    "target_attributes": _attributes_ok,
}
_NESTED_CHECKS = {
    column: _SEMANTIC_CHECKS.get(column, lambda value, type_=COLUMN_TYPES[column]: conforms(value, type_))
    for column in NESTED_COLUMNS
}


def _mentions_consistent(row: Mapping[str, Any]) -> bool:
    """Every mention points at an existing turn spoken by the mention's role."""
    messages = row.get("messages")
    mentions = row.get("item_mentions")
    if not _messages_ok(messages) or not _mentions_ok(mentions):
        return False
    return all(
        0 <= m["turn"] < len(messages) and messages[m["turn"]].get("role") == m["role"]
        for m in mentions
    )


def _accepted_in_recommended(row: Mapping[str, Any]) -> bool:
    accepted = row.get("accepted_item_id")
    if accepted is None:
        return True
    recommended = row.get("recommended_item_ids")
    return isinstance(recommended, list) and accepted in recommended


def _leaked(row: Mapping[str, Any], threshold: float) -> bool:
    try:
        return metrics.dialogue_leaks(row, threshold)
    except (AttributeError, KeyError, TypeError, ValueError):
        return True  # malformed beyond reading: flagged here and by its schema check


def dialogue_table(rows: Sequence[Mapping[str, Any]], threshold: float = 90.0) -> pd.DataFrame:
    """One row per dialogue: the file's columns plus the derived checks."""
    frame = pd.DataFrame(list(rows)) if rows else pd.DataFrame(columns=list(CONTRACT_COLUMNS))
    frame.insert(0, "row", range(len(frame)))
    derived: dict[str, list[Any]] = {
        "num_messages": [len(r["messages"]) if _messages_ok(r.get("messages")) else -1 for r in rows],
        "mentions_consistent": [_mentions_consistent(r) for r in rows],
        "accepted_in_recommended": [_accepted_in_recommended(r) for r in rows],
        "accepted_has_item": [
            r.get("outcome") != "accepted" or r.get("accepted_item_id") is not None for r in rows
        ],
        "accepted_by_user": [r.get("outcome") != "accepted" or r.get("user_decision") == "accept" for r in rows],
        "leaked": [_leaked(r, threshold) for r in rows],
        "is_accepted": [float(r.get("outcome") == "accepted") for r in rows],
    }
    for column, check in _NESTED_CHECKS.items():
        derived[f"schema_ok__{column}"] = [bool(check(r.get(column))) for r in rows]
    for name, values in derived.items():
        frame[name] = pd.Series(values, index=frame.index, dtype=None if values else "object")
    return frame


def turn_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per message of every dialogue."""
    records: list[dict[str, Any]] = []
    for row in rows:
        messages = row.get("messages")
        if not isinstance(messages, list):
            continue
        contents = [m.get("content") if isinstance(m, Mapping) else None for m in messages]
        duplicates = metrics.duplicate_turn_flags(
            [c if isinstance(c, str) else None for c in contents]
        )
        previous = None
        for turn, message in enumerate(messages):
            role = message.get("role") if isinstance(message, Mapping) else None
            content = contents[turn]
            records.append(
                {
                    "dialogue_id": row.get("dialogue_id"),
                    "turn": turn,
                    "role": role,
                    "content": content,
                    "num_words": metrics.word_count(content) if isinstance(content, str) else 0,
                    "role_alternates": turn == 0 or role != previous,
                    "is_duplicate": float(duplicates[turn]),
                }
            )
            previous = role
    columns = ["dialogue_id", "turn", "role", "content", "num_words", "role_alternates", "is_duplicate"]
    return pd.DataFrame(records, columns=columns)


def bigram_table(turns: pd.DataFrame) -> pd.DataFrame:
    """One row per word bigram of each turn, with the turn's role."""
    records = [
        {"role": role, "bigram": " ".join(gram)}
        for role, content in zip(turns["role"], turns["content"], strict=True)
        if isinstance(content, str)
        for gram in metrics.ngrams(metrics.tokenize(content), 2)
    ]
    return pd.DataFrame(records, columns=["role", "bigram"])
