"""The release run's artifacts in Prefect: the evaluation table with the validation verdict, and
the release's files, read back through the Prefect client from a local server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from finished_release import FinishedRelease

from interplay.releases.artifacts import evaluation_markdown, hub_link, release_table, validation_markdown

REPORT = """# Evaluation

| System | N |
| --- | ---: |
| Interplay (ours) | 12 |

## Validation

Validation gate passed. Details: `reports/validation.json`.

## Figures

![Turns](figures/turns.png)

## Example dialogues
"""


def test_the_evaluation_artifact_is_the_report_up_to_its_figures(tmp_path: Path) -> None:
    assert evaluation_markdown(tmp_path) is None
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "evaluation.md").write_text(REPORT)
    markdown = evaluation_markdown(tmp_path)
    assert markdown is not None
    assert "| Interplay (ours) | 12 |" in markdown and "Validation gate passed." in markdown
    assert "figures/" not in markdown and "Example dialogues" not in markdown.split("\n\n")[-2]
    assert markdown.endswith("Figures and example dialogues: `reports/evaluation.md`.\n")


def test_a_failed_gate_lists_its_critical_failures(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    summary = {
        "success": False,
        "critical_failures": [
            {"dataset": "interplay", "expectation": "expect_column_values_to_not_match_regex",
             "column": "content", "description": "no end marker | notes left", "unexpected_count": 3},
        ],
    }
    (tmp_path / "reports" / "validation.json").write_text(json.dumps(summary))
    markdown = validation_markdown(tmp_path)
    assert markdown is not None and markdown.startswith("# Validation gate FAILED\n")
    assert "| interplay | expect_column_values_to_not_match_regex | content | no end marker \\| notes left | 3 |" in markdown


def test_the_hub_link_names_the_version_and_no_credentials() -> None:
    assert hub_link("https://huggingface.co/", "me/data", "v1.0.0") == "https://huggingface.co/datasets/me/data/tree/v1.0.0"
    link = hub_link("http://user:hf_secret@127.0.0.1:8080", "me/data", "v1.0.0")
    assert link == "http://127.0.0.1:8080/datasets/me/data/tree/v1.0.0"


@pytest.mark.slow
def test_a_release_run_carries_its_evaluation_and_release_artifacts(finished_release: FinishedRelease) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.settings import PREFECT_API_URL, temporary_settings

    work = finished_release.work
    with temporary_settings({PREFECT_API_URL: finished_release.api}), get_client(sync_client=True) as client:
        def latest(key: str):
            found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
            assert found, f"no '{key}' artifact on the server"
            return max(found, key=lambda artifact: artifact.created)

        evaluation, release = latest("evaluation"), latest("release")
        assert release.flow_run_id == evaluation.flow_run_id  # both on one run ...
        run = client.read_flow_run(evaluation.flow_run_id)
        assert client.read_flow(run.flow_id).name == "release"  # ... of the release flow, which completed
        assert run.state is not None and run.state.is_completed()

    assert evaluation.type == "markdown" and evaluation.data == evaluation_markdown(work)
    assert "| Interplay (ours) |" in evaluation.data and "Validation gate passed." in evaluation.data
    assert release.type == "table"
    rows = json.loads(release.data) if isinstance(release.data, str) else release.data
    assert rows == release_table(work)
    assert {row["file"] for row in rows} >= {"release/README.md"}
    assert any(row["file"].startswith("release/data/") and row["file"].endswith(".parquet") for row in rows)
