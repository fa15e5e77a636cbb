"""Corpus name -> reader. Adding a corpus is one reader module plus one entry here.

A reader takes a raw file, the item catalog and the title-match threshold, and yields one
:class:`~interplay.corpus.schema.Dialogue` or :class:`~interplay.errors.BadRecordError` per record
(errors are yielded, not raised, so the caller applies ``preprocess.on_bad_record``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from interplay.corpus import inspired, redial
from interplay.corpus.catalog import Catalog
from interplay.corpus.schema import Dialogue
from interplay.errors import BadRecordError

ReadFn = Callable[[Path, Catalog, float], Iterator[Dialogue | BadRecordError]]
#: Why a file matching the patterns is not a dialogue file, or None when it is one.
RejectFn = Callable[[Path], str | None]


def _every_file(_path: Path) -> str | None:
    return None


@dataclass(frozen=True)
class CorpusFiles:
    """The dialogue files of a corpus folder, and the files matching its patterns left unread."""

    dialogues: list[Path]
    #: Path relative to the corpus folder -> why it was not read.
    ignored: dict[str, str]


@dataclass(frozen=True)
class CorpusReader:
    name: str
    #: Glob patterns (searched recursively) of the dialogue files in a raw corpus directory.
    patterns: tuple[str, ...]
    read: ReadFn
    #: Tells the dialogue files from other files the patterns match (INSPIRED's movie database).
    reject: RejectFn = _every_file

    def files(self, corpus_dir: Path) -> CorpusFiles:
        """The corpus files under ``corpus_dir``, in a stable order, and those that are not dialogues."""
        found = {p for pattern in self.patterns for p in corpus_dir.rglob(pattern) if p.is_file()}
        dialogues, ignored = [], {}
        for path in sorted(found, key=lambda p: p.relative_to(corpus_dir).as_posix()):
            reason = self.reject(path)
            if reason is None:
                dialogues.append(path)
            else:
                ignored[path.relative_to(corpus_dir).as_posix()] = reason
        return CorpusFiles(dialogues, ignored)


READERS: dict[str, CorpusReader] = {
    "redial": CorpusReader("redial", redial.PATTERNS, redial.read_redial),
    "inspired": CorpusReader("inspired", inspired.PATTERNS, inspired.read_inspired, inspired.not_a_dialogue_file),
}


def get_reader(name: str) -> CorpusReader:
    try:
        return READERS[name]
    except KeyError:
        raise ValueError(f"unknown corpus {name!r}; known: {', '.join(sorted(READERS))}") from None
