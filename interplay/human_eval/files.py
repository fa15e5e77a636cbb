"""The kit's I/O: reading the generated dialogues, writing a study's files, reading an export back.

An export writes three files into one folder: ``tasks.json`` (Label Studio's task import format,
what annotators see), ``labeling_config.xml`` (the project's labeling interface) and ``key.json``
(which system is A in each task: keep it from the annotators). JSON is written with sorted keys
and a trailing newline, so the same seed and dialogues give the same bytes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interplay.human_eval.analysis import export_judgements, summarize
from interplay.human_eval.criteria import labeling_config
from interplay.human_eval.errors import HumanEvalError, RecordError
from interplay.human_eval.report import render
from interplay.human_eval.tasks import by_profile, pair_tasks

log = logging.getLogger(__name__)

TASKS_FILE = "tasks.json"
CONFIG_FILE = "labeling_config.xml"
KEY_FILE = "key.json"
#: Columns of a dialogue row the tasks are made from (see :mod:`interplay.dialogue.rows`).
COLUMNS = ["dialogue_id", "profile_id", "messages", "preference_summary", "target_attributes_text"]


@dataclass(frozen=True)
class Study:
    """Where an export wrote its files, and how many tasks it made."""

    tasks: Path
    config: Path
    key: Path
    count: int
    shared_profiles: int


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def read_dialogues(path: Path) -> dict[str, Mapping[str, Any]]:
    """``profile_id -> row`` of one generated-dialogue parquet file."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run the simulate and baselines stages first (make run)")
    present = set(pq.read_schema(path).names)
    absent = [c for c in COLUMNS if c not in present and c != "target_attributes_text"]
    if absent:
        raise HumanEvalError(path, "schema", absent[0], "missing column: not a generated-dialogue file")
    try:
        return by_profile(pq.read_table(path, columns=[c for c in COLUMNS if c in present]).to_pylist())
    except RecordError as exc:
        raise exc.at(path) from None


def export_study(interplay: Path, baseline: Path, baseline_name: str, out: Path, seed: int, limit: int | None) -> Study:
    """Write a study's tasks, labeling configuration and key into ``out``."""
    tasks, key = pair_tasks(read_dialogues(interplay), read_dialogues(baseline), baseline_name, seed, limit)
    if key["left_out_empty"]:
        log.warning("human-eval: %d shared profiles left out (a side without messages)", len(key["left_out_empty"]))
    if not tasks:
        raise HumanEvalError(baseline, "all rows", "profile_id", f"no profile shared with {interplay}: nothing to compare")
    out.mkdir(parents=True, exist_ok=True)
    study = Study(out / TASKS_FILE, out / CONFIG_FILE, out / KEY_FILE, len(tasks), key["shared_profiles"])
    _write_json(study.tasks, tasks)
    study.config.write_text(labeling_config(), encoding="utf-8")
    _write_json(study.key, key)
    return study


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise HumanEvalError(path, "file", "", f"not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise HumanEvalError(path, f"line {exc.lineno}", "", f"not JSON: {exc.msg}") from None


def read_key(path: Path) -> dict[str, Any]:
    """A key written by :func:`export_study`, checked enough that the analysis can trust it."""
    key = _read_json(path)
    if not isinstance(key, dict) or not isinstance(key.get("pairs"), dict):
        raise HumanEvalError(path, "top level", "pairs", "missing: not a key written by `interplay human-eval export`")
    systems = key.get("systems")
    if not isinstance(systems, list) or len(systems) != 2:
        raise HumanEvalError(path, "top level", "systems", f"expected two systems, got {systems!r}")
    for pair_id, pair in key["pairs"].items():
        try:
            named = sorted([pair["A"]["system"], pair["B"]["system"]])
        except (KeyError, TypeError):
            raise HumanEvalError(path, f"pair {pair_id}", "A/B", "missing") from None
        if not isinstance(pair.get("fingerprint"), str):
            raise HumanEvalError(path, f"pair {pair_id}", "fingerprint", "missing")
        if named != sorted(systems):
            raise HumanEvalError(path, f"pair {pair_id}", "A/B", f"systems {named} are not {sorted(systems)}")
    return key


def analyze_export(export: Path, key_path: Path, report: Path) -> str:
    """Analyze a Label Studio JSON export with its key into ``report``; returns the Markdown."""
    key = read_key(key_path)
    try:
        judgements = export_judgements(_read_json(export), key)
    except RecordError as exc:
        raise exc.at(export) from None
    if not judgements:
        raise HumanEvalError(export, "all tasks", "annotations", "no submitted judgement to analyze")
    text = render(summarize(judgements), key, export.name)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text, encoding="utf-8")
    return text
