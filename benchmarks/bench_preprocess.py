"""Wall time of the preprocess function on the shared ReDial files (2,342 dialogues).

Run from the repository root: ``.venv/bin/python benchmarks/bench_preprocess.py``; writes
``reports/bench_preprocess.json`` with the goal's verdict (:data:`GOALS`: under 30 s on 2 CPUs),
which it prints; ``--check-goals`` adds the verdict to the committed JSON without measuring again.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from goals import Goal, check, lines, recheck  # noqa: E402
from provenance import current_commit  # noqa: E402

from interplay.config.params import Params  # noqa: E402
from interplay.preprocess.pipeline import preprocess_corpus  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "redial"
REPEATS = 3
OUT = ROOT / "reports" / "bench_preprocess.json"
GOALS = (Goal("wall_s_median", "<", 30.0, "preprocessing the shared ReDial files takes well under 30 s on 2 CPUs"),)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-goals", action="store_true", help="add the goals' verdict to the committed JSON")
    if parser.parse_args().check_goals:
        sys.stdout.write("\n".join(lines(recheck(OUT, GOALS)["goals"])) + "\n")
        return
    params = Params()
    timings = []
    dialogues = 0
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = preprocess_corpus(CORPUS, CORPUS, params)
        timings.append(time.perf_counter() - start)
        dialogues = result.report["total"]["read"]
    median = statistics.median(timings)
    report = {
        "commit": current_commit(ROOT),
        "corpus": str(CORPUS.relative_to(ROOT.parent)),
        "dialogues": dialogues,
        "repeats": REPEATS,
        "wall_s": [round(t, 3) for t in timings],
        "wall_s_median": round(median, 3),
        "dialogues_per_s_median": round(dialogues / median, 1),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    report["goals"] = check(report, GOALS)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(json.dumps(report) + "\n" + "\n".join(lines(report["goals"])) + "\n")


if __name__ == "__main__":
    main()
