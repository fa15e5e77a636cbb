"""The code a pipeline stage runs: the import closure of its entry module within the project.

``interplay <stage>`` imports ``tasks/<stage>.py`` and calls its ``run``; what that stage's
outputs can depend on is every project module reachable from there by ``import`` — at module
level or inside a function (a lazy import runs too), plus the ``__init__.py`` of every package on
the way (importing ``a.b.c`` executes ``a/__init__.py`` and ``a/b/__init__.py``), plus the
files beside those modules that are not Python (package data such as the card's template, which
the modules read: editing it changes what the stage writes). Reading the
imports with :mod:`ast` (never importing anything) makes that closure cheap and exact for this
project, which imports only by name (no ``importlib`` with computed names inside a stage). The
dispatcher ``interplay/cli.py`` is part of no stage: it parses the command line, reads the params
(``params.py`` is in every closure anyway) and turns errors into exit codes; what a stage writes
is decided from ``tasks/<stage>.py`` down.

Two things read it, so that they cannot drift from the code: the test that compares each
stage's code ``deps`` in ``dvc.yaml`` with its closure (a module a stage imports but does not
declare leaves the stage ``Cached`` with stale outputs; one it declares but does not import
reruns it for nothing), and the simulation's shard identity, which hashes the same files the
stage declares. ``python -m interplay.pipeline.stage_code`` prints each stage's closure as ``dvc.yaml``
deps, a directory where the closure holds every module under it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

#: Top-level packages of the project whose modules count as stage code (everything else is a
#: third-party dependency, pinned by the environment, not by ``dvc.yaml``).
PROJECT_PACKAGES = ("interplay", "tasks")
#: The package holding one thin entry module per stage (``tasks/<stage>.py``).
ENTRY_PACKAGE = "tasks"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def stage_entry(stage: str) -> str:
    """The module ``interplay <stage>`` runs (``interplay.cli.STAGES`` maps the same names)."""
    return f"{ENTRY_PACKAGE}.{stage}"


def module_file(root: Path, module: str) -> Path | None:
    """``a.b`` -> ``a/b.py`` or ``a/b/__init__.py`` under ``root``, if it is a project module."""
    if module.split(".")[0] not in PROJECT_PACKAGES:
        return None
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_names(path: Path, module: str) -> set[str]:
    """Every module name an ``import`` in ``path`` may load; for ``from a import b``, both ``a``
    and ``a.b`` (``b`` is a submodule or a name in ``a``: :func:`module_file` tells which)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{node.module}" if node.module else anchor
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _with_parents(module: str) -> list[str]:
    """``a.b.c`` -> ``a``, ``a.b``, ``a.b.c``: importing a module runs its packages first."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def import_closure(root: Path, entry: str) -> tuple[str, ...]:
    """Project files (relative, sorted) that importing ``entry`` and running it can execute."""
    root = root.resolve()
    if module_file(root, entry) is None:
        raise FileNotFoundError(f"stage entry module {entry} not found under {root}")
    seen: dict[str, Path] = {}
    todo = [entry]
    while todo:
        name = todo.pop()
        for candidate in _with_parents(name):
            if candidate in seen:
                continue
            path = module_file(root, candidate)
            if path is None:
                continue
            seen[candidate] = path
            todo.extend(_imported_names(path, candidate))
    files = {p for path in seen.values() for p in (path, *package_data(path.parent))}
    return tuple(sorted(p.relative_to(root).as_posix() for p in files))


def package_data(folder: Path) -> list[Path]:
    """The files of a package folder that are not Python (a template the card is rendered from):
    its modules read them, so a stage running any module of the folder depends on them too."""
    return [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix not in _NOT_DATA and not p.name.startswith(".")]


#: File endings in a package folder that are neither code nor data its modules read.
_NOT_DATA = {".py", ".pyc"}


def stage_code(root: Path, stage: str) -> tuple[str, ...]:
    """The code files of one ``dvc.yaml`` stage: its entry module's import closure."""
    return import_closure(root, stage_entry(stage))


def is_code_path(path: str) -> bool:
    """Whether a ``dvc.yaml`` dep names project code (a module or a package directory)."""
    return path.split("/")[0] in PROJECT_PACKAGES


def code_files(root: Path, deps: tuple[str, ...] | list[str]) -> set[str]:
    """The files that a stage's code ``deps`` cover (a directory covers its modules and their
    package data, all below it)."""
    files: set[str] = set()
    for dep in deps:
        if not is_code_path(dep):
            continue
        path = root / dep
        if path.is_dir():
            folders = [f for f in (path, *sorted(path.rglob("*"))) if f.is_dir() and f.name != "__pycache__"]
            modules = [m for f in folders for m in sorted(f.glob("*.py"))]
            files.update(p.relative_to(root).as_posix() for p in modules + [d for f in folders for d in package_data(f)])
        else:
            files.add(dep)
    return files


def as_deps(root: Path, files: tuple[str, ...] | set[str]) -> list[str]:
    """``files`` as few ``dvc.yaml`` deps: a directory wherever every module under it is in
    ``files`` (so a directory dep never covers a module the stage does not run)."""
    wanted = set(files)
    deps: list[str] = []
    covered: set[str] = set()
    for file in sorted(wanted):
        if file in covered:
            continue
        parts = file.split("/")
        choice = file
        for depth in range(2, len(parts)):  # the shallowest folder below a top package fully in ``files``
            folder = "/".join(parts[:depth])
            inside = code_files(root, [folder])
            if inside <= wanted:
                choice = folder
                covered |= inside
                break
        deps.append(choice)
    return deps


def main(argv: list[str] | None = None) -> int:
    """Print every stage's closure as ``dvc.yaml`` code deps."""
    import yaml

    root = Path.cwd()
    stages = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    for name in argv or list(stages):
        print(f"{name}:")
        for dep in as_deps(root, stage_code(root, name)):
            print(f"  - {dep}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
