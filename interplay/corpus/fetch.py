"""Obtain the raw corpus and its item catalog, and record what was obtained.

Output layout (what the preprocess stage reads)::

    <out>/corpus/...          dialogue files (a downloaded zip is unpacked here)
    <out>/catalog/...         id2info.json, movies_with_mentions.csv
    <out>/manifest.json       sha256 and size of every file, plus where they came from

The manifest holds no timestamps, so fetching the same inputs gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from interplay.config.params import CorpusParams
from interplay.corpus.catalog import CATALOG_FILES
from interplay.errors import FetchError
from interplay.pipeline.hashing import sha256_file

log = logging.getLogger(__name__)

_CHUNK = 1 << 16
_OFFLINE_HINT = (
    "To work offline, set `corpus.source: local` and `corpus.local_dir` (and `corpus.catalog_dir` "
    "if the catalog lives elsewhere) in params.yaml to a directory holding a copy of the raw files."
)


def _visible_files(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )


def _copy_tree(src: Path, dest: Path, skip: frozenset[str] = frozenset()) -> None:
    for path in _visible_files(src):
        if path.name in skip:
            continue
        target = dest / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def download(url: str, dest: Path, timeout_s: float, sha256: str | None = None) -> Path:
    """Stream ``url`` to ``dest`` with a progress bar; verify ``sha256`` when given."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, dest.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=None) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        dest.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"could not download {url}: {reason}. {_OFFLINE_HINT}") from exc
    actual = digest.hexdigest()
    if sha256 and actual.lower() != sha256.lower():
        dest.unlink(missing_ok=True)
        raise FetchError(
            f"checksum mismatch for {url}: expected sha256 {sha256}, got {actual}. The file may have "
            "changed upstream or been corrupted in transit; update `corpus.sha256` only if you trust "
            f"the new file. {_OFFLINE_HINT}"
        )
    return dest


def _unpack(archive: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                target = (dest / member.filename).resolve()
                if not target.is_relative_to(dest.resolve()):
                    raise FetchError(f"{archive}: refusing to unpack {member.filename!r} outside {dest}")
            zf.extractall(dest)
    except zipfile.BadZipFile as exc:
        raise FetchError(f"{archive}: not a valid zip archive ({exc})") from exc


def _resolve_dir(value: str, base_dir: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _included(local: Path, include: list[str] | None) -> list[Path]:
    """The parts of ``local_dir`` that make the corpus (``corpus.include``; None: the folder
    itself), each checked to exist inside it. Their relative paths are kept in the workspace, so
    an error in a file names the file under ``local_dir`` as the user wrote it."""
    if include is None:
        return [local]
    parts = []
    for entry in include:
        part = (local / entry).resolve()
        if not part.is_relative_to(local.resolve()) or part == local.resolve():
            raise FetchError(f"corpus.include: {entry!r} is not a file or folder inside corpus.local_dir {local}")
        if not part.exists():
            raise FetchError(
                f"corpus.include: {local / entry} does not exist; list files or folders of corpus.local_dir "
                f"{local} (there: {', '.join(p.name for p in sorted(local.iterdir()) if not p.name.startswith('.'))})"
            )
        parts.append(local / entry)
    return parts


def _archive_name(url: str) -> str:
    return Path(urllib.request.url2pathname(url.split("?", 1)[0].rstrip("/"))).name or "download"


def download_into(params: CorpusParams, local: Path) -> None:
    """``source: url``: download (and unpack) into ``local_dir``, which DVC tracks as the stage's
    input; a download already there that matches ``sha256`` is kept, so a rerun needs no network."""
    archive = local / _archive_name(params.url)
    if not (archive.is_file() and (params.sha256 is None or sha256_file(archive) == params.sha256.lower())):
        download(params.url, archive, params.timeout_s, params.sha256)
    if zipfile.is_zipfile(archive):
        _unpack(archive, local)
    for extra_name, url in sorted(params.extra_urls.items()):
        if not (local / extra_name).is_file():
            download(url, local / extra_name, params.timeout_s)


def _collect_catalog(search: Path, catalog_out: Path, move: bool) -> list[str]:
    """Copy (or move, out of the fetched corpus) the catalog files found under ``search``."""
    found = []
    for file_name in CATALOG_FILES:
        matches = sorted(search.rglob(file_name))
        if matches:
            if move:
                shutil.move(matches[0], catalog_out / file_name)
            else:
                shutil.copyfile(matches[0], catalog_out / file_name)
            found.append(file_name)
    return found


def build_manifest(out_dir: Path, params: CorpusParams) -> dict[str, Any]:
    files = {
        p.relative_to(out_dir).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in _visible_files(out_dir)
        if p.name != "manifest.json"
    }
    origin = params.local_dir if params.source == "local" else params.url
    return {
        "corpus": params.name,
        "source": params.source,
        "origin": origin,
        "include": params.include,
        "catalog_dir": params.catalog_dir,
        "files": files,
    }


def fetch_corpus(params: CorpusParams, out_dir: Path, base_dir: Path) -> dict[str, Any]:
    """Fill ``out_dir`` with the corpus and catalog files; returns (and writes) the manifest.

    Relative ``local_dir`` / ``catalog_dir`` are resolved against ``base_dir`` (the repo root).
    """
    corpus_out, catalog_out = out_dir / "corpus", out_dir / "catalog"
    for stale in (corpus_out, catalog_out):
        if stale.exists():
            shutil.rmtree(stale)
        stale.mkdir(parents=True)

    local = _resolve_dir(params.local_dir, base_dir)
    if params.source == "url":
        local.mkdir(parents=True, exist_ok=True)
        download_into(params, local)
    if not local.is_dir():
        raise FetchError(f"corpus.local_dir {local} is not a directory. {_OFFLINE_HINT}")
    archives = frozenset({_archive_name(params.url)}) if params.source == "url" else frozenset()
    for part in _included(local, params.include):
        if part.is_file():
            target = corpus_out / part.relative_to(local)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(part, target)
        else:
            _copy_tree(part, corpus_out / part.relative_to(local), skip=archives)
        log.info("copied %s to %s", part, corpus_out)

    if params.catalog_dir is not None:
        catalog_src = _resolve_dir(params.catalog_dir, base_dir)
        if not catalog_src.is_dir():
            raise FetchError(f"corpus.catalog_dir {catalog_src} is not a directory. {_OFFLINE_HINT}")
    else:
        catalog_src = corpus_out
    found = _collect_catalog(catalog_src, catalog_out, move=params.catalog_dir is None)
    if not found:
        raise FetchError(
            f"no catalog files ({', '.join(CATALOG_FILES)}) in {catalog_src}; set `corpus.catalog_dir` "
            "to a directory that holds them (INSPIRED links against ReDial's catalog)"
        )
    manifest = build_manifest(out_dir, params)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", "utf-8")
    log.info("fetched %d files into %s", len(manifest["files"]), out_dir)
    return manifest
