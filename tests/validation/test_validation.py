"""The validation gate: clean dialogues pass; each planted critical defect is caught by name.

Great Expectations costs ~3 s to import and well under a second a run; the runs share one
session-scoped fixture per dataset variant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dialogue_fixtures import clean_dialogues

from interplay.config.params import Params
from interplay.dialogue import metrics
from interplay.validation import ValidationFailed


def _validate(rows: list[dict[str, Any]], params: Params | None = None, **datasets: Any):
    from interplay.validation.runner import validate_datasets

    data = {"interplay": ("data/simulated/dialogues.parquet", rows)}
    data.update({k: (f"data/baselines/{k}.parquet", v) for k, v in datasets.items()})
    return validate_datasets(data, params or Params())


def _failed(report, severity: str = "critical") -> dict[str, Any]:
    """description -> outcome, for the failed expectations of the gated dataset."""
    gated = report.datasets[0]
    failed = gated.failed_critical if severity == "critical" else gated.failed_warnings
    return {o.description: o for o in failed}


def _swapped_roles() -> list[dict[str, Any]]:
    rows = clean_dialogues()
    rows[0]["messages"][2]["role"] = "recommender"  # d1: turns 1 and 2 both recommender
    return rows


def _empty_turn() -> list[dict[str, Any]]:
    rows = clean_dialogues()
    rows[1]["messages"][3]["content"] = "   "
    return rows


def _leaked_title() -> list[dict[str, Any]]:
    rows = clean_dialogues()
    rows[2]["messages"][0]["content"] = "Can you suggest something like The Shining?"
    return rows


def _note_copied() -> list[dict[str, Any]]:
    rows = clean_dialogues()
    rows[0]["messages"][2]["content"] += " [For you: Beerfest (2006) fits 2 of 3: comedy, 2000s]"  # a wish note
    return rows


def _marker_left() -> list[dict[str, Any]]:
    rows = clean_dialogues()
    rows[1]["messages"][3]["content"] += " [ End ]"  # a spelling the simulation should have removed
    return rows


def _duplicated_id() -> list[dict[str, Any]]:
    rows = clean_dialogues()
    rows[3]["dialogue_id"] = "d1"
    return rows


def _schema_defects() -> list[dict[str, Any]]:
    rows = clean_dialogues()
    for row in rows:
        del row["termination_reason"]
    rows[0]["num_turns"] = 99
    rows[1]["outcome"] = "won"
    rows[2]["accepted_item_id"] = "5"  # never recommended in d3
    rows[3]["messages"].append({"role": "user", "content": None})
    rows[3]["num_turns"] = 5
    return rows


VARIANTS = {
    "clean": clean_dialogues,
    "swapped_roles": _swapped_roles,
    "empty_turn": _empty_turn,
    "leaked_title": _leaked_title,
    "marker_left": _marker_left,
    "note_copied": _note_copied,
    "duplicated_id": _duplicated_id,
    "schema": _schema_defects,
}


@pytest.fixture(scope="session")
def reports() -> dict[str, Any]:
    return {name: _validate(make()) for name, make in VARIANTS.items()}


def test_clean_dialogues_pass_without_warnings(reports) -> None:
    report = reports["clean"]
    assert report.success
    gated = report.datasets[0]
    assert gated.num_dialogues == 4 and gated.num_turns == 16
    assert not gated.failed_critical and not gated.failed_warnings
    assert len(gated.outcomes) > 40


@pytest.mark.parametrize(
    ("variant", "description", "example"),
    [
        ("swapped_roles", "roles alternate (no two consecutive turns of one role)", {"dialogue_id": "d1", "turn": 2}),
        ("empty_turn", "no empty turn", {"dialogue_id": "d2", "turn": 3}),
        ("empty_turn", "turn length within [1, 150] words", {"dialogue_id": "d2", "turn": 3}),
        (
            "leaked_title",
            "leakage_rate is 0: no user turn names a target title before the recommender does",
            {"dialogue_id": "d3"},
        ),
        ("duplicated_id", "dialogue ids are unique", {"dialogue_id": "d1"}),
        (
            "marker_left",
            "no turn still holds a marker ([END], [ACCEPT]; in any case or spacing)",
            {"dialogue_id": "d2", "turn": 3},
        ),
        (
            "note_copied",
            "no turn holds note text ([Candidates: …], [About …], [For you: …]): notes are control text",
            {"dialogue_id": "d1", "turn": 2},
        ),
    ],
)
def test_planted_defect_is_caught_with_offending_rows(reports, variant, description, example) -> None:
    report = reports[variant]
    assert not report.success
    failed = _failed(report)
    assert description in failed, sorted(failed)
    outcome = failed[description]
    assert any(example.items() <= e.items() for e in outcome.examples), outcome.examples
    message = report.failure_message()
    assert outcome.expectation in message and description in message
    for key, value in example.items():
        assert f"{key}={value!r}" in message


def test_planted_defect_fails_only_its_own_checks(reports) -> None:
    assert set(_failed(reports["duplicated_id"])) == {"dialogue ids are unique"}
    assert set(_failed(reports["leaked_title"])) == {
        "leakage_rate is 0: no user turn names a target title before the recommender does"
    }


def test_schema_and_consistency_defects(reports) -> None:
    failed = _failed(reports["schema"])
    assert failed["every column of the dialogue contract is present"].observed_value == {
        "missing_columns": ["termination_reason"]
    }
    assert any(k.startswith("num_turns within [2, max_turns=") and k.endswith("(dialogues that did not fail)") for k in failed)
    assert "outcome in ['accepted', 'gave_up', 'max_turns', 'error']" in failed
    assert "every accepted_item_id is among recommended_item_ids" in failed
    assert "no null turn" in failed
    mismatch = failed["num_turns equals the number of messages"]
    assert [e["dialogue_id"] for e in mismatch.examples] == ["d1"]


def test_warnings_are_reported_but_do_not_stop(reports) -> None:
    strict = Params.model_validate(
        {"validation": {"min_success_rate": 0.9, "min_distinct_2": 0.99, "max_duplicate_turn_ratio": 0.0}}
    )
    rows = clean_dialogues()
    rows[3]["messages"][2]["content"] = rows[3]["messages"][0]["content"]  # a repeated user turn
    report = _validate(rows, strict)
    assert report.success
    warnings = _failed(report, "warning")
    assert warnings["success rate >= 0.9"].observed_value == pytest.approx(0.5)
    assert "duplicate-turn ratio <= 0.0" in warnings
    user_d2 = warnings["distinct-2 of the user turns >= 0.99"].observed_value
    assert user_d2 == pytest.approx(metrics.distinct_n(metrics.role_turns(rows, "user"), 2))


def test_baselines_are_report_only_and_may_leak() -> None:
    leaky = _leaked_title()
    for row in leaky:
        row["source"] = "reference_dependent"
    report = _validate(clean_dialogues(), reference_dependent=leaky)
    assert report.success
    baseline = report.datasets[1]
    assert not baseline.gated and not baseline.failed_critical
    assert any(o.column == "leaked" for o in baseline.failed_warnings)


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def test_stage_writes_summary_and_data_docs_and_fails_on_defect(tmp_path: Path) -> None:
    from tasks import validate

    _write(tmp_path / "data/simulated/dialogues.parquet", clean_dialogues())
    _write(tmp_path / "data/baselines/zero_shot.parquet", clean_dialogues("zero_shot"))
    validate.run(Params(), tmp_path)
    summary = json.loads((tmp_path / "reports/validation.json").read_text())
    assert summary["success"] and summary["gated"] == ["interplay"]
    assert set(summary["datasets"]) == {"interplay", "zero_shot"}  # the missing baseline is skipped
    assert summary["datasets"]["interplay"]["critical_failed"] == 0
    assert (tmp_path / "reports/validation/index.html").is_file()

    _write(tmp_path / "data/simulated/dialogues.parquet", _swapped_roles())
    with pytest.raises(ValidationFailed) as err:
        validate.run(Params(), tmp_path)
    assert "expect_column_values_to_be_in_set(column=role_alternates)" in str(err.value)
    summary = json.loads((tmp_path / "reports/validation.json").read_text())
    assert not summary["success"]
    assert summary["critical_failures"][0]["examples"][0]["dialogue_id"] == "d1"


def test_data_docs_are_the_same_bytes_for_the_same_dialogues(tmp_path: Path) -> None:
    """A DVC output: GX's run times, load times and random block ids must not reach the pages."""
    from tasks import validate

    pages = []
    for name in ("a", "b"):
        root = tmp_path / name
        _write(root / "data/simulated/dialogues.parquet", clean_dialogues())
        validate.run(Params(), root)
        docs = root / "reports/validation"
        pages.append({p.relative_to(docs): p.read_bytes() for p in sorted(docs.rglob("*")) if p.is_file()})
    assert pages[0] == pages[1] and len(pages[0]) > 3


def test_missing_interplay_dialogues_fail_clearly(tmp_path: Path) -> None:
    from tasks import validate

    with pytest.raises(ValidationFailed, match="does not exist"):
        validate.run(Params(), tmp_path)


def test_a_short_failed_generation_is_kept_and_warned_not_blocking() -> None:
    """A first turn the engine could not make usable ends the dialogue early with outcome error:
    it is counted (a warning past 10% of dialogues) and does not stop the release; a short
    dialogue that claims any other outcome still does."""
    from dialogue_fixtures import dialogue

    failed_early = dialogue("d9", [("recommender", "Hi! What do you like to watch?")], outcome="error")
    report = _validate(clean_dialogues() + [failed_early])
    assert not any(k.startswith("num_turns") for k in _failed(report))
    assert any("end in an error" in k for k in _failed(report, "warning"))
    short_success = dialogue("d9", [("recommender", "Hi! What do you like to watch?")], outcome="gave_up")
    assert any(k.startswith("num_turns within") for k in _failed(_validate(clean_dialogues() + [short_success])))
