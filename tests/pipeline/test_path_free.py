"""No output depends on where the checkout lives.

Two checkouts of the smoke profile at different paths (and depths) run the stages up to a
fine-tuned adapter; every output file must be the same bytes. peft's adapter card once held the
base model's absolute path, so the adapter's DVC hash, ``dvc.lock`` and everything downstream
differed between two clones of one commit with byte-identical weights.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import yaml

from interplay.config.params import load_params
from interplay.pipeline.stage_code import stage_entry
from interplay.pipeline.stage_keys import load_stages

#: The stages run in each checkout: every kind of output up to a trained adapter (corpus copy,
#: processed tables, a materialized base with its provenance, an adapter with its card and config).
STAGES = ("fetch", "preprocess", "base_model", "finetune_user")


def _checkout(top: Path, relative: str, repo_root: Path, corpora: Path) -> Path:
    root = top / relative
    root.mkdir(parents=True)
    (root.parent / "shared").symlink_to(corpora.parent, target_is_directory=True)
    shutil.copy(repo_root / "profiles" / "smoke.yaml", root / "params.yaml")
    shutil.copy(repo_root / "dvc.yaml", root / "dvc.yaml")
    return root


def _output_files(root: Path, outs: list[str]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for out in outs:
        path = root / out
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            files[file.relative_to(root).as_posix()] = file.read_bytes()
    return files


def test_stage_outputs_are_the_same_bytes_at_another_path(tmp_path: Path, repo_root: Path, corpora: Path) -> None:
    roots = [
        _checkout(tmp_path, "a/main", repo_root, corpora),
        _checkout(tmp_path, "elsewhere/deeper/interplay-clone", repo_root, corpora),
    ]
    for root in roots:
        params = load_params(root / "params.yaml")
        for stage in STAGES:
            importlib.import_module(stage_entry(stage)).run(params, root)

    raw = yaml.safe_load((roots[0] / "params.yaml").read_text(encoding="utf-8"))
    specs = load_stages(roots[0], raw)
    outs = [out for stage in STAGES for out in specs[stage].outs]
    first, second = (_output_files(root, outs) for root in roots)
    assert any(name.endswith("adapter/README.md") for name in first), sorted(first)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
    for root in roots:
        holding = [name for name, data in first.items() if str(root).encode() in data or str(tmp_path).encode() in data]
        assert holding == [], f"outputs holding the checkout's path: {holding}"
