"""The release flow: every DVC stage in order, one Prefect task each.

Each task runs its stage through ``dvc repro --single-item`` so that ``dvc.lock`` records what made
every output, and is cached by the stage key of :mod:`interplay.pipeline.stage_keys`: a stage whose key
Prefect has already seen (and whose outputs are still on disk) is reported ``Cached`` and not run,
without starting ``dvc`` at all. The stages run in the order of DVC's own graph of ``dvc.yaml``
(:mod:`interplay.pipeline.stage_graph`): adding a stage is one entry there, and nothing here.

A run killed at any moment leaves a workspace the next run resumes: stages resume from their
shards and checkpoints, and a ``dvc.lock`` that DVC was writing when the kill came is put back
from the last good copy the flow keeps after every stage (:mod:`interplay.pipeline.dvc_state`), with a log
line saying so.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from interplay.config.env import apply_offline_defaults, stage_env

apply_offline_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402  (Prefect reads PREFECT_HOME when imported)
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.states import State  # noqa: E402

from interplay.config.params import load_params  # noqa: E402
from interplay.pipeline.dvc_state import keep_good_copy, recover  # noqa: E402
from interplay.pipeline.stage_graph import stage_order  # noqa: E402
from interplay.pipeline.stage_keys import StageSpec, load_stages, outputs_present, producer_of, stage_keys  # noqa: E402
from interplay.releases.artifacts import evaluation_markdown, hub_link, release_table, validation_markdown  # noqa: E402
from interplay.releases.versions import ReleaseError, ensure_releasable, record_release, tag_release  # noqa: E402

log = logging.getLogger(__name__)


class StageFailed(RuntimeError):
    """A stage's command failed; the stages after it were not run."""


@dataclass
class Plan:
    """What the flow knows before it runs anything: the stages in DVC's order, their cache keys,
    which of them DVC finds out of date (a Prefect key seen before is trusted only where DVC
    agrees), and what a killed run left for it to repair first."""

    root: Path
    stages: dict[str, StageSpec]
    keys: dict[str, str]
    stale: set[str]
    order: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    executed: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, root: Path) -> Plan:
        params = load_params(root / "params.yaml")  # fail at once, naming the key, on bad parameters
        if params.corpus.source == "url":  # the download folder is DVC's input: it must exist
            (root / params.corpus.local_dir).mkdir(parents=True, exist_ok=True)
        raw = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
        stages = load_stages(root, raw)
        repairs = recover(root)  # before any dvc command: a cut dvc.lock stops every one of them
        keep_good_copy(root)
        order = stage_order(root)
        if set(order) != set(stages):
            raise StageFailed(f"dvc.yaml: DVC's stages {sorted(order)} differ from those read {sorted(stages)}")
        return cls(
            root=root, stages=stages, keys=stage_keys(root, stages, raw), stale=_dvc_stale(root),
            order=order, repairs=repairs,
        )

    def must_run(self, name: str) -> bool:
        """Outputs missing, DVC says out of date, or an upstream stage ran in this flow."""
        spec = self.stages[name]
        upstream = {producer_of(dep, self.stages) for dep in spec.deps} - {None, name}
        return not outputs_present(self.root, spec) or name in self.stale or bool(upstream & self.executed)


def _dvc_stale(root: Path) -> set[str]:
    """Stages whose recorded inputs or outputs (dvc.lock) differ from the workspace."""
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "--json"], cwd=root, env=stage_env(root),
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise StageFailed(f"`dvc status` failed:\n{proc.stdout}{proc.stderr}")
    return {name.split(":")[-1] for name in json.loads(proc.stdout or "{}")}


def _key_from_inputs(_context: Any, parameters: dict[str, Any]) -> str:
    return parameters["key"]


@task(
    cache_key_fn=_key_from_inputs,
    persist_result=True,
    result_storage=Path(os.environ["PREFECT_HOME"]) / "results",
    task_run_name="{name}",
)
def run_stage(name: str, key: str, root: str) -> str:
    """Reproduce one DVC stage; returns its key, which Prefect stores as the cached result."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", "repro", "--single-item", name],
        cwd=root,
        env=stage_env(Path(root)),
        check=False,
    )
    if proc.returncode != 0:
        raise StageFailed(f"stage '{name}' failed (exit code {proc.returncode}); see its output above")
    log.info("stage %s done in %.1f s", name, time.monotonic() - started)
    return key


def _run(plan: Plan, name: str, summary: list[tuple[str, str, float]]) -> None:
    """One stage as a Prefect task. Transient publishing errors are retried inside the stage
    (``publish.retries``, with backoff), where they can be told apart from permanent ones."""
    started = time.monotonic()
    task = run_stage.with_options(refresh_cache=plan.must_run(name))
    state: State = task(name, plan.keys[name], str(plan.root), return_state=True)
    if not state.is_failed() and state.name != "Cached":
        plan.executed.add(name)
        keep_good_copy(plan.root)  # the lock DVC just wrote, for a later run to fall back on
    summary.append((name, state.name or state.type.value, time.monotonic() - started))
    if state.is_failed():
        raise StageFailed(f"stage '{name}' failed: {state.message}")


def _print_summary(summary: list[tuple[str, str, float]]) -> None:
    width = max((len(name) for name, _, _ in summary), default=0)
    for name, state, seconds in summary:
        print(f"{name:<{width}}  {state:<10} {seconds:7.1f} s")


def _attach_verdict(root: Path) -> None:
    """A failed gate's verdict, on the run that it stopped."""
    verdict = validation_markdown(root)
    if verdict is not None:
        create_markdown_artifact(key="validation", markdown=verdict, description="Validation gate of this run")


def _attach_release(root: Path) -> None:
    """The evaluation table with the validation verdict, and the release, on this run."""
    publish = load_params(root / "params.yaml").publish
    evaluation = evaluation_markdown(root)
    if evaluation is not None:
        create_markdown_artifact(
            key="evaluation", markdown=evaluation,
            description=f"Evaluation and validation verdict of release {publish.version}",
        )
    create_table_artifact(
        key="release", table=release_table(root),
        description=f"release/ of {publish.version} ({publish.target}): files and sha256",
    )
    if publish.target == "hub" and publish.repo_id:
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
        create_link_artifact(
            key="release-hub", link=hub_link(endpoint, publish.repo_id, publish.version),
            link_text=f"{publish.repo_id} {publish.version}", description="The release on the Hub",
        )


def check_release(root: Path, params_file: str = "params.yaml", tag: bool = False) -> None:
    """The refusals a release makes before any stage runs: a params file other than params.yaml
    (DVC stages read that one), bad parameters, and with ``tag`` a version already tagged or
    uncommitted code. Callers run it before the flow starts, so that a refusal is one line and
    not a Prefect traceback around it; the flow runs it again for callers that did not."""
    if params_file != "params.yaml":
        raise ReleaseError("the release flow reads params.yaml; copy a profile over it instead")
    params = load_params(root / params_file)  # fail at once, naming the key, on bad parameters
    if tag:
        ensure_releasable(root, params.publish.version)


@flow(name="release", log_prints=True)
def release(
    params_file: str = "params.yaml", root: str | None = None, tag: bool = False
) -> list[tuple[str, str, float]]:
    """Run every stage in DVC's order; with ``tag``, make it a release. The run carries the
    evaluation table, the validation verdict and the release's files as Prefect artifacts.

    Tagging records the dataset hashes, pushes the outputs to the DVC remote, commits
    ``dvc.lock`` and tags it with ``publish.version`` (the version the Hub tag carries too).
    """
    workspace = Path(root or Path.cwd()).resolve()
    check_release(workspace, params_file, tag)
    plan = Plan.load(workspace)
    for repair in plan.repairs:
        get_run_logger().warning(repair)
    summary: list[tuple[str, str, float]] = []
    try:
        for name in plan.order:
            _run(plan, name, summary)
    except StageFailed:
        if summary and summary[-1][0] == "validate":
            _attach_verdict(plan.root)
        raise
    finally:
        _print_summary(summary)
    _attach_release(plan.root)
    if tag:
        publish = load_params(plan.root / params_file).publish
        record_release(plan.root, publish.version)
        tag_release(plan.root, publish.version)
        hub = " and the Hub tag" if publish.target == "hub" else ""
        print(f"released {publish.version}: git tag, dvc.lock, DVC remote{hub}")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Interplay release flow.")
    parser.add_argument("--tag", action="store_true", help="make a release: tag, commit dvc.lock, dvc push")
    args = parser.parse_args(argv)
    try:
        check_release(Path.cwd(), tag=args.tag)
        release(tag=args.tag)
    except (StageFailed, ReleaseError, ValueError) as exc:
        print(f"release failed: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
