"""Releases of any size: several dialogues per seed profile, profiles of every split, progress."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from test_simulation_stage import _params, workspace  # noqa: F401  (the tiny workspace fixture)

from interplay.config.params import load_params
from interplay.simulation import shards
from interplay.simulation.progress import Progress, describe
from interplay.simulation.run import select_profiles
from interplay.simulation.samples import Sample, expand
from interplay.simulation.stage import WORK, params_hash, simulate_pairs

REPO = Path(__file__).resolve().parents[2]


def test_several_samples_per_profile_are_dialogues_of_their_own(workspace: Path) -> None:  # noqa: F811
    out = simulate_pairs(_params(samples_per_profile=3), workspace, "interplay", 2, Path("samples.parquet"))
    rows = pq.read_table(out).to_pylist()
    profiles = {r["profile_id"] for r in rows}
    assert len(rows) == 6 and len(profiles) == 2
    assert sorted(r["dialogue_id"] for r in rows) == sorted(
        f"interplay-{p}{suffix}" for p in profiles for suffix in ("", "-s1", "-s2")
    )
    for profile in profiles:  # each sample draws its own dialogue
        texts = [json.dumps(r["messages"]) for r in rows if r["profile_id"] == profile]
        assert len(set(texts)) == 3
    one = pq.read_table(simulate_pairs(_params(), workspace, "interplay", 2, Path("one.parquet"))).to_pylist()
    assert {r["dialogue_id"] for r in one} == {f"interplay-{p}" for p in profiles}  # ids as before samples
    assert rows[0]["params_hash"] != one[0]["params_hash"]


def test_samples_resume_to_the_same_bytes(workspace: Path) -> None:  # noqa: F811
    params = _params(samples_per_profile=2, shard_size=3)
    runs = workspace / WORK / "interplay"
    before = set(runs.iterdir()) if runs.is_dir() else set()
    first = simulate_pairs(params, workspace, "interplay", 3, Path("resume-a.parquet")).read_bytes()
    (work,) = set(runs.iterdir()) - before  # this run's shards: 6 dialogues, 2 shards
    shards.shard_path(work, 1).unlink()  # as if killed before the second shard was written
    again = simulate_pairs(params, workspace, "interplay", 3, Path("resume-b.parquet")).read_bytes()
    assert again == first


def test_one_sample_leaves_the_parameters_hash_as_it_was() -> None:
    default = _params()
    assert params_hash(default, "interplay") == params_hash(_params(samples_per_profile=1), "interplay")
    assert params_hash(default, "interplay") != params_hash(_params(samples_per_profile=2), "interplay")
    assert params_hash(default, "zero_shot") == params_hash(_params(samples_per_profile=2), "zero_shot")


def test_samples_of_one_profile_spread_over_the_run() -> None:
    from test_simulation_stage import _profiles

    from interplay.preprocess.profiles import Profile

    profiles = [Profile.from_row(row) for row in _profiles(40)]
    samples = expand(profiles, 5, seed=13)
    assert len(samples) == 200 and len({s.key for s in samples}) == 200
    assert expand(profiles, 5, seed=13) == samples  # deterministic
    assert [s.profile for s in expand(profiles, 1, seed=13)] == select_profiles(profiles, ["test"], None, 13)
    first_shard = samples[:32]
    assert len({s.profile.profile_id for s in first_shard}) > 16  # not 32 / 5 profiles side by side
    assert Sample(profiles[0], 2).key == f"{profiles[0].profile_id}-s2"


def test_progress_says_done_total_rate_and_time_left(caplog: pytest.LogCaptureFixture) -> None:
    assert describe("interplay", 0, 100, 0, 0.0) == "simulate interplay: 0 / 100 dialogues (0.0%)"
    assert describe("interplay", 2500, 10_000, 500, 1800.0) == (
        "simulate interplay: 2,500 / 10,000 dialogues (25.0%), 1,000 dialogues/h, about 7 h 30 min left"
    )
    now = [0.0]
    caplog.set_level(logging.INFO, logger="interplay.simulation.progress")
    plan = [[1, 2], [3, 4], [5, 6], [7, 8]]
    progress = Progress.of_plan("interplay", plan, pending=[1, 2, 3], every_s=60, clock=lambda: now[0])
    assert (progress.done, progress.total) == (2, 8)  # a resumed run: the first shard was done
    progress.report()
    for at in (10, 20, 80, 90, 100, 110):  # one dialogue finishes at each of these seconds
        now[0] = at
        progress.advance()
    assert [r.getMessage() for r in caplog.records] == [
        "simulate interplay: 2 / 8 dialogues (25.0%)",
        "simulate interplay: 5 / 8 dialogues (62.5%), 135 dialogues/h, about 1 min 20 s left",
        "simulate interplay: 8 / 8 dialogues (100.0%), 196 dialogues/h, done",
    ]


def test_release_10k_profile_makes_ten_thousand_dialogues_from_every_split() -> None:
    profile = load_params(REPO / "profiles" / "release-10k.yaml")
    simulation = profile.simulation
    assert set(simulation.profile_splits) == {"train", "validation", "test"}
    assert simulation.num_profiles * simulation.samples_per_profile == 10_000
    available = json.loads((REPO / "reports" / "preprocess.json").read_text())["profiles"]["total"]
    assert available >= simulation.num_profiles  # ReDial's profiles here suffice
    changed = {"profile_splits", "num_profiles", "samples_per_profile", "shard_size"}  # the release's scale
    default = yaml.safe_load((REPO / "params.yaml").read_text())
    raw = yaml.safe_load((REPO / "profiles" / "release-10k.yaml").read_text())
    assert {k: v for k, v in raw["simulation"].items() if k not in changed} == {
        k: v for k, v in default["simulation"].items() if k not in changed
    }
    others = {k: v for k, v in default.items() if k != "simulation"}
    assert {k: v for k, v in raw.items() if k != "simulation"} == others
