"""Errors of the human-evaluation kit a user can act on: each names the file, the record (a row, a
task) and the field at fault, in one line."""

from __future__ import annotations

from pathlib import Path


class HumanEvalError(ValueError):
    """An input file of ``interplay human-eval`` that cannot be used as it is."""

    def __init__(self, path: str | Path, record: str, field: str, detail: str) -> None:
        self.path, self.record, self.field, self.detail = str(path), record, field, detail
        super().__init__(f"{self.path}: {record}: field '{field}': {detail}")


class RecordError(ValueError):
    """The same fault found by a pure function, which does not know the file: :meth:`at` names it."""

    def __init__(self, record: str, field: str, detail: str) -> None:
        self.record, self.field, self.detail = record, field, detail
        super().__init__(f"{record}: field '{field}': {detail}")

    def at(self, path: str | Path) -> HumanEvalError:
        return HumanEvalError(path, self.record, self.field, self.detail)
