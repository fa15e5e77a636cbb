"""One finished release of the smoke profile, run against a local Prefect server, for the tests
that need one: killing and resuming runs (:mod:`test_kill_resume`) and reading the run's artifacts
back (:mod:`test_release_artifacts`). A whole run takes minutes on 2 cores, so it is made once per
session (the ``finished_release`` fixture of ``conftest.py``, one instance for every module) and
every later run in that workspace is compared with it.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml
from prefect_server import prefect_server
from workspace import GIT, make_workspace, workspace_env

from interplay.pipeline.hashing import sha256_file
from interplay.pipeline.stage_keys import load_stages

SUMMARY = re.compile(r"^(?:.*\s)?(\w+)\s{2,}(Cached|Completed|Failed|Crashed)\s+[\d.]+ s\s*$", re.M)

#: Smaller than the smoke profile where only the run's length changes: three simulation shards
#: (a kill can land between them) and six training steps with a checkpoint every two (a kill can
#: land after one).
TEST_PARAMS = {
    "simulation.num_profiles": 12,
    "simulation.shard_size": 4,
    "simulation.zero_shot.num_profiles": 2,
    "simulation.reference_dependent.num_profiles": 2,
    "finetune.max_steps": 6,
    "finetune.save_steps": 2,
}

#: Outputs whose bytes record how a run went rather than what it made; every other output of
#: every stage must be byte-identical between an interrupted and an uninterrupted run.
NOT_COMPARED = {
    "models/*/metrics.json": "training seconds and the step a run resumed from",
    "reports/validation/*": "Great Expectations' Data Docs carry the time of the validation run",
}
#: Outputs compared without one line that records how a run went, each with its reason.
MASKED = {
    "release/README.md": (
        re.compile(rb"^\| `dvc\.lock` digest .*$", re.M),
        "the card's dvc.lock digest covers the entries of models/*/metrics.json (training seconds)",
    ),
}


@dataclass
class FinishedRelease:
    work: Path
    env: dict[str, str]
    api: str
    reference: dict[str, str]  # output file -> sha256, after the uninterrupted run
    log: str


def set_params(work: Path, changes: dict[str, object]) -> None:
    params = yaml.safe_load((work / "params.yaml").read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        node = params
        *parents, key = dotted.split(".")
        for part in parents:
            node = node[part]
        node[key] = value
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


def output_hashes(work: Path) -> dict[str, str]:
    """sha256 of every file every stage writes, but those of :data:`NOT_COMPARED` (and those of
    :data:`MASKED` without their line)."""
    raw = yaml.safe_load((work / "params.yaml").read_text(encoding="utf-8"))
    hashes: dict[str, str] = {}
    for spec in load_stages(work, raw).values():
        for out in spec.outs:
            path = work / out
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            for file in files:
                rel = file.relative_to(work).as_posix()
                if rel in MASKED:
                    masked = MASKED[rel][0].sub(b"", file.read_bytes())
                    hashes[rel] = hashlib.sha256(masked).hexdigest()
                elif not any(fnmatch(rel, pattern) for pattern in NOT_COMPARED):
                    hashes[rel] = sha256_file(file)
    return hashes


def run_flow(work: Path, env: dict[str, str], *args: str) -> tuple[dict[str, str], str]:
    """The release flow to its end; its stage states and its output."""
    proc = subprocess.run(
        [sys.executable, "-m", "flows.release", *args], cwd=work, env=env,
        capture_output=True, text=True, timeout=900,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    states = dict(SUMMARY.findall(output))
    assert states, output[-4000:]
    return states, output


def kill_flow_when(work: Path, env: dict[str, str], moment: Callable[[], bool], what: str) -> None:
    """Start the release flow and SIGKILL its whole process group as soon as ``moment()`` holds."""
    log = (work.parent / "killed.log").open("a")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.release"], cwd=work, env=env,
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 600
    try:
        while not moment():
            assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before {what}"
            assert time.monotonic() < deadline, f"no {what} within 600 s"
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the flow, DVC and the stage, by process group
        proc.wait()
        log.close()


def finish_release(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, corpora: Path
) -> Iterator[FinishedRelease]:
    """The uninterrupted run; the Prefect server stays up until the generator is closed."""
    top = tmp_path_factory.mktemp("finished")
    work = make_workspace(top, repo_root, corpora)
    set_params(work, TEST_PARAMS)
    subprocess.run(GIT + ["commit", "-qam", "shorter runs"], cwd=work, check=True)
    with prefect_server(top / "server") as api:
        env = workspace_env(work, PREFECT_API_URL=api)
        states, log = run_flow(work, env)
        assert set(states.values()) == {"Completed"}, states
        yield FinishedRelease(work=work, env=env, api=api, reference=output_hashes(work), log=log)
