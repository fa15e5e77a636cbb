"""Progress of a simulation run: dialogues done / total, rate and time left.

A 10,000-dialogue release runs for hours, so the stage says where it is: a log line at the start,
then at most once a minute and at the end, and, inside a Prefect flow or task run, a progress
artifact on that run (the UI shows its bar and the same line). Dialogues of shards finished by an
earlier, killed run count as done; the rate counts only this run's.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

log = logging.getLogger(__name__)

#: Seconds between two log lines (and artifact updates); the first and the last are always shown.
REPORT_EVERY_S = 60.0


def duration(seconds: float) -> str:
    """``2 h 05 min``, ``7 min 12 s`` or ``40 s``."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def describe(source: str, done: int, total: int, new: int, elapsed_s: float) -> str:
    """One progress line; ``new`` of the ``done`` dialogues were made in ``elapsed_s`` seconds."""
    share = 100.0 * done / total if total else 100.0
    line = f"simulate {source}: {done:,} / {total:,} dialogues ({share:.1f}%)"
    if new <= 0 or elapsed_s <= 0:
        return line
    rate = new / elapsed_s
    left = "done" if done >= total else f"about {duration((total - done) / rate)} left"
    return f"{line}, {rate * 3600:,.0f} dialogues/h, {left}"


def in_prefect_run() -> bool:
    """Whether this code runs inside a Prefect flow or task run (without importing Prefect)."""
    if "prefect.context" not in sys.modules:
        return False
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


@dataclass
class Progress:
    """Counts finished dialogues of one run and reports them (log, and artifact in a Prefect run)."""

    source: str
    total: int
    done: int = 0
    every_s: float = REPORT_EVERY_S
    clock: Callable[[], float] = time.monotonic
    _started: float = field(init=False)
    _resumed: int = field(init=False)
    _last_report: float | None = field(init=False, default=None)
    _artifact: UUID | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._started = self.clock()
        self._resumed = self.done

    @classmethod
    def of_plan(cls, source: str, plan: Sequence[Sequence[Any]], pending: Sequence[int], **options: Any) -> Progress:
        """Progress of a shard plan whose ``pending`` shards are still to run."""
        total = sum(len(shard) for shard in plan)
        return cls(source, total, total - sum(len(plan[i]) for i in pending), **options)

    @property
    def line(self) -> str:
        return describe(self.source, self.done, self.total, self.done - self._resumed, self.clock() - self._started)

    def advance(self, dialogues: int = 1) -> None:
        self.done += dialogues
        now = self.clock()
        if self.done >= self.total or self._last_report is None or now - self._last_report >= self.every_s:
            self.report()

    def report(self) -> None:
        """Log the line now and put it on the Prefect run's progress artifact, if in one."""
        self._last_report = self.clock()
        line = self.line
        log.info(line)
        if in_prefect_run():
            self._publish(line)

    def _publish(self, line: str) -> None:
        from prefect.artifacts import create_progress_artifact, update_progress_artifact

        share = 100.0 * self.done / self.total if self.total else 100.0
        if self._artifact is None:
            key = f"simulate-{self.source}".replace("_", "-")  # Prefect's keys: lowercase, digits, dashes
            self._artifact = create_progress_artifact(share, key=key, description=line)
        else:
            update_progress_artifact(self._artifact, share, description=line)
