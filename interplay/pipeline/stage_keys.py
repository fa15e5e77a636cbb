"""Cache keys of pipeline stages: what identifies the outputs a stage would make.

The release flow asks Prefect to skip a stage whose key it has seen before, so a key must change
exactly when the stage's outputs could change:

- the stage's command;
- the values of the parameters the stage declares in ``dvc.yaml`` (only those: a stage that does
  not declare ``finetune`` is not invalidated by a new learning rate). Parameters that do not
  change the data (download timeout, checkpoint interval, where shards run) are listed once, in
  :data:`interplay.pipeline.runtime_keys.RUNTIME_KEYS`; ``dvc.yaml`` declares none of them (a test checks
  it) and a declared section's value is taken without them, so DVC and this key never disagree;
- for each dependency that another stage makes, that stage's key (chaining, as DataDreamer does:
  changing preprocessing invalidates fine-tuning and everything after it, and nothing before);
- for each other dependency — code modules, the raw corpus directory — the hash of its content.
  Listing a stage's code modules as ``deps`` is what makes the key a code version: Prefect's own
  task-source hash sees only the task body, not the library it calls.

Only ``dvc.yaml`` and the params are read, never DVC's internals, so a key costs a few file
hashes and no ``dvc`` process: a rerun with nothing changed stays fast. The scheme carries a
version, stored in every key, so a change of scheme never matches old keys.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from interplay.pipeline.runtime_keys import without_runtime

KEY_SCHEME_VERSION = 2

_TEMPLATE = re.compile(r"\$\{\s*([\w.\-]+)\s*\}")


@dataclass(frozen=True)
class StageSpec:
    """One stage of ``dvc.yaml`` after ``${...}`` templating, paths relative to the repo root."""

    name: str
    cmd: str
    deps: tuple[str, ...]
    params: tuple[str, ...]
    outs: tuple[str, ...]


def _lookup(tree: dict[str, Any], dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ValueError(f"dvc.yaml refers to '{dotted}', which params.yaml does not have")
        node = node[part]
    return node


def _render(value: str, params: dict[str, Any]) -> str:
    return _TEMPLATE.sub(lambda m: str(_lookup(params, m.group(1))), value)


def _paths(entries: list[Any] | None) -> list[str]:
    """``outs``/``metrics`` entries are either a path or ``{path: options}``."""
    paths: list[str] = []
    for entry in entries or []:
        paths.extend(entry.keys() if isinstance(entry, dict) else [entry])
    return paths


def _param_keys(entries: list[Any] | None) -> list[str]:
    keys: list[str] = []
    for entry in entries or []:
        if isinstance(entry, dict):  # {other_file.yaml: [keys]}: not used by this project
            raise ValueError(f"dvc.yaml: params from other files are not supported: {entry}")
        keys.append(entry)
    return keys


def load_stages(root: Path, params: dict[str, Any]) -> dict[str, StageSpec]:
    """Read ``dvc.yaml`` under ``root``, rendering ``${...}`` from the raw params mapping."""
    raw = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))
    stages: dict[str, StageSpec] = {}
    for name, body in (raw.get("stages") or {}).items():
        outs = _paths(body.get("outs")) + _paths(body.get("metrics")) + _paths(body.get("plots"))
        stages[name] = StageSpec(
            name=name,
            cmd=_render(body["cmd"], params),
            deps=tuple(_render(d, params) for d in body.get("deps") or []),
            params=tuple(_param_keys(body.get("params"))),
            outs=tuple(_render(o, params) for o in outs),
        )
    return stages


def _contains(out: str, dep: str) -> bool:
    return dep == out or dep.startswith(out.rstrip("/") + "/")


def producer_of(dep: str, stages: dict[str, StageSpec]) -> str | None:
    """The stage whose output is (or holds) ``dep``, if any."""
    for spec in stages.values():
        if any(_contains(out, dep) for out in spec.outs):
            return spec.name
    return None


def _ignored(relative: Path) -> bool:
    """What ``.dvcignore`` leaves out too: bytecode caches (they appear after the first run and
    embed timestamps) and hidden files."""
    return any(part == "__pycache__" or part.startswith(".") for part in relative.parts) or relative.suffix == ".pyc"


def content_hash(path: Path) -> str:
    """sha256 over a file, or over a directory's relative paths and file contents, sorted."""
    digest = hashlib.sha256()
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not _ignored(p.relative_to(path)))
    else:
        return "missing"
    for file in files:
        digest.update(str(file.relative_to(path) if file != path else "").encode())
        digest.update(b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def stage_keys(root: Path, stages: dict[str, StageSpec], params: dict[str, Any]) -> dict[str, str]:
    """The key of every stage, chained through the stages that make its dependencies."""
    keys: dict[str, str] = {}

    def key_of(name: str, visiting: tuple[str, ...] = ()) -> str:
        if name in keys:
            return keys[name]
        if name in visiting:
            raise ValueError(f"dvc.yaml: stages depend on each other in a cycle: {visiting}")
        spec = stages[name]
        deps: dict[str, str] = {}
        for dep in spec.deps:
            upstream = producer_of(dep, stages)
            if upstream is not None and upstream != name:
                deps[dep] = "stage:" + key_of(upstream, visiting + (name,))
            else:
                deps[dep] = content_hash(root / dep)
        identity = {
            "scheme": KEY_SCHEME_VERSION,
            "stage": name,
            "cmd": spec.cmd,
            "params": {key: without_runtime(key, _lookup(params, key)) for key in spec.params},
            "deps": deps,
        }
        blob = json.dumps(identity, sort_keys=True, default=str).encode()
        keys[name] = f"v{KEY_SCHEME_VERSION}-{name}-{hashlib.sha256(blob).hexdigest()[:32]}"
        return keys[name]

    for stage_name in stages:
        key_of(stage_name)
    return keys


def outputs_present(root: Path, spec: StageSpec) -> bool:
    """Whether every output of a stage is on disk (a cached key is no use if they were deleted)."""
    return all((root / out).exists() for out in spec.outs)
