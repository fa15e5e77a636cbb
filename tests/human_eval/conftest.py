"""A workspace holding Interplay's and the reference-dependent baseline's dialogues, as the
simulate and baselines stages write them (:data:`~interplay.dialogue.rows.DIALOGUE_SCHEMA`), and a
real Label Studio server (:mod:`label_studio_server`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dialogue_fixtures import dialogue
from label_studio_server import DEFAULT_VENV, LabelStudio, label_studio, label_studio_executable

from interplay.dialogue.rows import DIALOGUE_SCHEMA
from interplay.simulation.records import GENERATED_PATHS

#: Each system's own way of talking, so a test can tell from a task's text which side is which.
STYLE = {"interplay": "hey, any {n} comedy?", "reference_dependent": "Hello. I am looking for film number {n}."}


def system_rows(source: str, profiles: list[str]) -> list[dict[str, Any]]:
    rows = []
    for profile in profiles:
        n = profile.rsplit("-", 1)[-1]
        row = dialogue(
            f"{source}-{profile}",
            [("user", STYLE[source].format(n=n)), ("recommender", f"Try Beerfest (2006), number {n}."),
             ("user", "Thanks, bye.")],
            source=source,
        )
        row["profile_id"] = profile
        row["preference_summary"] = f"You love goofy comedies ({n})."
        rows.append(row)
    return rows


def write_system(root: Path, source: str, rows: list[dict[str, Any]]) -> Path:
    path = root / GENERATED_PATHS[source]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=DIALOGUE_SCHEMA), path)
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """Profiles 00-39 for Interplay, 02-41 for the baseline (38 shared), the baseline's 05 empty."""
    ours = system_rows("interplay", [f"profile-{i:02d}" for i in range(40)])
    theirs = system_rows("reference_dependent", [f"profile-{i:02d}" for i in range(2, 42)])
    theirs[3]["messages"] = []  # profile-05: nothing to judge
    write_system(tmp_path, "interplay", ours)
    write_system(tmp_path, "reference_dependent", theirs)
    return tmp_path


@pytest.fixture(scope="session")
def label_studio_server(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Iterator[LabelStudio]:
    """One Label Studio for the session, from its own virtual environment; skips when there is none."""
    executable = label_studio_executable(repo_root)
    if executable is None:
        pytest.skip(
            f"Label Studio is not installed: no bin/label-studio in $INTERPLAY_LABEL_STUDIO_VENV or {DEFAULT_VENV}/ "
            "(.ci/run installs it; README, \"Human evaluation\", step 1)"
        )
    with label_studio(executable, tmp_path_factory.mktemp("label-studio")) as server:
        yield server
