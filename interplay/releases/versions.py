"""Releases: one version name for the git tag, the ``dvc.lock``, the Hub tag and the DVC remote.

After the release flow has run every stage, :func:`record_release` writes
``releases/<version>.json`` (the input fingerprint and the sha256 of every dataset file) and
:func:`tag_release` pushes the outputs to the DVC remote, commits ``dvc.lock``, the params and that
record, and tags the commit with the version. :func:`reproduce` goes the other way: it checks the
tag out into a scratch workspace, obtains the outputs (``dvc pull``, or a full ``dvc repro`` with
``rebuild``) and compares the dataset files' hashes with the record; where they differ, it
compares the rows with the release's own files (:mod:`interplay.releases.diff`) and says which
files differ and whether the dialogue texts or only the model ids changed.

The input fingerprint is the publish stage's chained key (corpus checksum, parameters and code of
every stage) computed without ``publish.version``: it answers "did any input change since the last
release?", which is what a scheduled refresh asks.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from interplay.config.env import stage_env
from interplay.pipeline.hashing import sha256_file
from interplay.pipeline.stage_keys import load_stages, stage_keys
from interplay.releases.diff import FileDifference, compare_tables

log = logging.getLogger(__name__)

RELEASES = Path("releases")
DATASET_FILES = Path("release/data")
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


class ReleaseError(RuntimeError):
    """A release step that cannot go on; the message says what to do."""


def _raw_params(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))


def input_fingerprint(root: Path) -> str:
    """What a release is made from, whatever its version is called."""
    params = _raw_params(root)
    params.get("publish", {}).pop("version", None)
    stages = load_stages(root, params)
    publish = stages["publish"]
    stages["publish"] = replace(publish, params=tuple(k for k in publish.params if k != "publish.version"))
    return stage_keys(root, stages, params)["publish"]


def dataset_hashes(root: Path) -> dict[str, str]:
    """sha256 of every dataset file of ``release/`` (the card, which names the commit, aside)."""
    folder = root / DATASET_FILES
    hashes = {}
    for path in sorted(folder.rglob("*.parquet")):
        hashes[path.relative_to(root).as_posix()] = sha256_file(path)
    return hashes


def version_key(version: str) -> tuple[int, int, int]:
    match = _VERSION.match(version)
    if not match:
        raise ReleaseError(f"'{version}' is not a version like v1.2.3")
    return tuple(int(part) for part in match.groups())  # type: ignore[return-value]


def next_version(version: str) -> str:
    major, minor, patch = version_key(version)
    return f"v{major}.{minor}.{patch + 1}"


def releases(root: Path) -> list[dict[str, Any]]:
    """Every recorded release, oldest version first."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in (root / RELEASES).glob("*.json")]
    return sorted(records, key=lambda r: version_key(r["version"]))


def record_release(root: Path, version: str) -> dict[str, Any]:
    record = {"version": version, "fingerprint": input_fingerprint(root), "files": dataset_hashes(root)}
    if not record["files"]:
        raise ReleaseError(f"{root / DATASET_FILES}: no dataset files; did the publish stage run?")
    path = root / RELEASES / f"{version}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return record


def _run(args: list[str], root: Path) -> str:
    proc = subprocess.run(args, cwd=root, env=stage_env(root), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ReleaseError(f"`{' '.join(args)}` failed in {root}:\n{proc.stdout}{proc.stderr}".strip())
    return proc.stdout


def _dvc(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


#: What a release commit may carry besides committed code: the files the release itself writes.
RELEASE_FILES = ("dvc.lock", "params.yaml", str(RELEASES), "reports")


def ensure_releasable(root: Path, version: str) -> None:
    """Refuse before any stage runs: a tag must hold the code that made the release."""
    if _run(["git", "tag", "--list", version], root).strip():
        raise ReleaseError(f"git tag {version} exists already: set publish.version to a new version")
    dirty = [
        line[3:] for line in _run(["git", "status", "--porcelain", "--untracked-files=no"], root).splitlines()
        if not line[3:].startswith(RELEASE_FILES)
    ]
    if dirty:
        raise ReleaseError(f"uncommitted changes in {', '.join(dirty)}: commit them before releasing {version}")


def tag_release(root: Path, version: str) -> None:
    """Push outputs to the DVC remote, commit lock + params + record, tag the commit."""
    ensure_releasable(root, version)
    _run(_dvc("push"), root)
    _run(["git", "add", *RELEASE_FILES], root)
    if _run(["git", "status", "--porcelain", "--untracked-files=no"], root).strip():
        _run(["git", "commit", "-q", "-m", f"Release {version}"], root)
    _run(["git", "tag", "-a", version, "-m", f"Interplay dataset release {version}"], root)
    log.info("released %s: git tag, dvc.lock and DVC remote", version)


def set_version(root: Path, version: str) -> None:
    """Write ``publish.version`` in params.yaml, keeping its comments."""
    path = root / "params.yaml"
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(r"^(publish:\n(?:[ \t]+.*\n|\n)*?[ \t]+version:[ \t]*)(\S+)", re.M)
    new, count = pattern.subn(lambda m: m.group(1) + version, text)
    if count != 1:
        raise ReleaseError(f"{path}: could not find publish.version to set it")
    path.write_text(new, encoding="utf-8")


@dataclass(frozen=True)
class Reproduction:
    version: str
    workspace: Path
    expected: dict[str, str]
    actual: dict[str, str]
    #: Why each file that is not the release's bytes differs (empty when identical).
    differences: tuple[FileDifference, ...] = ()

    @property
    def identical(self) -> bool:
        return self.expected == self.actual


def _remote_urls(root: Path) -> dict[str, str]:
    """The DVC remotes of ``root``, as ``dvc remote list`` shows them (paths resolved)."""
    remotes = {}
    for line in _run(_dvc("remote", "list"), root).splitlines():
        parts = line.split()
        if len(parts) >= 2:
            remotes[parts[0]] = parts[1]
    return remotes


def default_workspace(root: Path, version: str) -> Path:
    """Beside the project, so that relative inputs (``../shared/corpora``) resolve the same."""
    return root.resolve().parent / f"{root.resolve().name}-reproduce-{version}"


def reproduce(root: Path, version: str, workspace: Path, rebuild: bool = False) -> Reproduction:
    """Check ``version`` out into ``workspace``, obtain its outputs, compare dataset hashes."""
    if not _run(["git", "tag", "--list", version], root).strip():
        raise ReleaseError(f"no git tag {version} in {root}; `git tag` lists the releases")
    if workspace.exists() and any(workspace.iterdir()):
        raise ReleaseError(f"{workspace} is not empty: give an empty or new folder")
    _run(["git", "clone", "-q", "--branch", version, str(root.resolve()), str(workspace)], root.parent)
    expected = json.loads((workspace / RELEASES / f"{version}.json").read_text(encoding="utf-8"))["files"]
    for name, url in _remote_urls(root).items():
        _run(_dvc("remote", "modify", "--local", name, "url", url), workspace)
    if rebuild:
        _run(_dvc("repro", "--force"), workspace)
    else:
        _run(_dvc("pull"), workspace)
    actual = dataset_hashes(workspace)
    return Reproduction(version, workspace, expected, actual, explain_differences(root, version, workspace, expected, actual))


def explain_differences(
    root: Path, version: str, workspace: Path, expected: dict[str, str], actual: dict[str, str]
) -> tuple[FileDifference, ...]:
    """Each dataset file whose hash is not the release's, compared row by row with the release's
    copy (``dvc get`` of the tag: the project's cache or its DVC remote)."""
    import pyarrow.parquet as pq

    differing = sorted(path for path in expected.keys() | actual.keys() if expected.get(path) != actual.get(path))
    if not differing:
        return ()
    with tempfile.TemporaryDirectory() as tmp:
        released = Path(tmp) / "data"
        try:
            _run(_dvc("get", str(root.resolve()), DATASET_FILES.as_posix(), "--rev", version, "-o", str(released)), root)
        except ReleaseError as exc:
            reason = str(exc).splitlines()[0]
            return tuple(FileDifference(path, f"differs; the release's copy to compare rows with is not available ({reason})")
                         for path in differing)
        differences = []
        for path in differing:
            old = released / Path(path).relative_to(DATASET_FILES)
            new = workspace / path
            differences.append(compare_tables(
                path, pq.read_table(old) if old.is_file() else None, pq.read_table(new) if new.is_file() else None
            ))
    return tuple(differences)
