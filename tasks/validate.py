"""Stage ``validate``: Great Expectations suites over the generated dialogues (the release gate).

Writes ``reports/validation.json`` and the Data Docs under ``reports/validation/``; raises
:class:`interplay.validation.ValidationFailed` (exit code 2 in the CLI) when a critical
expectation fails on the Interplay dialogues.
"""

from __future__ import annotations

from pathlib import Path

from interplay.config.params import Params


def run(params: Params, root: Path) -> None:
    from interplay.validation.runner import run_validation

    run_validation(params, root)
