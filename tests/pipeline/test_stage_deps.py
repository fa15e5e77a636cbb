"""dvc.yaml is the one declaration of stages: code deps equal each stage's import closure, and the
parameters split cleanly into those a stage declares and the runtime-only ones of one table.

A stage whose code deps miss a module it imports stays ``Cached`` after that module changes,
with outputs the new code would not make; one that declares a module it does not import reruns
for nothing. The last test asks DVC itself, in a scratch project holding the real code deps.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from interplay.cli import STAGES
from interplay.config.params import Params, load_params
from interplay.pipeline.runtime_keys import RUNTIME_KEYS, is_runtime
from interplay.pipeline.stage_code import code_files, import_closure, is_code_path, stage_code, stage_entry
from interplay.pipeline.stage_keys import load_stages
from interplay.publish.folder import _parameters


@pytest.fixture(scope="module")
def dvc_stages(repo_root: Path) -> dict[str, dict]:
    return yaml.safe_load((repo_root / "dvc.yaml").read_text(encoding="utf-8"))["stages"]


def _leaves(prefix: str, value: object) -> list[str]:
    if isinstance(value, dict) and value:
        return [leaf for key, item in value.items() for leaf in _leaves(f"{prefix}.{key}" if prefix else key, item)]
    return [prefix]


def _covers(declared: str, key: str) -> bool:
    return key == declared or key.startswith(declared + ".")


def test_each_stage_runs_its_entry_module(dvc_stages: dict[str, dict]) -> None:
    for name, body in dvc_stages.items():
        assert body["cmd"] == f"interplay {name}", f"dvc.yaml stage {name}: cmd is {body['cmd']!r}"
        assert STAGES.get(name) == stage_entry(name), f"interplay/cli.py STAGES does not map {name} to {stage_entry(name)}"


def test_code_deps_are_the_import_closure(repo_root: Path, dvc_stages: dict[str, dict]) -> None:
    problems = []
    for name, body in dvc_stages.items():
        deps = [d for d in body.get("deps") or [] if is_code_path(d)]
        problems += [f"{name}: dep {d} does not exist" for d in deps if not (repo_root / d).exists()]
        declared = code_files(repo_root, deps)
        closure = set(stage_code(repo_root, name))
        problems += [f"{name}: imports {m}, which its deps do not cover" for m in sorted(closure - declared)]
        problems += [f"{name}: declares {m}, which it never imports" for m in sorted(declared - closure)]
    assert not problems, "dvc.yaml code deps (`python -m interplay.pipeline.stage_code STAGE` prints them):\n" + "\n".join(problems)


def test_closure_follows_every_kind_of_import(tmp_path: Path) -> None:
    files = {
        "tasks/__init__.py": "",
        "tasks/stage.py": "from interplay import direct\nfrom interplay.pkg.mod import name\n",
        "interplay/__init__.py": "",
        "interplay/direct.py": "def run():\n    import interplay.lazy  # inside a function: still runs\n",
        "interplay/lazy.py": "from . import sibling\n",
        "interplay/sibling.py": "import json\nimport interplay.missing_is_fine\n",
        "interplay/pkg/__init__.py": "from .helper import x\n",
        "interplay/pkg/helper.py": "x = 1\n",
        "interplay/pkg/mod.py": "from ..direct import run\nname = 2\n",
        "interplay/unused.py": "",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert set(import_closure(tmp_path, "tasks.stage")) == set(files) - {"interplay/unused.py"}


def test_no_stage_declares_a_runtime_parameter(repo_root: Path, dvc_stages: dict[str, dict]) -> None:
    problems = []
    for name, body in dvc_stages.items():
        for declared in body.get("params") or []:
            below = [key for key in RUNTIME_KEYS if _covers(declared, key) or _covers(key, declared)]
            if below:
                problems.append(f"{name}: declares {declared}, which holds runtime-only {', '.join(below)}")
    assert not problems, "dvc.yaml (see interplay/pipeline/runtime_keys.py):\n" + "\n".join(problems)


def test_every_parameter_is_declared_or_runtime_only(repo_root: Path, dvc_stages: dict[str, dict]) -> None:
    declared = [p for body in dvc_stages.values() for p in body.get("params") or []]
    leaves = _leaves("", Params().model_dump())
    for key in RUNTIME_KEYS:
        assert any(_covers(key, leaf) for leaf in leaves), f"interplay/pipeline/runtime_keys.py: {key} is no parameter"
    orphans = [leaf for leaf in leaves if not is_runtime(leaf) and not any(_covers(d, leaf) for d in declared)]
    assert not orphans, f"parameters no dvc.yaml stage declares and interplay/pipeline/runtime_keys.py does not list: {orphans}"


def test_every_declared_parameter_is_in_every_params_file(repo_root: Path, dvc_stages: dict[str, dict]) -> None:
    """DVC reads the params file as written (no defaults): a declared key it lacks stops the stage."""
    declared = sorted({p for body in dvc_stages.values() for p in body.get("params") or []})
    problems = []
    for path in [repo_root / "params.yaml", *sorted((repo_root / "profiles").glob("*.yaml"))]:
        leaves = _leaves("", yaml.safe_load(path.read_text(encoding="utf-8")))
        problems += [f"{path.relative_to(repo_root)}: no {key}" for key in declared if not any(_covers(key, leaf) for leaf in leaves)]
    assert not problems, "keys dvc.yaml declares:\n" + "\n".join(problems)


def test_the_card_shows_only_what_publish_declares(repo_root: Path, dvc_stages: dict[str, dict]) -> None:
    params = load_params(repo_root / "profiles" / "smoke.yaml")
    shown = _leaves("", _parameters(params))
    declared = dvc_stages["publish"]["params"]
    assert [k for k in shown if is_runtime(k)] == []
    assert [k for k in shown if not any(_covers(d, k) for d in declared)] == []


def _scratch_project(repo_root: Path, target: Path) -> dict[str, list[str]]:
    """The project's code and a dvc.yaml of its stages with their code deps only (no data, no
    params, a command that does nothing): what DVC says about code edits, without running a stage."""
    for folder in ("interplay", "tasks"):
        shutil.copytree(repo_root / folder, target / folder, ignore=shutil.ignore_patterns("__pycache__"))
    raw = yaml.safe_load((repo_root / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    code = {name: [d for d in body.get("deps") or [] if is_code_path(d)] for name, body in raw.items()}
    stages = {name: {"cmd": "true", "deps": deps} for name, deps in code.items()}
    (target / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}, sort_keys=False))
    return code


def _dvc(target: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=target, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_editing_a_module_makes_exactly_its_stages_stale(repo_root: Path, tmp_path: Path) -> None:
    _scratch_project(repo_root, tmp_path)
    _dvc(tmp_path, "init", "--no-scm", "-q")
    _dvc(tmp_path, "repro", "-q")
    assert json.loads(_dvc(tmp_path, "status", "--json") or "{}") == {}
    stages = list(yaml.safe_load((tmp_path / "dvc.yaml").read_text())["stages"])
    for module in ("interplay/simulation/records.py", "interplay/training/roles.py"):
        with (tmp_path / module).open("a") as handle:
            handle.write("\n# edited\n")
        stale = set(json.loads(_dvc(tmp_path, "status", "--json") or "{}"))
        runs_it = {name for name in stages if module in stage_code(tmp_path, name)}
        assert runs_it, module
        assert stale == runs_it, f"after editing {module}, dvc status reports {sorted(stale)}, not {sorted(runs_it)}"
        _dvc(tmp_path, "repro", "-q")


def test_every_cli_stage_is_in_dvc_yaml(repo_root: Path) -> None:
    raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    assert set(load_stages(repo_root, raw)) == set(STAGES)


def test_a_template_beside_a_module_is_stage_code(repo_root: Path, dvc_stages: dict[str, dict]) -> None:
    """The dataset card is rendered from a template beside ``interplay/publish/card.py``: editing
    it changes what publish writes, so publish must rerun (its deps cover the file)."""
    template = "interplay/publish/card_template.md"
    assert template in stage_code(repo_root, "publish")
    assert template in code_files(repo_root, [d for d in dvc_stages["publish"]["deps"] if is_code_path(d)])
    assert template not in stage_code(repo_root, "simulate")  # it is no code of a stage that never renders a card
