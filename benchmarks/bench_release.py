"""A whole release as a user runs it: `make run` in a fresh clone, timed stage by stage, with the
peak memory of every stage's process, the dialogues made and their rate; written to
``reports/bench_release.json`` under a label (issue 26: the default run's 25-minute budget, and a
2,000-dialogue release extrapolated to 10,000).

    python benchmarks/bench_release.py run --clone /work/fresh --label default
    python benchmarks/bench_release.py run --clone /work/big --label release-2k \\
        --set simulation.num_profiles=400 --set simulation.samples_per_profile=5
    python benchmarks/bench_release.py run --clone /work/fresh --label release-1k --again \\
        --profile profiles/release-10k.yaml --set simulation.num_profiles=205

``run`` clones this repository into ``--clone`` (which must not exist), applies ``--profile`` (a
params file copied over ``params.yaml``) and ``--set`` overrides, and runs ``make run`` there while
a monitor reads ``/proc`` every few seconds: the resident and peak (``VmHWM``) memory of each
``interplay <stage>`` process running in the clone. Stage times are the flow's own summary (the
``<stage> <state> <seconds> s`` lines it prints at the end).

``run --again`` runs ``make run`` once more in a clone that ``run`` made, after applying the
profile and overrides there (a larger release on the models the first run trained): a stage it
finds cached keeps the time of the run that made it (that run's log is named), and the memory
figures are this run's alone.

``summarize`` reads the logs and monitor files of runs already made, for a run started by hand or
one that reused an earlier run's stages: each stage's time is taken from the last log in which it
ran (not ``Cached``), and that log is named in the report.

Only wall time on a machine nothing else used compares, and only with runs of the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from provenance import current_commit

OUT = ROOT / "reports" / "bench_release.json"
#: The goal of issue 26: 10,000 dialogues within 8 hours on 2 cores.
TARGET_DIALOGUES = 10_000
TARGET_HOURS = 8.0
#: Stages whose work grows with the number of dialogues released (the rest do not: training, and
#: the baselines, which run on their own fixed number of profiles).
PER_DIALOGUE_STAGES = ("simulate", "validate", "evaluate", "publish")
_SUMMARY_LINE = re.compile(r"Flow run '[^']*' - (?P<stage>\w+)\s+(?P<state>\w+)\s+(?P<seconds>[\d.]+) s\s*$")


def stage_summary(log_text: str) -> dict[str, dict[str, Any]]:
    """The flow's closing summary: ``{stage: {"state", "seconds"}}`` in the order it ran."""
    stages: dict[str, dict[str, Any]] = {}
    for line in log_text.splitlines():
        match = _SUMMARY_LINE.search(line)
        if match:
            stages[match["stage"]] = {"state": match["state"], "seconds": float(match["seconds"])}
    return stages


def merged_stages(logs: Sequence[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """Each stage's time from the last of ``(name, log text)`` in which it ran (not ``Cached``);
    a stage no log ran keeps its last state, with its (cache-check) seconds."""
    merged: dict[str, dict[str, Any]] = {}
    for name, text in logs:
        for stage, entry in stage_summary(text).items():
            if entry["state"] != "Cached" or stage not in merged:
                merged[stage] = {**entry, "log": name}
    return merged


def peak_memory(samples: Iterable[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per stage: the highest peak RSS (``VmHWM``) any of its processes reached, in MiB, and the
    resident memory at the first and the last sample (growth with the work done shows there)."""
    by_stage: dict[str, list[dict[str, Any]]] = {}
    for sample in samples:
        by_stage.setdefault(sample["stage"], []).append(sample)
    return {
        stage: {
            "peak_rss_mib": round(max(s["hwm_kib"] for s in rows) / 1024, 1),
            "rss_first_sample_mib": round(rows[0]["rss_kib"] / 1024, 1),
            "rss_last_sample_mib": round(rows[-1]["rss_kib"] / 1024, 1),
            "samples": len(rows),
        }
        for stage, rows in by_stage.items()
    }


def memory_timeline(samples: Sequence[dict[str, Any]], stage: str, points: int = 12) -> list[list[float]]:
    """``[minutes into the stage, RSS MiB, peak RSS so far MiB]`` at about ``points`` evenly spaced
    samples of ``stage``: memory that grows with the work done shows in the peak column."""
    rows = [s for s in samples if s["stage"] == stage]
    if not rows:
        return []
    step = max(1, len(rows) // points)
    chosen = rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else [])
    return [[round((s["t"] - rows[0]["t"]) / 60, 1), round(s["rss_kib"] / 1024, 1), round(s["hwm_kib"] / 1024, 1)]
            for s in chosen]


def release_figures(stages: dict[str, dict[str, Any]], dialogues: int) -> dict[str, Any]:
    """Wall time, the simulate stage's rate and a linear extrapolation to :data:`TARGET_DIALOGUES`:
    the stages of :data:`PER_DIALOGUE_STAGES` scaled by the number of dialogues, the rest as they
    were."""
    seconds = sum(entry["seconds"] for entry in stages.values())
    per_dialogue = sum(stages[s]["seconds"] for s in PER_DIALOGUE_STAGES if s in stages)
    simulate = stages.get("simulate", {}).get("seconds")
    scale = TARGET_DIALOGUES / dialogues if dialogues else None
    extrapolated = seconds - per_dialogue + per_dialogue * scale if scale else None
    return {
        "dialogues": dialogues,
        "stages_seconds": round(seconds, 1),
        "stages_minutes": round(seconds / 60, 2),
        "simulate_dialogues_per_hour": round(dialogues / simulate * 3600, 1) if simulate and dialogues else None,
        "release_dialogues_per_hour": round(dialogues / seconds * 3600, 1) if seconds and dialogues else None,
        f"extrapolated_hours_for_{TARGET_DIALOGUES}": round(extrapolated / 3600, 2) if extrapolated else None,
        "extrapolation": f"stages {', '.join(PER_DIALOGUE_STAGES)} scaled linearly by {TARGET_DIALOGUES} / "
                         "dialogues; the others (training, baselines on their fixed profiles) as measured",
        "goal": f"{TARGET_DIALOGUES} dialogues within {TARGET_HOURS:g} hours on 2 cores",
        "goal_met": extrapolated is not None and extrapolated / 3600 <= TARGET_HOURS,
    }


def read_samples(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def count_dialogues(clone: Path) -> dict[str, Any]:
    """Rows and outcomes of the clone's simulated dialogues."""
    import pyarrow.parquet as pq

    table = pq.read_table(clone / "data" / "simulated" / "dialogues.parquet", columns=["outcome"])
    outcomes = Counter(table.column("outcome").to_pylist())
    return {"dialogues": table.num_rows, "outcomes": dict(sorted(outcomes.items()))}


def _stage_processes(clone: Path) -> Iterable[dict[str, Any]]:
    """The ``interplay <stage>`` processes whose working directory is ``clone``, with their memory."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
            if len(argv) < 2 or not any(a.endswith("/interplay") for a in argv[:2]):
                continue
            if Path(os.readlink(f"/proc/{pid}/cwd")) != clone:
                continue
            status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                          if ":" in line)
        except (OSError, ValueError):
            continue  # it ended while being read
        yield {"pid": int(pid), "stage": argv[-1], "rss_kib": int(status["VmRSS"].split()[0]),
               "hwm_kib": int(status["VmHWM"].split()[0])}


def monitor(clone: Path, out: Path, stop: threading.Event, every_s: float = 5.0) -> None:
    """Append a sample of every stage process to ``out`` (JSON lines) until ``stop`` is set."""
    with out.open("a", encoding="utf-8") as sink:
        while not stop.wait(every_s):
            for sample in _stage_processes(clone):
                sink.write(json.dumps({"t": time.time(), **sample}) + "\n")
            sink.flush()


def _override(params: dict[str, Any], assignment: str) -> None:
    import yaml

    key, sep, value = assignment.partition("=")
    if not sep:
        raise SystemExit(f"--set {assignment!r}: expected KEY=VALUE (e.g. simulation.num_profiles=400)")
    *parents, leaf = key.split(".")
    node = params
    for part in parents:
        if not isinstance(node.get(part), dict):
            raise SystemExit(f"--set {assignment!r}: params.yaml has no section '{part}'")
        node = node[part]
    if leaf not in node:
        raise SystemExit(f"--set {assignment!r}: params.yaml has no key '{key}'")
    node[leaf] = yaml.safe_load(value)


def prepare(clone: Path, profile: Path | None, assignments: Sequence[str], again: bool = False) -> None:
    """A fresh clone of this repository at HEAD (``again``: the clone as an earlier run left it),
    with the profile and overrides applied."""
    import yaml

    if again and not (clone / ".git").is_dir():
        raise SystemExit(f"--clone {clone}: no clone there to run again (`run` makes one)")
    if not again and clone.exists():
        raise SystemExit(f"--clone {clone}: exists; the benchmark measures a fresh clone (--again reuses it)")
    if not again:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    params_file = clone / "params.yaml"
    if profile is not None:
        params_file.write_text(profile.read_text(encoding="utf-8"), encoding="utf-8")
    if assignments:
        params = yaml.safe_load(params_file.read_text(encoding="utf-8"))
        for assignment in assignments:
            _override(params, assignment)
        params_file.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


def run_files(clone: Path) -> tuple[list[Path], Path]:
    """The logs of the runs made in ``clone`` so far, then this run's (new) log, and its memory
    samples' file: ``<clone>.make-run.log`` for the first run, ``<clone>.make-run-2.log``, ... after."""
    logs = [clone.parent / f"{clone.name}.make-run.log"]
    while logs[-1].exists():
        logs.append(clone.parent / f"{clone.name}.make-run-{len(logs) + 1}.log")
    suffix = "" if len(logs) == 1 else f"-{len(logs)}"
    return logs, clone.parent / f"{clone.name}.memory{suffix}.jsonl"


def run(args: argparse.Namespace) -> dict[str, Any]:
    clone = args.clone.resolve()
    prepare(clone, args.profile, args.set or [], again=args.again)
    logs, samples = run_files(clone)
    log = logs[-1]
    commit = current_commit(clone)  # before `make run` rewrites dvc.lock and reports/ (+dirty: params edited)
    stop = threading.Event()
    watcher = threading.Thread(target=monitor, args=(clone, samples, stop), daemon=True)
    watcher.start()
    started = time.time()
    with log.open("w", encoding="utf-8") as sink:
        code = subprocess.run(["make", "run"], cwd=clone, stdout=sink, stderr=subprocess.STDOUT, check=False).returncode
    wall = time.time() - started
    stop.set()
    watcher.join()
    report = summary(logs, samples, clone, wall, commit)
    report["make_run_exit_code"] = code
    return report


def summary(logs: Sequence[Path], samples: Path, clone: Path, wall_s: float | None,
            commit: str | None = None) -> dict[str, Any]:
    """The report of a finished run from its logs, monitor samples and clone (``commit``: what the
    clone held when the run started; by default what it holds now)."""
    sys.path.insert(0, str(ROOT))
    from interplay.models.precision import cpu_description

    stages = merged_stages([(str(path), path.read_text(encoding="utf-8", errors="replace")) for path in logs])
    made = count_dialogues(clone)
    memory = read_samples(samples) if samples.exists() else []
    return {
        "commit": commit or current_commit(clone),
        "cpu_description": cpu_description(),
        "make_run_wall_seconds": round(wall_s, 1) if wall_s else None,
        "make_run_minutes": round(wall_s / 60, 2) if wall_s else None,
        "stages": stages,
        "outcomes": made["outcomes"],
        "figures": release_figures(stages, made["dialogues"]),
        "memory": peak_memory(memory),
        "simulate_memory_timeline": {"columns": ["minutes into the stage", "RSS MiB", "peak RSS so far MiB"],
                                     "points": memory_timeline(memory, "simulate")},
    }


def write(label: str, report: dict[str, Any], out: Path) -> None:
    """Merge ``report`` into ``out`` under ``label`` (other labels are kept)."""
    existing = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    existing[label] = report
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(existing, indent=2) + "\n", encoding="utf-8")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "summarize"):
        sub = commands.add_parser(name)
        sub.add_argument("--clone", type=Path, required=True, help="the clone the release ran (run: is made) in")
        sub.add_argument("--label", required=True, help="key of this run in the JSON (e.g. default, release-2k)")
        sub.add_argument("--note", default="", help="how the machine was shared, what was reused")
        sub.add_argument("--out", type=Path, default=OUT)
    commands.choices["run"].add_argument("--profile", type=Path, help="a params file copied over params.yaml")
    commands.choices["run"].add_argument("--set", action="append", metavar="KEY=VALUE",
                                         help="a params.yaml value, by dotted key; repeatable")
    commands.choices["run"].add_argument("--again", action="store_true",
                                         help="run again in the clone an earlier `run` made (its stages may be cached)")
    summarize = commands.choices["summarize"]
    summarize.add_argument("--log", type=Path, action="append", required=True,
                           help="a `make run` log; repeatable, in the order the runs were made")
    summarize.add_argument("--memory", type=Path, required=True, help="the monitor's JSON-lines samples")
    summarize.add_argument("--wall-seconds", type=float, help="the last run's wall time, if it was taken")
    return parser.parse_args(argv)


def main() -> None:
    args = parse()
    if args.command == "run":
        report = run(args)
    else:
        report = summary(args.log, args.memory, args.clone.resolve(), args.wall_seconds)
    report = {"command": " ".join(["python", "benchmarks/bench_release.py", *sys.argv[1:]]), "note": args.note,
              **report}
    write(args.label, report, args.out)
    figures = report["figures"]
    print(json.dumps({"label": args.label, "make_run_minutes": report["make_run_minutes"], **figures,
                      "memory": report["memory"]}, indent=2))


if __name__ == "__main__":
    main()
