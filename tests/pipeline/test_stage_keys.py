"""Stage keys decide what the release flow reruns: they must chain, and change only when they should."""

from pathlib import Path

import pytest

from interplay.pipeline.stage_keys import load_stages, stage_keys

DVC_YAML = """
stages:
  fetch:
    cmd: interplay fetch
    deps: ["${corpus.dir}", code/fetch.py]
    params: [corpus.dir]
    outs: [data/raw]
  preprocess:
    cmd: interplay preprocess
    deps: [data/raw, code/preprocess.py]
    params: [seed, preprocess]
    outs: [data/processed]
    metrics: [{reports/preprocess.json: {cache: false}}]
  train:
    cmd: interplay train
    deps: [data/processed/sft, code/train.py]
    params: [train.lr]
    outs: [models/user]
"""


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    (tmp_path / "code").mkdir()
    for name in ("fetch", "preprocess", "train"):
        (tmp_path / "code" / f"{name}.py").write_text(f"# {name}\n")
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.jsonl").write_text("{}\n")
    return tmp_path


def _params(**changes: object) -> dict:
    params = {
        "seed": 1,
        "corpus": {"dir": "corpus", "timeout_s": 60},
        "preprocess": {"max": 10},
        "train": {"lr": 0.1, "progress_every": 5},
    }
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        params[section][key] = value
    return params


def _keys(root: Path, params: dict) -> dict[str, str]:
    return stage_keys(root, load_stages(root, params), params)


def test_templating_and_outputs(workspace: Path) -> None:
    stages = load_stages(workspace, _params())
    assert stages["fetch"].deps == ("corpus", "code/fetch.py")
    assert stages["preprocess"].outs == ("data/processed", "reports/preprocess.json")


def test_keys_are_stable(workspace: Path) -> None:
    assert _keys(workspace, _params()) == _keys(workspace, _params())


def test_a_parameter_invalidates_its_stage_and_downstream_only(workspace: Path) -> None:
    before = _keys(workspace, _params())
    after = _keys(workspace, _params(preprocess__max=20))
    assert after["fetch"] == before["fetch"]
    assert after["preprocess"] != before["preprocess"]
    assert after["train"] != before["train"]  # chained through data/processed


def test_undeclared_parameters_do_not_invalidate(workspace: Path) -> None:
    before = _keys(workspace, _params())
    after = _keys(workspace, _params(train__progress_every=50, corpus__timeout_s=5))
    assert after == before


def test_code_and_corpus_changes_are_seen(workspace: Path) -> None:
    before = _keys(workspace, _params())
    (workspace / "code" / "train.py").write_text("# train, changed\n")
    after_code = _keys(workspace, _params())
    assert after_code["train"] != before["train"]
    assert after_code["preprocess"] == before["preprocess"]
    (workspace / "corpus" / "a.jsonl").write_text('{"x": 1}\n')
    after_corpus = _keys(workspace, _params())
    assert all(after_corpus[s] != after_code[s] for s in ("fetch", "preprocess", "train"))
