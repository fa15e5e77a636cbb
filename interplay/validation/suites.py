"""The expectation suites of the validation gate, one per table, built in code.

Each expectation carries a GX ``severity``: ``critical`` ones stop the release when they fail on
a gated dataset (the Interplay dialogues); ``warning`` ones are reported only. Each also has a
``description``, the sentence the failure message and the Data Docs show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import great_expectations.expectations as gxe

from interplay.config.params import ValidationParams
from interplay.dialogue.metrics import OUTCOMES, ROLES
from interplay.grounding.notes import NOTE_HEAD_PATTERN
from interplay.text.end_marker import regex_for_validation
from interplay.validation.tables import (
    COLUMN_TYPES,
    CONTRACT_COLUMNS,
    INT_COLUMNS,
    NESTED_COLUMNS,
    NULLABLE_STR_COLUMNS,
    STR_COLUMNS,
    shape_of,
)

CRITICAL = "critical"
WARNING = "warning"
INT_TYPES = ["int", "int8", "int16", "int32", "int64", "Int8", "Int16", "Int32", "Int64"]

#: Columns that identify an offending row in each table (shown in failure messages).
INDEX_COLUMNS: dict[str, list[str]] = {
    "dialogues": ["row", "dialogue_id"],
    "turns": ["dialogue_id", "turn"],
    "bigrams": [],
}


@dataclass(frozen=True)
class SuiteSpec:
    table: str
    expectations: list[gxe.Expectation]


def _critical(expectation_cls: type, description: str, **kwargs: object) -> gxe.Expectation:
    return expectation_cls(severity=CRITICAL, description=description, **kwargs)


def _warning(expectation_cls: type, description: str, **kwargs: object) -> gxe.Expectation:
    return expectation_cls(severity=WARNING, description=description, **kwargs)


def dialogue_suite(
    params: ValidationParams, *, max_turns: int, source: str, leakage_critical: bool
) -> SuiteSpec:
    """Expectations on the dialogue-level table."""
    exps: list[gxe.Expectation] = [
        _critical(gxe.ExpectTableRowCountToBeBetween, "at least one dialogue", min_value=1),
        _critical(
            gxe.ExpectTableColumnsToMatchSet,
            "every column of the dialogue contract is present",
            column_set=list(CONTRACT_COLUMNS),
            exact_match=False,
        ),
    ]
    for column in STR_COLUMNS:
        exps.append(
            _critical(gxe.ExpectColumnValuesToNotBeNull, f"{column} is never null", column=column)
        )
    for column in STR_COLUMNS + NULLABLE_STR_COLUMNS:
        exps.append(
            _critical(gxe.ExpectColumnValuesToBeOfType, f"{column} is a string", column=column, type_="str")
        )
    for column in INT_COLUMNS:
        exps.append(
            _critical(
                gxe.ExpectColumnValuesToBeInTypeList,
                f"{column} is an integer (never null)",
                column=column,
                type_list=INT_TYPES,
            )
        )
    for column in NESTED_COLUMNS:
        exps.append(
            _critical(
                gxe.ExpectColumnValuesToBeInSet,
                f"{column} is {shape_of(COLUMN_TYPES[column])}",
                column=f"schema_ok__{column}",
                value_set=[True],
            )
        )
    exps += [
        _critical(gxe.ExpectColumnValuesToBeUnique, "dialogue ids are unique", column="dialogue_id"),
        _critical(
            gxe.ExpectColumnValuesToBeBetween,
            f"num_turns within [2, max_turns={max_turns}] (dialogues that did not fail)",
            column="num_turns",
            min_value=2,
            max_value=max_turns,
            row_condition='outcome != "error"',
            condition_parser="pandas",
        ),
        # A generation that failed early (a degenerate or leaking first turn the engine could not
        # replace) is kept and counted, not hidden: it may be short, never longer than max_turns.
        _critical(
            gxe.ExpectColumnValuesToBeBetween,
            f"num_turns at most max_turns={max_turns}",
            column="num_turns",
            min_value=0,
            max_value=max_turns,
        ),
        _warning(
            gxe.ExpectColumnValuesToNotBeInSet,
            "at most 10% of dialogues end in an error (degenerate or leaking turns)",
            column="outcome",
            value_set=["error"],
            mostly=0.9,
        ),
        _critical(
            gxe.ExpectColumnPairValuesToBeEqual,
            "num_turns equals the number of messages",
            column_A="num_turns",
            column_B="num_messages",
        ),
        _critical(
            gxe.ExpectColumnValuesToBeInSet,
            f"outcome in {list(OUTCOMES)}",
            column="outcome",
            value_set=list(OUTCOMES),
        ),
        _critical(
            gxe.ExpectColumnValuesToBeInSet,
            f"source is '{source}'",
            column="source",
            value_set=[source],
        ),
        _critical(
            gxe.ExpectColumnValuesToBeInSet,
            "every accepted_item_id is among recommended_item_ids",
            column="accepted_in_recommended",
            value_set=[True],
        ),
        _critical(
            gxe.ExpectColumnValuesToBeInSet,
            "every item mention points at a turn of the same role",
            column="mentions_consistent",
            value_set=[True],
        ),
        (_critical if leakage_critical else _warning)(
            gxe.ExpectColumnValuesToBeInSet,
            "leakage_rate is 0: no user turn names a target title before the recommender does",
            column="leaked",
            value_set=[False],
        ),
        _warning(
            gxe.ExpectColumnValuesToBeInSet,
            "an accepted dialogue names its accepted item",
            column="accepted_has_item",
            value_set=[True],
        ),
        _critical(
            gxe.ExpectColumnValuesToBeInSet,
            "an accepted dialogue is one the user accepted (it wrote its accept marker)",
            column="accepted_by_user",
            value_set=[True],
        ),
        _warning(
            gxe.ExpectColumnMeanToBeBetween,
            f"success rate >= {params.min_success_rate}",
            column="is_accepted",
            min_value=params.min_success_rate,
        ),
    ]
    return SuiteSpec("dialogues", exps)


def turn_suite(params: ValidationParams, markers: Sequence[str] = ("[END]", "[ACCEPT]")) -> SuiteSpec:
    """Expectations on the turn-level table."""
    exps = [
        _critical(gxe.ExpectColumnValuesToNotBeNull, "no null turn", column="content"),
        _critical(gxe.ExpectColumnValuesToBeOfType, "turn content is text", column="content", type_="str"),
        _critical(
            gxe.ExpectColumnValuesToNotMatchRegex,
            "no empty turn",
            column="content",
            regex=r"^\s*$",
        ),
        _critical(
            gxe.ExpectColumnValuesToNotMatchRegex,
            f"no turn still holds a marker ({', '.join(markers)}; in any case or spacing)",
            column="content",
            regex=regex_for_validation(*markers),
        ),
        _critical(
            gxe.ExpectColumnValuesToNotMatchRegex,
            "no turn holds note text ([Candidates: …], [About …], [For you: …]): notes are control text",
            column="content",
            regex=NOTE_HEAD_PATTERN,
        ),
        _critical(
            gxe.ExpectColumnValuesToBeInSet,
            f"role in {list(ROLES)}",
            column="role",
            value_set=list(ROLES),
        ),
        _critical(
            gxe.ExpectColumnValuesToBeInSet,
            "roles alternate (no two consecutive turns of one role)",
            column="role_alternates",
            value_set=[True],
        ),
        _critical(
            gxe.ExpectColumnValuesToBeBetween,
            f"turn length within [{params.min_turn_words}, {params.max_turn_words}] words",
            column="num_words",
            min_value=params.min_turn_words,
            max_value=params.max_turn_words,
        ),
        _warning(
            gxe.ExpectColumnMeanToBeBetween,
            f"duplicate-turn ratio <= {params.max_duplicate_turn_ratio}",
            column="is_duplicate",
            max_value=params.max_duplicate_turn_ratio,
        ),
    ]
    return SuiteSpec("turns", exps)


def bigram_suite(params: ValidationParams) -> SuiteSpec:
    """distinct-2 of each role, as the proportion of unique bigrams among that role's rows."""
    exps = [
        _warning(
            gxe.ExpectColumnProportionOfUniqueValuesToBeBetween,
            f"distinct-2 of the {role} turns >= {params.min_distinct_2}",
            column="bigram",
            min_value=params.min_distinct_2,
            row_condition=f'role=="{role}"',
            condition_parser="pandas",
        )
        for role in ROLES
    ]
    return SuiteSpec("bigrams", exps)
