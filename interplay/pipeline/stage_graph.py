"""The order the release flow runs the stages in, taken from DVC's own graph of ``dvc.yaml``.

``dvc.yaml`` is the one declaration of the pipeline: which stage needs which is what DVC derives
from the stages' ``deps`` and ``outs``. The flow asks DVC for that graph instead of keeping its own
list, so a new stage, or a new dependency between two, needs no edit of the flow. Among the orders
the graph allows, the one kept is closest to the order of ``dvc.yaml`` (a stage is placed as soon
as what it depends on has run, ties broken by its position in the file), so the summary reads as
the file does.
"""

from __future__ import annotations

from pathlib import Path


class PipelineError(ValueError):
    """``dvc.yaml`` cannot be read as a pipeline; the message names what DVC objected to."""


def stage_order(root: Path) -> list[str]:
    """Every stage of ``root/dvc.yaml``, each after all the stages whose outputs it depends on."""
    import networkx as nx
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo(str(root)) as repo:
            stages = list(repo.index.stages)
            graph = repo.index.graph  # an edge runs from a stage to a stage it depends on
    except DvcException as exc:
        raise PipelineError(f"{root / 'dvc.yaml'}: DVC cannot read the pipeline: {exc}") from exc
    position = {stage: index for index, stage in enumerate(stages)}
    ordered = nx.lexicographical_topological_sort(graph.reverse(copy=True), key=position.__getitem__)
    return [stage.name for stage in ordered]
