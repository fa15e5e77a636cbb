"""benchmarks/bench_release.py: what it reads from a `make run` log and from /proc."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_release", ROOT / "benchmarks" / "bench_release.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

FIRST = """\
03:09:38.152 | INFO    | Task run 'finetune_script' - Finished in state Completed()
03:19:32.672 | INFO    | Flow run 'yellow-spoonbill' - fetch                 Completed      1.9 s
03:19:32.674 | INFO    | Flow run 'yellow-spoonbill' - finetune_user         Completed    376.1 s
03:19:32.675 | INFO    | Flow run 'yellow-spoonbill' - simulate              Completed    191.0 s
03:19:32.675 | INFO    | Flow run 'yellow-spoonbill' - baselines             Completed    375.1 s
03:19:32.676 | INFO    | Flow run 'yellow-spoonbill' - evaluate              Completed     17.3 s
"""
SECOND = """\
06:40:00.100 | INFO    | Flow run 'mauve-owl' - fetch                 Cached         0.4 s
06:40:00.100 | INFO    | Flow run 'mauve-owl' - finetune_user         Cached         0.5 s
06:40:00.100 | INFO    | Flow run 'mauve-owl' - simulate              Completed   5400.0 s
06:40:00.100 | INFO    | Flow run 'mauve-owl' - baselines             Cached         0.6 s
06:40:00.100 | INFO    | Flow run 'mauve-owl' - evaluate              Completed     60.0 s
"""


def test_stage_times_come_from_the_flow_summary() -> None:
    stages = bench.stage_summary(FIRST)
    assert list(stages) == ["fetch", "finetune_user", "simulate", "baselines", "evaluate"]
    assert stages["finetune_user"] == {"state": "Completed", "seconds": 376.1}


def test_a_cached_stage_takes_its_time_from_the_run_that_made_it() -> None:
    stages = bench.merged_stages([("first.log", FIRST), ("second.log", SECOND)])
    assert stages["finetune_user"] == {"state": "Completed", "seconds": 376.1, "log": "first.log"}
    assert stages["simulate"] == {"state": "Completed", "seconds": 5400.0, "log": "second.log"}
    assert stages["baselines"]["log"] == "first.log"


def test_only_the_stages_that_grow_with_the_release_are_extrapolated() -> None:
    stages = bench.merged_stages([("first.log", FIRST), ("second.log", SECOND)])
    figures = bench.release_figures(stages, dialogues=2000)
    fixed = 1.9 + 376.1 + 375.1
    assert figures["simulate_dialogues_per_hour"] == pytest.approx(2000 / 5400 * 3600, abs=0.1)
    assert figures["extrapolated_hours_for_10000"] == pytest.approx((fixed + 5 * (5400 + 60)) / 3600, abs=0.01)
    assert figures["goal_met"] is True
    assert bench.release_figures(stages, dialogues=0)["goal_met"] is False


def test_memory_is_the_highest_peak_of_each_stage() -> None:
    samples = [
        {"t": 0.0, "stage": "simulate", "rss_kib": 1024 * 1900, "hwm_kib": 1024 * 3600},
        {"t": 60.0, "stage": "simulate", "rss_kib": 1024 * 2000, "hwm_kib": 1024 * 3700},
        {"t": 5.0, "stage": "evaluate", "rss_kib": 1024 * 800, "hwm_kib": 1024 * 900},
    ]
    memory = bench.peak_memory(samples)
    assert memory["simulate"] == {"peak_rss_mib": 3700.0, "rss_first_sample_mib": 1900.0,
                                  "rss_last_sample_mib": 2000.0, "samples": 2}
    assert bench.memory_timeline(samples, "simulate") == [[0.0, 1900.0, 3600.0], [1.0, 2000.0, 3700.0]]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_the_monitor_finds_the_stage_processes_of_its_clone_only(tmp_path: Path) -> None:
    clone, elsewhere = tmp_path / "clone", tmp_path / "elsewhere"
    for folder in (clone, elsewhere):
        (folder / "bin").mkdir(parents=True)
        script = folder / "bin" / "interplay"
        script.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
        script.chmod(0o755)
    mine = subprocess.Popen([sys.executable, str(clone / "bin" / "interplay"), "simulate"], cwd=clone)
    other = subprocess.Popen([sys.executable, str(elsewhere / "bin" / "interplay"), "evaluate"], cwd=elsewhere)
    samples, stop = tmp_path / "memory.jsonl", threading.Event()
    try:
        watcher = threading.Thread(target=bench.monitor, args=(clone.resolve(), samples, stop, 0.1))
        watcher.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (samples.exists() and samples.read_text().strip()):
            time.sleep(0.1)
        stop.set()
        watcher.join()
    finally:
        for process in (mine, other):
            process.kill()
            process.wait()
    rows = bench.read_samples(samples)
    assert rows and {row["pid"] for row in rows} == {mine.pid} and rows[0]["stage"] == "simulate"
    assert rows[0]["hwm_kib"] >= rows[0]["rss_kib"] > 0
    assert os.getpid() not in {row["pid"] for row in rows}


def test_overrides_set_existing_keys_only() -> None:
    params = {"simulation": {"num_profiles": 64, "user": {"temperature": 0.7}}}
    bench._override(params, "simulation.num_profiles=400")
    bench._override(params, "simulation.user.temperature=0.9")
    assert params == {"simulation": {"num_profiles": 400, "user": {"temperature": 0.9}}}
    with pytest.raises(SystemExit, match="no key 'simulation.num_profile'"):
        bench._override(params, "simulation.num_profile=400")
    with pytest.raises(SystemExit, match="expected KEY=VALUE"):
        bench._override(params, "simulation.num_profiles")


def test_a_run_again_keeps_the_earlier_logs_and_samples_its_own_memory(tmp_path: Path) -> None:
    clone = tmp_path / "big"
    with pytest.raises(SystemExit, match="no clone there to run again"):
        bench.prepare(clone, None, [], again=True)
    assert bench.run_files(clone) == ([tmp_path / "big.make-run.log"], tmp_path / "big.memory.jsonl")
    (tmp_path / "big.make-run.log").write_text(FIRST)
    logs, samples = bench.run_files(clone)
    assert logs == [tmp_path / "big.make-run.log", tmp_path / "big.make-run-2.log"]
    assert samples == tmp_path / "big.memory-2.jsonl"
    (tmp_path / "big.make-run-2.log").write_text(SECOND)
    assert bench.run_files(clone)[0][-1] == tmp_path / "big.make-run-3.log"
