"""The row contract is declared once: schemas, validation columns, card docs and builders agree."""

from __future__ import annotations

import pyarrow as pa

from interplay.config.params import SamplingParams
from interplay.dialogue.rows import DIALOGUE_COLUMNS, DIALOGUE_SCHEMA, ROLE_SAMPLING, SAMPLING, role_view
from interplay.preprocess.profiles import Profile, TargetAttributes
from interplay.publish.card import COLUMN_DOCS
from interplay.validation.tables import CONTRACT_COLUMNS, NESTED_COLUMNS, dialogue_table


def test_validation_and_card_follow_the_schema() -> None:
    assert CONTRACT_COLUMNS == tuple(DIALOGUE_SCHEMA.names)
    assert list(COLUMN_DOCS) == DIALOGUE_SCHEMA.names
    assert all(c.meaning.strip() for c in DIALOGUE_COLUMNS)
    assert {"shard", "shard_seed", "sampling"} <= set(COLUMN_DOCS)


def test_sampling_records_every_sampling_setting() -> None:
    """A setting added to SamplingParams but not to the row's ``sampling`` would be lost silently."""
    assert {f.name for f in ROLE_SAMPLING} == set(SamplingParams.model_fields)
    assert {"user", "recommender"} <= {f.name for f in SAMPLING}


def test_new_nested_columns_are_checked_against_their_type() -> None:
    from dialogue_fixtures import clean_dialogues

    rows = clean_dialogues()
    rows[1]["sampling"] = {**rows[1]["sampling"], "batch_size": None}
    rows[2]["candidates"] = [{"turn": 0, "item_ids": "1", "note": ""}]
    table = dialogue_table(rows)
    assert {"candidates", "sampling"} <= set(NESTED_COLUMNS)
    assert table["schema_ok__sampling"].tolist() == [True, False, True, True]
    assert table["schema_ok__candidates"].tolist() == [True, True, False, True]


def test_role_view_maps_speakers_to_chat_roles() -> None:
    messages = [{"role": "user", "content": "Hi"}, {"role": "recommender", "content": "Try Up (2009)"}]
    notes = {0: "[Candidates: Up (2009)]", 1: "[About Up (2009): animation]"}
    assert role_view(messages, "recommender", "sys", notes) == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "Hi\n[Candidates: Up (2009)]"},  # the other side's note follows it
        {"role": "assistant", "content": "Try Up (2009)"},  # never on the speaker's own turn
    ]
    assert role_view(messages, "user") == [
        {"role": "assistant", "content": "Hi"},
        {"role": "user", "content": "Try Up (2009)"},
    ]


def test_profiles_keep_their_type_through_their_row() -> None:
    profile = Profile(
        "p1", "d1", "test", "You love comedies.", TargetAttributes(("comedy",), "1990s", (), ("A B",)),
        "A comedy.", ("7",), ("Up (2009)",), "user",
    )
    from interplay.dialogue.rows import PROFILES_SCHEMA

    row = pa.Table.from_pylist([profile.to_row()], schema=PROFILES_SCHEMA).to_pylist()[0]
    assert Profile.from_row(row) == profile
