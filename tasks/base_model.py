"""Stage base_model: materialize the base model(s) as plain Hugging Face folders under models/base/."""

from __future__ import annotations

from pathlib import Path

from interplay.config.params import Params
from interplay.models.base import materialize_all
from interplay.training.roles import BASE_ROOT


def run(params: Params, root: Path, **kwargs: object) -> None:
    materialize_all(params.model, root / BASE_ROOT, root=root)
