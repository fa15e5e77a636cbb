"""``reports/human_eval.md``: the analysis of one study as a table a reader can check by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from interplay.human_eval.analysis import CriterionResult, Share
from interplay.human_eval.criteria import CRITERIA

_TITLES = {c.name: c.title for c in CRITERIA}


def _share(share: Share) -> str:
    if share.share is None:
        return "—"
    return f"{share.count} ({share.share:.2f} [{share.low:.2f}, {share.high:.2f}])"


def _alpha(value: float | None, units: int) -> str:
    if units == 0:
        return "— (no task judged twice)"
    if value is None:
        return "— (undefined: every judgement the same)"
    return f"{value:.3f}"


def render(results: Sequence[CriterionResult], key: Mapping[str, Any], export_name: str) -> str:
    """The report's Markdown: what was compared, win / tie / loss per criterion, agreement."""
    interplay, baseline = key["systems"]
    tasks = max((r.tasks for r in results), default=0)
    lines = [
        "# Human evaluation",
        "",
        (
            f"Blinded pairwise comparison of `{interplay}` against `{baseline}` on the same seed profiles "
            f"(export `{export_name}`: {tasks} of the {len(key['pairs'])} tasks of the key judged; "
            f"sides and order drawn with seed {key['seed']})."
        ),
        "",
        (
            f"Each cell: judgements (share [95% Wilson interval]); a win is a judgement for `{interplay}`, "
            f"a loss one for `{baseline}`. Shares are over judgements (one annotator, one task, one "
            "criterion); where several annotators judged a task their judgements are not independent "
            "and the intervals are somewhat too narrow."
        ),
        "",
        f"| criterion | tasks | judgements | {interplay} wins | ties | {baseline} wins |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {_TITLES[r.criterion]} | {r.tasks} | {r.judgements} | {_share(r.win)} | {_share(r.tie)} | {_share(r.loss)} |"
        )
    lines += [
        "",
        "## Agreement",
        "",
        (
            "Krippendorff's alpha over the tasks judged by at least two annotators: nominal (three "
            f"unordered answers) and ordinal (`{baseline}` better < tie < `{interplay}` better). 1 is "
            "perfect agreement, 0 what chance gives."
        ),
        "",
        "| criterion | tasks judged twice or more | alpha (nominal) | alpha (ordinal) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {_TITLES[r.criterion]} | {r.multi_annotated} | {_alpha(r.alpha_nominal, r.multi_annotated)} "
            f"| {_alpha(r.alpha_ordinal, r.multi_annotated)} |"
        )
    lines += ["", "## Questions asked", ""]
    lines += [f"- **{c.title}** (`{c.name}`): {c.question} A / B / tie." for c in CRITERIA]
    return "\n".join(lines) + "\n"
