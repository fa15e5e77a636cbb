"""Where each role's LoRA adapter lives, for the stages that write, load, hash or publish it."""

from __future__ import annotations

from pathlib import Path

#: The adapter weights file peft writes (safetensors only).
ADAPTER_FILE = "adapter_model.safetensors"


def adapter_dir(root: Path, role: str) -> Path:
    """``models/<role>/adapter/``: beside (not around) the role's ``metrics.json``, because DVC
    does not allow one stage output inside another."""
    return root / "models" / role / "adapter"
