"""What a release run shows in the orchestrator's UI, so that a scheduled refresh can be judged
from Prefect without opening files: the evaluation table with the validation verdict, and the
release itself (its files and hashes, and where a Hub push put it).

Everything is taken from what the stages wrote (``reports/evaluation.md``,
``reports/validation.json``, ``release/``), never recomputed, so the UI shows exactly what the
report and the release hold. The functions here only render; :mod:`flows.release` attaches them
to its run as Prefect artifacts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from interplay.pipeline.hashing import sha256_file

EVALUATION_REPORT = Path("reports/evaluation.md")
VALIDATION_SUMMARY = Path("reports/validation.json")
RELEASE_DIR = Path("release")
#: The report's sections from here on (figures, examples) are images and long dialogues, which
#: the UI cannot show well; the tables and the verdict come before it.
_CUT_AT = "## Figures"


def evaluation_markdown(root: Path) -> str | None:
    """The report's tables, realism notes and validation verdict (None without a report)."""
    path = root / EVALUATION_REPORT
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    head, _, _ = text.partition(f"\n{_CUT_AT}\n")
    return head.rstrip() + f"\n\nFigures and example dialogues: `{EVALUATION_REPORT.as_posix()}`.\n"


def validation_markdown(root: Path) -> str | None:
    """A failed gate's verdict and its critical failures (None without a summary)."""
    path = root / VALIDATION_SUMMARY
    if not path.is_file():
        return None
    summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    verdict = "passed" if summary.get("success") else "FAILED"
    lines = [f"# Validation gate {verdict}", ""]
    failures = summary.get("critical_failures") or []
    if failures:
        lines += ["| Dataset | Expectation | Column | What it checks | Unexpected |", "| --- | --- | --- | --- | ---: |"]
        for failure in failures:
            cells = [failure.get(k) for k in ("dataset", "expectation", "column", "description", "unexpected_count")]
            lines.append("| " + " | ".join("–" if c is None else str(c).replace("|", "\\|") for c in cells) + " |")
        lines.append("")
    lines.append(f"Details: `{VALIDATION_SUMMARY.as_posix()}`.")
    return "\n".join(lines) + "\n"


def release_table(root: Path) -> list[dict[str, Any]]:
    """One row per file of ``release/``: its path, size and sha256 (the card included)."""
    folder = root / RELEASE_DIR
    return [
        {"file": path.relative_to(root).as_posix(), "bytes": path.stat().st_size, "sha256": sha256_file(path)}
        for path in sorted(p for p in folder.rglob("*") if p.is_file())
    ]


def hub_link(endpoint: str, repo_id: str, version: str) -> str:
    """The pushed version's page on the Hub; credentials in the endpoint URL are left out."""
    parts = urlsplit(endpoint.rstrip("/"))
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"{parts._replace(netloc=netloc).geturl()}/datasets/{repo_id}/tree/{version}"
