"""Builds ``release/``, the Hub dataset folder: ``data/<split>-NNNNN-of-NNNNN.parquet`` + ``README.md``.

Deterministic: the same inputs give the same bytes (rows sorted by ``dialogue_id``, no schema
metadata that varies, no timestamps in the card), which is what lets a second publish of the same
content make no commit. Optional inputs (reports, adapters, ``dvc.lock``, git) that are missing are
said to be "not available" in the card; only the dialogues are required.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

import interplay
from interplay.config.params import Params
from interplay.dialogue.rows import ROLES
from interplay.evaluation.examples import choose_examples, mention_titles
from interplay.models.adapters import ADAPTER_FILE, adapter_dir
from interplay.pipeline.hashing import sha256_file
from interplay.pipeline.runtime_keys import without_runtime
from interplay.publish.card import ENUMERATED_COLUMNS, CardInputs, SplitInfo, render_card
from interplay.publish.errors import PublishError

log = logging.getLogger(__name__)

DIALOGUES = Path("data/simulated/dialogues.parquet")
RELEASE_DIR = Path("release")
METRICS = Path("reports/metrics.json")
EVALUATION_MD = Path("reports/evaluation.md")
VALIDATION = Path("reports/validation.json")
BASE_PROVENANCE = Path("models/base/provenance.json")
#: Splits in the order they are published when ``publish.splits`` is null.
SPLIT_ORDER = ("train", "validation", "test")
#: This stage's own name in dvc.lock: its entry is left out of the digest (it describes the
#: release being built, so it would change the card it is computed for).
OWN_STAGE = "publish"
#: Example dialogues shown in the card.
CARD_EXAMPLES = 3
#: Params sections shown in the card (without the keys that do not shape the data,
#: :data:`interplay.pipeline.runtime_keys.RUNTIME_KEYS`).
CARD_SECTIONS = ("model", "preprocess", "finetune", "simulation")


@dataclass(frozen=True)
class ReleaseFolder:
    """A built release folder: where it is, its splits, and every file in it (relative, sorted)."""

    path: Path
    splits: tuple[SplitInfo, ...]
    files: tuple[str, ...]


def git_commit(root: Path) -> str | None:
    """``git rev-parse HEAD`` of the project, or None without git or outside a repository."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", commit) else None


def dvc_lock_digest(path: Path) -> str | None:
    """sha256 of ``dvc.lock``'s entries for the stages before publish (canonical JSON).

    This stage's own entry is left out: DVC rewrites it after every publish, so including it would
    change the card (and refuse the version) on a rerun with identical data.
    """
    return lock_digest(path.read_bytes()) if path.is_file() else None


def dvc_lock_committed(root: Path) -> bool | None:
    """Whether ``HEAD`` holds the workspace's ``dvc.lock`` (compared by :func:`lock_digest`, so
    the publish stage's own entry, which DVC writes after this stage, does not count); None
    without git, a commit or a workspace lock."""
    if not (root / "dvc.lock").is_file() or git_commit(root) is None:
        return None
    try:
        proc = subprocess.run(
            ["git", "show", "HEAD:./dvc.lock"], cwd=root, capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    committed = lock_digest(proc.stdout) if proc.returncode == 0 else None  # not in the commit at all
    return committed == dvc_lock_digest(root / "dvc.lock")


def lock_digest(raw: bytes) -> str:
    """:func:`dvc_lock_digest` of a ``dvc.lock``'s bytes."""
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError:
        return hashlib.sha256(raw).hexdigest()
    if not isinstance(data, dict):
        return hashlib.sha256(raw).hexdigest()
    stages = {k: v for k, v in (data.get("stages") or {}).items() if k != OWN_STAGE}
    canonical = json.dumps({"schema": data.get("schema"), "stages": stages}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PublishError(f"{path}: not valid JSON ({exc}); rerun the stage that writes it") from None
    return data if isinstance(data, dict) else {"value": data}


def _publish_order(present: set[str], wanted: list[str] | None, source: Path) -> list[str]:
    if wanted is None:
        order = [s for s in SPLIT_ORDER if s in present] + sorted(present - set(SPLIT_ORDER))
        if not order:
            raise PublishError(f"{source} has no dialogues: nothing to publish (run the simulate stage)")
        return order
    missing = [s for s in wanted if s not in present]
    if missing:
        raise PublishError(
            f"publish.splits asks for {missing} but {source} has no dialogues simulated from "
            f"{'that split' if len(missing) == 1 else 'those splits'} (it has: {sorted(present) or 'none'}); "
            "simulate them (simulation.profile_splits) or remove them from publish.splits"
        )
    return list(dict.fromkeys(wanted))


def _prepare(table: pa.Table) -> pa.Table:
    """Rows in a fixed order, no pandas/writer metadata: the same rows give the same bytes."""
    if "dialogue_id" in table.column_names and table.num_rows:
        table = table.sort_by([("dialogue_id", "ascending")])
    return table.replace_schema_metadata(None).combine_chunks()


def _write_split(table: pa.Table, split: str, data_dir: Path, max_rows: int) -> tuple[str, ...]:
    shards = max(1, math.ceil(table.num_rows / max_rows))
    names = []
    for index in range(shards):
        name = f"{split}-{index:05d}-of-{shards:05d}.parquet"
        part = table.slice(index * max_rows, max_rows)
        pq.write_table(part, data_dir / name, compression="snappy", row_group_size=10_000)
        names.append(f"data/{name}")
    return tuple(names)


def _unique(table: pa.Table, column: str) -> tuple[str, ...]:
    if column not in table.column_names:
        return ()
    values = pc.unique(table[column]).to_pylist()
    return tuple(sorted(str(v) for v in values if v is not None))


def _parameters(params: Params) -> dict[str, Any]:
    out: dict[str, Any] = {"seed": params.seed, "corpus": {"name": params.corpus.name}}
    for name in CARD_SECTIONS:
        section = getattr(params, name, None)
        if section is not None:
            values = section.model_dump(mode="json")
            out[name] = {k: _prune(v) for k, v in without_runtime(name, values).items()}
    return out


def _prune(value: Any) -> Any:
    """Nested settings without their unset (null) entries, e.g. per-role overrides left empty."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    return value


def _examples(rows: pa.Table, seed: int) -> tuple[dict[str, Any], ...]:
    """The card's example dialogues among the published rows, by the evaluation report's rule
    (:func:`choose_examples`); only the chosen rows are converted to Python."""
    if "dialogue_id" not in rows.column_names or not rows.num_rows:
        return ()
    ids = rows["dialogue_id"].to_pylist()
    outcomes = rows["outcome"].to_pylist() if "outcome" in rows.column_names else [None] * len(ids)
    light = [{"dialogue_id": d, "outcome": o, "index": i} for i, (d, o) in enumerate(zip(ids, outcomes))]
    chosen = choose_examples(light, seed, CARD_EXAMPLES)
    return tuple(rows.slice(c["index"], 1).to_pylist()[0] for c in chosen)


def build_release(params: Params, root: Path, out_dir: Path | None = None) -> ReleaseFolder:
    """Write the release folder (default ``<root>/release``) from the pipeline's outputs."""
    settings = params.publish
    source = root / DIALOGUES
    if not source.is_file():
        raise PublishError(f"{source} is missing: run the simulate stage first (`dvc repro simulate`)")
    try:
        dialogues = pq.read_table(source)
    except (pa.ArrowInvalid, OSError) as exc:
        raise PublishError(f"{source}: cannot be read as parquet ({exc}); rerun the simulate stage") from None
    if "split" not in dialogues.column_names:
        raise PublishError(f"{source} has no 'split' column: it is not an Interplay dialogues file")
    present = {s for s in pc.unique(dialogues["split"]).to_pylist() if s is not None}
    order = _publish_order(present, settings.splits, source)

    out = out_dir or root / RELEASE_DIR
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "data").mkdir(parents=True)
    try:
        splits = _write_folder(params, root, dialogues, order, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    replace_folder(tmp, out)
    files = tuple(sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()))
    log.info(
        "release folder %s: %s",
        out,
        ", ".join(f"{s.name} ({s.num_rows} dialogues)" for s in splits),
    )
    return ReleaseFolder(path=out, splits=splits, files=files)


def replace_folder(new: Path, old: Path) -> None:
    """Put folder ``new`` where ``old`` is: ``old`` is moved aside first and removed last, so at
    every moment one complete folder exists (under one of the two names)."""
    aside = old.with_name(f".{old.name}.old")
    shutil.rmtree(aside, ignore_errors=True)
    if old.exists():
        old.rename(aside)
    new.rename(old)
    shutil.rmtree(aside, ignore_errors=True)


def _write_folder(
    params: Params, root: Path, dialogues: pa.Table, order: list[str], tmp: Path
) -> tuple[SplitInfo, ...]:
    """The parquet splits and the card, written into ``tmp``."""
    settings = params.publish

    splits: list[SplitInfo] = []
    published: list[pa.Table] = []
    for split in order:
        part = _prepare(dialogues.filter(pc.equal(dialogues["split"], split)))
        files = _write_split(part, split, tmp / "data", settings.max_rows_per_shard)
        splits.append(SplitInfo(name=split, num_rows=part.num_rows, files=files))
        published.append(part)
    rows = pa.concat_tables(published)

    outcomes = dict(Counter(str(v) for v in rows["outcome"].to_pylist())) if "outcome" in rows.column_names else {}
    mean_turns = None
    if "num_turns" in rows.column_names and rows.num_rows:
        mean_turns = pc.mean(rows["num_turns"]).as_py()
    adapters = {}
    for role in ROLES:
        path = adapter_dir(root, role) / ADAPTER_FILE
        adapters[role] = sha256_file(path) if path.is_file() else None
    evaluation_md = (root / EVALUATION_MD).read_text(encoding="utf-8") if (root / EVALUATION_MD).is_file() else None
    examples = _examples(rows, params.seed)

    inputs = CardInputs(
        pretty_name=settings.pretty_name,
        license=settings.license,
        language=tuple(settings.language),
        tags=tuple(settings.tags),
        version=settings.version,
        repo_id=settings.repo_id,
        corpus=params.corpus.name,
        splits=tuple(splits),
        columns=tuple((f.name, str(f.type)) for f in rows.schema),
        outcomes=outcomes,
        mean_turns=mean_turns,
        user_models=_unique(rows, "user_model"),
        recommender_models=_unique(rows, "recommender_model"),
        params_hashes=_unique(rows, "params_hash"),
        adapter_hashes=adapters,
        base_model=_read_json(root / BASE_PROVENANCE),
        parameters=_parameters(params),
        evaluation_md=evaluation_md,
        metrics=_read_json(root / METRICS),
        validation=_read_json(root / VALIDATION),
        package_version=interplay.__version__,
        git_commit=git_commit(root),
        dvc_lock_committed=dvc_lock_committed(root),
        dvc_lock_digest=dvc_lock_digest(root / "dvc.lock"),
        column_values={c: _unique(rows, c) for c in ENUMERATED_COLUMNS if c in rows.column_names},
        examples=examples,
        examples_seed=params.seed,
        titles=mention_titles(examples),
    )
    (tmp / "README.md").write_text(render_card(inputs), encoding="utf-8", newline="\n")
    return tuple(splits)
