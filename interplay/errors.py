"""Errors a user can act on: each names the file, the line (or record) and the field at fault."""

from __future__ import annotations

from pathlib import Path


class BadRecordError(ValueError):
    """A record of an input file that cannot be used as it is.

    ``reason`` is a short stable slug (``malformed_json``, ``missing_field``, ...) under which the
    record is counted when ``preprocess.on_bad_record`` is ``skip``.
    """

    def __init__(self, path: str | Path, line: int, field: str, reason: str, detail: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = reason
        self.detail = detail
        super().__init__(f"{self.path}:{line}: field '{field}': {detail} ({reason})")

    def at(self, path: str | Path) -> BadRecordError:
        """The same error naming ``path``: the user's file rather than the workspace's copy of it."""
        return BadRecordError(path, self.line, self.field, self.reason, self.detail)


class FetchError(RuntimeError):
    """The corpus could not be obtained; the message says how to use a local copy instead."""
