"""Giving the memory of freed key/value states back to the system, so a release's memory is flat.

The engine allocates and frees key/value states of many sizes all the time: a conversation's
stored prompt states (megabytes, growing with the conversation), each batch's buffer, the states
of finished conversations. glibc's ``malloc`` gives a block over its *mmap threshold* a mapping of
its own and unmaps it when freed; but each such free raises the threshold to the freed block's
size (up to 32 MiB), and from then on blocks below it come from the heap, where freed space
between live blocks stays resident. The simulate stage's peak memory grew with the release:
5,513 MiB at 64 dialogues, 7,396 at 2,000 (``reports/bench_release.json``).

``malloc_trim`` after each batch hands the whole free pages of the heap back (the allocator keeps
the addresses, so nothing moves). On 192 dialogues in three shards of 64, measured after each
shard (closing note of issue 26, 2026-12-05): peak resident memory 4,582, 4,750, 4,750 MiB against
5,415, 5,874, 6,059 without it, at 0.99x the dialogues an hour. Pinning glibc's mmap threshold
instead (every block over 4 MiB in its own mapping) cut the peak less (4,891, 5,157, 5,198 MiB) and
cost a tenth of the rate: each large temporary of a forward pass was mapped and faulted in afresh.
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache
from typing import Any


@cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None where the C library has none (not Linux, musl, ...)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def return_freed_memory() -> bool:
    """Give the free pages of this process's heap back to the system; False where the C library
    cannot (nothing else changes: the memory then stays with the process, as before)."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
