"""Which floating-point precision a model runs in: bf16 where the hardware is fast at it.

One rule for fine-tuning and simulation. ``auto`` picks bf16 on a GPU that supports it and on a
CPU whose instruction set has native bf16 matmuls (AMX or AVX512-BF16, read from the CPU's flags,
never assumed): there a bf16 matmul runs faster than fp32 (`benchmarks/bench_training.py` measures
the ratio at SmolLM2's shapes beside the fine-tuning it buys). Elsewhere bf16 would be emulated and
slower, so ``auto`` stays in fp32.

Fine-tuning in bf16 is mixed precision, as torch AMP does it: forward and loss run under
``torch.autocast`` in bf16, while the trainable LoRA weights (the master weights) and their AdamW
state stay in fp32. The frozen base weights are never updated, so they are no master copy; they are
held in :func:`training_base_dtype`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import torch

Precision = Literal["auto", "float32", "bfloat16"]
Resolved = Literal["float32", "bfloat16"]

#: CPU flags (Linux ``/proc/cpuinfo``) that mean native bf16 matrix instructions.
FAST_BF16_CPU_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


@functools.cache
def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags; empty where the file is missing (macOS, Windows)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def cpu_description(cpuinfo: str = "/proc/cpuinfo") -> dict[str, object]:
    """The CPU a measurement ran on (its model name and native bf16 flags), for benchmark reports:
    speeds compare only on one machine."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    name = next((line.partition(":")[2].strip() for line in text.splitlines() if line.startswith("model name")), None)
    return {"model": name, "native_bf16_flags": sorted(cpu_flags(cpuinfo) & FAST_BF16_CPU_FLAGS)}


def cpu_has_fast_bf16() -> bool:
    return bool(cpu_flags() & FAST_BF16_CPU_FLAGS) and torch.backends.mkldnn.is_available()


def resolve(precision: Precision) -> Resolved:
    """The precision ``precision`` means on this machine."""
    if precision != "auto":
        return precision
    if torch.cuda.is_available():
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    return "bfloat16" if cpu_has_fast_bf16() else "float32"


def dtype_of(resolved: Resolved) -> torch.dtype:
    return torch.bfloat16 if resolved == "bfloat16" else torch.float32


def training_base_dtype(resolved: Resolved) -> torch.dtype:
    """The dtype fine-tuning holds the frozen base weights in.

    In bf16 they are held in bf16 (as before autocast was entered in training): under autocast a
    frozen fp32 weight is cast again in every forward, since autocast caches the casts of weights
    that require grad only, and the bf16 copy autograd keeps comes beside the fp32 one.
    ``benchmarks/bench_training.py`` measures both (modes ``bf16-autocast`` and
    ``bf16-autocast-bf16-base``) against fp32 on the same data and steps.
    """
    return dtype_of(resolved)
