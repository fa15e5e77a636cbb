"""The release flow's stage order comes from DVC's graph of dvc.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from interplay.pipeline.stage_graph import PipelineError, stage_order


def _pipeline(root: Path, stages: dict[str, dict]) -> Path:
    from dvc.repo import Repo

    Repo.init(str(root), no_scm=True).close()
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}, sort_keys=False))
    return root


def test_each_stage_comes_after_what_it_depends_on_ties_in_file_order(tmp_path: Path) -> None:
    root = _pipeline(tmp_path, {
        "report": {"cmd": "r", "deps": ["b.txt", "c.txt"], "outs": ["report.txt"]},
        "b": {"cmd": "b", "deps": ["a.txt"], "outs": ["b.txt"]},
        "lonely": {"cmd": "l", "outs": ["l.txt"]},
        "c": {"cmd": "c", "outs": ["c.txt"]},
        "a": {"cmd": "a", "outs": ["a.txt"]},
    })
    assert stage_order(root) == ["lonely", "c", "a", "b", "report"]


def test_the_projects_order_is_the_order_of_its_dvc_yaml(repo_root: Path) -> None:
    # dvc.yaml lists its stages in an order the graph allows: the flow runs them as written.
    declared = list(yaml.safe_load((repo_root / "dvc.yaml").read_text())["stages"])
    assert stage_order(repo_root) == declared


def test_a_pipeline_dvc_cannot_read_is_one_error_naming_the_file(tmp_path: Path) -> None:
    root = _pipeline(tmp_path, {
        "a": {"cmd": "a", "outs": ["x.txt"]},
        "b": {"cmd": "b", "outs": ["x.txt"]},  # two stages claim one output
    })
    with pytest.raises(PipelineError, match=r"dvc\.yaml: DVC cannot read the pipeline"):
        stage_order(root)
