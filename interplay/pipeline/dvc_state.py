"""DVC's workspace files that a kill can leave half-written, and how the release flow repairs them.

DVC rewrites ``dvc.lock`` in place (it opens the file for writing, then dumps the YAML), and its
``.dvc/tmp/rwlock`` the same way. A ``kill -9`` at that moment leaves an empty or cut file, and
every later ``dvc`` command then refuses to start (``'./dvc.lock' validation failed``), so one
unlucky kill would brick the workspace. The release flow therefore keeps a last good copy of the
lock (:data:`LAST_GOOD`, written atomically after each stage it ran) and, before DVC starts,
replaces a lock that does not parse or that DVC's own schema rejects: with that copy, else with
the lock of git's ``HEAD``, else by removing it.

Restoring any lock DVC accepts is safe, even an older one: DVC checks every hash it records
against the workspace, so a stale entry only makes its stage rerun (or restore its outputs from
DVC's run cache), never skip. A cut lock that still parses is safe for the same reason and is left
alone. A corrupt ``rwlock`` holds no lock a live process could rely on (DVC could not read it
either), so it is removed, as DVC's own message advises.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

LOCK = Path("dvc.lock")
#: Beside the shards and checkpoints a killed run resumes from; ignored by git, not a DVC output.
LAST_GOOD = Path("data/work/dvc.lock.last-good")
RWLOCK = Path(".dvc/tmp/rwlock")


def lock_problem(text: str) -> str | None:
    """Why ``text`` is not a lock file DVC accepts, or None when it is one."""
    from dvc.schema import COMPILED_LOCKFILE_SCHEMA
    from voluptuous import Invalid

    if not text.strip():
        return "it is empty"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return f"it is not valid YAML{where}"
    try:
        COMPILED_LOCKFILE_SCHEMA(data)
    except Invalid as exc:
        return f"DVC's lock schema rejects it ({exc})"
    return None


def _write_atomic(path: Path, text: str) -> None:
    """Write beside the target, then rename: a kill leaves the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _committed_lock(root: Path) -> str | None:
    proc = subprocess.run(
        ["git", "show", f"HEAD:./{LOCK.as_posix()}"], cwd=root, capture_output=True, text=True, check=False
    )
    return proc.stdout if proc.returncode == 0 else None


def keep_good_copy(root: Path) -> None:
    """Copy ``dvc.lock`` to :data:`LAST_GOOD` if DVC accepts it (called after each stage)."""
    text = _read(root / LOCK)
    if text is not None and lock_problem(text) is None:
        if _read(root / LAST_GOOD) != text:
            _write_atomic(root / LAST_GOOD, text)


def recover(root: Path) -> list[str]:
    """Repair what a killed DVC left unreadable; one message per repair (none when all was well)."""
    messages: list[str] = []
    lock = root / LOCK
    if lock.exists():
        text = _read(lock)
        problem = "it is not UTF-8 text" if text is None else lock_problem(text)
        if problem is not None:
            messages.append(_restore_lock(root, problem))
    rwlock = root / RWLOCK
    if rwlock.exists():
        try:
            json.loads(rwlock.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            rwlock.unlink()
            messages.append(
                f"{RWLOCK} was unreadable (a killed DVC process was writing it): removed it; "
                "it held no lock a live process could use"
            )
    return messages


def _restore_lock(root: Path, problem: str) -> str:
    head = f"{LOCK} was unusable ({problem}), as a run killed while DVC wrote it leaves it"
    for source, text in (
        (f"the last good copy {LAST_GOOD}", _read(root / LAST_GOOD)),
        ("git's HEAD", _committed_lock(root)),
    ):
        if text is not None and lock_problem(text) is None:
            _write_atomic(root / LOCK, text)
            return f"{head}: restored it from {source}; stages it does not match will rerun"
    (root / LOCK).unlink()
    return f"{head}, and no good copy exists: removed it; every stage will rerun or restore from DVC's run cache"
