"""The simulation's memory: what a finished conversation held goes back to the system."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from interplay.simulation import memory

#: Puts a conversation's states (8 MiB) on the heap, as glibc does once its mmap threshold has risen
#: past them (here set outright: the rise depends on what the process freed before), below a block
#: still alive, and measures how much of their memory leaves the process when they are freed.
PROBE = textwrap.dedent(
    """
    import ctypes, sys, torch
    from interplay.simulation.memory import return_freed_memory
    def resident():
        return int(open("/proc/self/statm").read().split()[1]) * 4096
    assert ctypes.CDLL(None).mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: blocks under 32 MiB from the heap
    states = torch.ones(2 << 20)                     # 8 MiB: a conversation's states
    alive = torch.ones(2 << 20)                      # allocated after them, still in use
    held = resident()
    del states
    if sys.argv[1] == "returned":
        assert return_freed_memory()
    print((held - resident()) / 2**20)
    """
)


def _released_mib(mode: str) -> float:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim: Linux only")
def test_freed_states_go_back_to_the_system() -> None:
    assert _released_mib("returned") >= 7.5
    assert _released_mib("kept") < 1  # left to glibc they stay resident: what made the stage's memory grow


def test_harmless_where_the_c_library_cannot(monkeypatch: pytest.MonkeyPatch) -> None:
    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(sys, "platform", "darwin")
    try:
        assert memory.return_freed_memory() is False
    finally:
        memory._malloc_trim.cache_clear()
