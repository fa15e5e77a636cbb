"""``interplay reproduce VERSION --rebuild`` at another path, and what it says when files differ.

A small DVC project stands in for the pipeline: one stage writes a dataset file whose model ids
and texts come from the environment, the way float training on another machine changes adapter
weights (so the model ids) and perhaps what was generated. Real git, DVC and the real
``reproduce``; the full pipeline's reproduction runs in tests/releases/test_release_flow.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from workspace import GIT

from interplay.cli import main
from interplay.config.env import stage_env
from interplay.releases.diff import compare_tables
from interplay.releases.versions import record_release, reproduce

MAKE = """\
import os
from pathlib import Path
import pyarrow as pa, pyarrow.parquet as pq
text, model = os.environ.get("REPRO_TEXT", "hello"), os.environ.get("REPRO_MODEL", "base:a+lora:1")
rows = [{"dialogue_id": f"d{i}", "messages": [f"{text} {i}", "ok"], "user_model": model, "recommender_model": model,
         "outcome": "accepted"} for i in range(3)]
Path("release/data").mkdir(parents=True, exist_ok=True)
pq.write_table(pa.Table.from_pylist(rows), "release/data/train-00000-of-00001.parquet")
"""
DVC_YAML = "stages:\n  publish:\n    cmd: python make_release.py\n    deps: [make_release.py]\n    outs: [release]\n"
DATA = "release/data/train-00000-of-00001.parquet"


def _sh(cwd: Path, *args: str) -> None:
    proc = subprocess.run(list(args), cwd=cwd, env=stage_env(cwd), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with release v0.1.0 recorded, tagged and pushed to its DVC remote."""
    root = tmp_path_factory.mktemp("repro") / "project"
    root.mkdir()
    (root / "make_release.py").write_text(MAKE)
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "params.yaml").write_text("publish:\n  version: v0.1.0\n")
    dvc = [sys.executable, "-m", "dvc"]
    _sh(root, "git", "init", "-q", "-b", "main")
    _sh(root, *dvc, "init", "-q")
    _sh(root, *dvc, "remote", "add", "-d", "storage", "../dvc-storage")
    _sh(root, *dvc, "repro", "-q")
    record_release(root, "v0.1.0")
    _sh(root, *dvc, "push", "-q")
    _sh(root, *GIT, "add", "-A")
    _sh(root, *GIT, "commit", "-qm", "Release v0.1.0")
    _sh(root, *GIT, "tag", "v0.1.0")
    return root


def test_rebuild_at_another_path_is_identical(released: Path) -> None:
    result = reproduce(released, "v0.1.0", released.parent / "elsewhere" / "deeper" / "repro", rebuild=True)
    assert result.identical and result.differences == ()
    assert set(result.actual) == {DATA}


def test_other_model_ids_only_are_told_apart_from_other_texts(
    released: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REPRO_MODEL", "base:a+lora:2")
    monkeypatch.chdir(released)
    assert main(["reproduce", "v0.1.0", "--rebuild", "--workspace", str(released.parent / "ids")]) == 1
    out = capsys.readouterr().out
    assert f"DIFFERS  {DATA}" in out
    assert "only the model ids differ (user_model, recommender_model); the dialogue texts are identical" in out

    monkeypatch.setenv("REPRO_TEXT", "hi")
    result = reproduce(released, "v0.1.0", released.parent / "texts", rebuild=True)
    (difference,) = result.differences
    assert difference.texts_differ
    assert difference.verdict == "the dialogue texts differ in 3 of 3 dialogues; also user_model, recommender_model"


def test_compare_tables_names_what_changed() -> None:
    rows = [{"dialogue_id": "a", "messages": ["x"], "user_model": "m", "outcome": "accepted"}]
    table = pa.Table.from_pylist(rows)
    changed = pa.Table.from_pylist([{**rows[0], "outcome": "gave_up"}])
    assert compare_tables("f", table, changed).verdict == "the dialogue texts are identical; other columns differ: outcome"
    assert compare_tables("f", table, table).verdict == "the same rows, written in other bytes"
    assert compare_tables("f", table, None).verdict == "missing from the reproduction"
    other = pa.Table.from_pylist([{**rows[0], "dialogue_id": "b"}])
    assert compare_tables("f", table, other).verdict.startswith("other dialogues (1 only in the release")
    assert not compare_tables("f", table, pq.read_table(pa.BufferReader(_parquet(table)))).texts_differ


def _parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()
