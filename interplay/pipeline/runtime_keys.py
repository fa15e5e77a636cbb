"""The parameters that do not change any stage's data, each with the reason it does not.

Where a run happens, how patient it is and how often it saves are not part of what it makes, so
they must not invalidate a cache, restart simulation shards or appear in the dataset card. This
table is the one list of them: the stage keys leave them out of a section's value, the shard
identity leaves them out of the simulation settings, the card leaves them out of the parameters it
shows, and a test checks that ``dvc.yaml`` declares none of them (and every other parameter
somewhere). A parameter added to ``params.py`` is therefore either declared by the stages it
changes or listed here, with its reason.
"""

from __future__ import annotations

from typing import Any

#: Dotted parameter (a whole section where every key of it is runtime-only) -> why it does not
#: change any output.
RUNTIME_KEYS: dict[str, str] = {
    "corpus.timeout_s": "how long a download may wait; what arrives is checked by its sha256",
    "finetune.checkpoint_dir": "where a killed run's checkpoints wait; resuming reaches the same adapter",
    "finetune.save_steps": "how often a checkpoint is written; it is removed when training ends",
    "finetune.eval_batch_size": "batches of the token-summed validation loss: the same metric, in other float rounding",
    "simulation.task_runner": "where the shards run (here or on Dask); a shard's dialogues depend on its own seed",
    "simulation.dask_address": "which Dask cluster runs the shards",
    "publish.retries": "how often a failed Hub upload is tried again",
    "publish.backoff_s": "how long to wait before trying an upload again",
    "publish.timeout_s": "how long one Hub request may wait for an answer before it is retried",
    "refresh": "when and under which deployment name a scheduled refresh runs, not what it releases",
}


def is_runtime(dotted: str) -> bool:
    """Whether a parameter (or a whole section) is in :data:`RUNTIME_KEYS` or below one."""
    return any(dotted == key or dotted.startswith(key + ".") for key in RUNTIME_KEYS)


def section_keys(section: str) -> frozenset[str]:
    """The runtime-only keys directly in ``section`` (``"simulation"`` -> ``{"task_runner", ...}``)."""
    prefix = section + "."
    return frozenset(key[len(prefix):] for key in RUNTIME_KEYS if key.startswith(prefix) and "." not in key[len(prefix):])


def without_runtime(dotted: str, value: Any) -> Any:
    """A parameter's value with every runtime-only key below it removed (a section's value is a
    mapping; a leaf is returned as it is)."""
    if not isinstance(value, dict):
        return value
    return {
        key: without_runtime(f"{dotted}.{key}", item)
        for key, item in value.items()
        if not is_runtime(f"{dotted}.{key}")
    }
