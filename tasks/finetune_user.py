"""Stage finetune_user: LoRA adapter of the user role into models/user/ (with metrics.json)."""

from __future__ import annotations

from pathlib import Path

from interplay.config.params import Params
from interplay.training.roles import finetune_role


def run(params: Params, root: Path, **kwargs: object) -> None:
    finetune_role(params, root, "user")
