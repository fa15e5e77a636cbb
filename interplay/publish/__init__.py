"""Stage 8, publish: the Hub dataset folder ``release/`` and its push to a Hub.

- :mod:`interplay.publish.card`: the ``README.md`` dataset card (pure rendering);
- :mod:`interplay.publish.folder`: builds ``release/`` from the pipeline's outputs;
- :mod:`interplay.publish.hub`: pushes it through ``huggingface_hub.HfApi`` and tags the version.

The submodules are imported on use so that importing :class:`PublishError` stays cheap.
"""

from interplay.publish.errors import PublishError

__all__ = ["PublishError"]
