"""Base models: materialize one as a plain Hugging Face folder, and find the folder a role uses."""

from interplay.models.base import (
    BaseModelError,
    base_dir_for_role,
    materialize_all,
    materialize_base,
    packaged_gguf_path,
    weights_sha256,
)

__all__ = [
    "BaseModelError",
    "base_dir_for_role",
    "materialize_all",
    "materialize_base",
    "packaged_gguf_path",
    "weights_sha256",
]
