"""Wall time of the preprocess function on the shared ReDial files (2,342 dialogues).

Run from the repository root: ``.venv/bin/python benchmarks/bench_preprocess.py``; writes
``reports/bench_preprocess.json``. The requirement it checks: well under 30 s on 2 CPUs.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from interplay.config.params import Params  # noqa: E402
from interplay.preprocess.pipeline import preprocess_corpus  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "redial"
REPEATS = 3


def main() -> None:
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
        "corpus": str(CORPUS.relative_to(ROOT.parent)),
        "dialogues": dialogues,
        "repeats": REPEATS,
        "wall_s": [round(t, 3) for t in timings],
        "wall_s_median": round(median, 3),
        "dialogues_per_s_median": round(dialogues / median, 1),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    out = ROOT / "reports" / "bench_preprocess.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
