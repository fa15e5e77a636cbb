"""What made a benchmark's figures: the commit they were measured at, written into its JSON so that
a figure quoted from it can name the commit and command (issue 30, item 6)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def current_commit(root: Path) -> str | None:
    """The short hash of HEAD, ``+dirty`` when tracked files differ from it; None outside git."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=False)
    if head.returncode != 0:
        return None
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                            capture_output=True, text=True, check=False)
    return head.stdout.strip() + ("+dirty" if status.stdout.strip() else "")
