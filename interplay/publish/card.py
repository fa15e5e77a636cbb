"""The dataset card (``README.md``) of a release: YAML metadata and a Markdown body.

Rendering: :func:`render_card` fills the template ``card_template.md`` beside this module with
what :func:`template_variables` computes from a :class:`CardInputs`, and reads nothing else, so the
same inputs always give the same bytes (no dates, no timestamps; every mapping in a fixed order).
The template holds the card's prose and layout; this module, the numbers and tables.
:mod:`interplay.publish.folder` gathers the inputs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import DatasetCard, DatasetCardData

from interplay.dialogue.rows import DIALOGUE_COLUMNS, meanings
from interplay.evaluation.examples import LEGEND, RULE, render_example
from interplay.evaluation.intervals import significance_sentence

NOT_AVAILABLE = "not available"

INTERPLAY_BIBTEX = """@inproceedings{ramos2026interplay,
  title         = {Interplay: Training Independent Simulators for Reference-Free Conversational Recommendation},
  author        = {Ramos and Xia and Wang and Chatterjee and Fu and Rahmani and Lipani},
  booktitle     = {Advances in Information Retrieval (ECIR 2026)},
  year          = {2026},
  eprint        = {2603.18573},
  archivePrefix = {arXiv}
}"""

REDIAL_BIBTEX = """@inproceedings{li2018redial,
  title     = {Towards Deep Conversational Recommendations},
  author    = {Li, Raymond and Kahou, Samira Ebrahimi and Schulz, Hannes and Michalski, Vincent and Charlin, Laurent and Pal, Chris},
  booktitle = {Advances in Neural Information Processing Systems 31 (NeurIPS 2018)},
  year      = {2018}
}"""

INSPIRED_BIBTEX = """@inproceedings{hayati2020inspired,
  title     = {INSPIRED: Toward Sociable Recommendation Dialog Systems},
  author    = {Hayati, Shirley Anugrah and Kang, Dongyeop and Zhu, Qingxiaoyang and Shi, Weiyan and Yu, Zhou},
  booktitle = {Proceedings of the 2020 Conference on Empirical Methods in Natural Language Processing (EMNLP)},
  year      = {2020}
}"""

#: What each column of an Interplay dialogue row holds, as :mod:`interplay.dialogue.rows` declares it.
COLUMN_DOCS: dict[str, str] = meanings(DIALOGUE_COLUMNS)


@dataclass(frozen=True)
class SplitInfo:
    """One published split: its name, row count and files (relative to the release folder)."""

    name: str
    num_rows: int
    files: tuple[str, ...]


@dataclass(frozen=True)
class CardInputs:
    """Everything the card says. Optional inputs are ``None`` when the pipeline has not made them."""

    pretty_name: str
    license: str
    language: tuple[str, ...]
    tags: tuple[str, ...]
    version: str
    repo_id: str | None
    corpus: str
    splits: tuple[SplitInfo, ...]
    #: (column name, Arrow type) in file order.
    columns: tuple[tuple[str, str], ...]
    #: outcome -> number of dialogues, over all published splits.
    outcomes: dict[str, int] = field(default_factory=dict)
    mean_turns: float | None = None
    user_models: tuple[str, ...] = ()
    recommender_models: tuple[str, ...] = ()
    params_hashes: tuple[str, ...] = ()
    #: role -> sha256 of its adapter weights (None: not available).
    adapter_hashes: dict[str, str | None] = field(default_factory=dict)
    base_model: dict[str, Any] | None = None
    #: params section name -> its values, as used by the run.
    parameters: dict[str, Any] = field(default_factory=dict)
    evaluation_md: str | None = None
    metrics: dict[str, Any] | None = None
    validation: dict[str, Any] | None = None
    package_version: str | None = None
    git_commit: str | None = None
    #: Whether ``git_commit`` holds the ``dvc.lock`` the release was built with (None: unknown).
    dvc_lock_committed: bool | None = None
    dvc_lock_digest: str | None = None
    #: column -> its distinct values in the published rows, for the few-valued columns
    #: (:data:`ENUMERATED_COLUMNS`): the card names what the data holds, not what it should.
    column_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Example dialogue rows, already chosen (:func:`interplay.evaluation.examples.choose_examples`
    #: with ``examples_seed``), in the order shown; ``titles``: item_id -> title for them.
    examples: tuple[dict[str, Any], ...] = ()
    examples_seed: int | None = None
    titles: dict[str, str] = field(default_factory=dict)


def size_category(num_rows: int) -> str:
    """The Hub's ``size_categories`` bucket of a row count."""
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
        (100_000_000, "10M<n<100M"),
        (1_000_000_000, "100M<n<1B"),
    ]
    for bound, name in bounds:
        if num_rows < bound:
            return name
    return "1B<n<10B"


#: Columns whose values the card lists, as found in the published rows.
ENUMERATED_COLUMNS = ("source", "split", "outcome", "termination_reason")

#: Provenance rows that name the commit a card was built from, not its content.
_BUILD_ROWS = ("| Interplay version |", "| git commit |", "| `dvc.lock` digest")


def comparable_card(text: str) -> str:
    """The card without the rows naming the commit that built it (Interplay version, git commit,
    ``dvc.lock`` digest), its metadata as parsed values rather than YAML text: the same data
    rebuilt from a later commit compares equal, so a version already published stays as it was
    (its card keeps the commit that made it), even where a YAML writer folds a long value at
    another column."""
    card = DatasetCard(text)
    metadata = json.dumps(card.data.to_dict(), sort_keys=True)
    return "\n".join([metadata] + [line for line in card.text.splitlines() if not line.startswith(_BUILD_ROWS)])


def card_metadata(inputs: CardInputs) -> dict[str, Any]:
    """The YAML metadata block, keys in a fixed order."""
    total = sum(s.num_rows for s in inputs.splits)
    return {
        "license": inputs.license,
        "language": list(inputs.language),
        "pretty_name": inputs.pretty_name,
        "task_categories": ["text-generation"],
        "task_ids": ["dialogue-modeling"],
        "annotations_creators": ["machine-generated"],
        "language_creators": ["machine-generated"],
        "multilinguality": ["monolingual"],
        "size_categories": [size_category(total)],
        "tags": list(inputs.tags),
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": s.name, "path": f"data/{s.name}-*.parquet"} for s in inputs.splits],
            }
        ],
    }


#: The card's layout: a Jinja template beside this module, which :func:`render_card` fills with
#: what the functions below compute (tables, lists, the embedded report). Sections and lines
#: without content are left out by the template's own ``{% if %}``.
TEMPLATE = "card_template.md"
TEMPLATE_PATH = Path(__file__).with_name(TEMPLATE)


def render_card(inputs: CardInputs) -> str:
    """The whole ``README.md``: metadata between ``---`` lines, then the body.

    ``DatasetCard.from_template`` renders the metadata (``DatasetCardData``) and the template;
    the metadata keep :func:`card_metadata`'s order, so a card of the same data is the same bytes
    as before (a published version compares equal, see :func:`comparable_card`)."""
    metadata = card_metadata(inputs)
    card_data = DatasetCardData(**metadata)
    card_data.to_yaml(original_order=list(metadata))  # keys in the card's order, not the class's
    card = DatasetCard.from_template(card_data, template_path=str(TEMPLATE_PATH), **template_variables(inputs))
    return str(card)


def template_variables(inputs: CardInputs) -> dict[str, Any]:
    """What the template lays out, computed here so that the template holds no logic but
    presence tests and loops."""
    total = sum(inputs.outcomes.values()) or 1
    evaluation_report, examples_removed = _evaluation_report(inputs.evaluation_md)
    own_summary = bool(inputs.validation) and isinstance(inputs.validation.get("datasets"), dict)
    return {
        "pretty_name": inputs.pretty_name,
        "version": inputs.version,
        "corpus_name": _corpus_name(inputs.corpus),
        "not_available": NOT_AVAILABLE,
        "splits_table": _table(
            ["split", "dialogues", "files"],
            [[f"`{s.name}`", str(s.num_rows), ", ".join(f"`{f}`" for f in s.files)] for s in inputs.splits],
        ),
        "outcomes_table": _table(
            ["outcome", "dialogues", "share"],
            [[f"`{name}`", str(count), f"{count / total:.1%}"] for name, count in sorted(inputs.outcomes.items())],
        )
        if inputs.outcomes
        else None,
        "mean_turns": None if inputs.mean_turns is None else f"{inputs.mean_turns:.2f}",
        "fields_table": _table(
            ["column", "type", "content"],
            [[f"`{name}`", f"`{_cell(dtype)}`", _field_content(inputs, name)] for name, dtype in inputs.columns],
        ),
        "examples": [render_example(row, inputs.titles, heading_level=3) for row in inputs.examples],
        "examples_rule": RULE.format(seed=inputs.examples_seed if inputs.examples_seed is not None else "seed"),
        "examples_legend": LEGEND,
        "user_models": _listed(inputs.user_models),
        "recommender_models": _listed(inputs.recommender_models),
        "params_hashes": _listed(inputs.params_hashes),
        "adapters_table": _table(
            ["role", "sha256"],
            [[role, f"`{digest}`" if digest else NOT_AVAILABLE] for role, digest in sorted(inputs.adapter_hashes.items())],
        )
        if inputs.adapter_hashes
        else None,
        "base_model_json": json.dumps(inputs.base_model, indent=2, sort_keys=True, default=str)
        if inputs.base_model
        else None,
        "parameters_yaml": yaml.safe_dump(inputs.parameters, sort_keys=True, allow_unicode=True, width=100)
        if inputs.parameters
        else None,
        "evaluation_report": evaluation_report,
        "examples_removed": examples_removed,
        "metrics_table": _metrics_table(inputs.metrics) if inputs.metrics else None,
        "comparisons": _comparisons(inputs.metrics or {}),
        "validation_report": _validation_report(inputs.validation) if own_summary else None,
        "validation_table": _validation_table(inputs.validation) if inputs.validation and not own_summary else None,
        "provenance_table": _provenance_table(inputs),
        "load_call": f'load_dataset("{inputs.repo_id}", revision="{inputs.version}")'
        if inputs.repo_id
        else 'load_dataset("path/to/release")  # this folder',
        "first_split": inputs.splits[0].name if inputs.splits else "test",
        "bibtex": [INTERPLAY_BIBTEX, REDIAL_BIBTEX] + ([INSPIRED_BIBTEX] if inputs.corpus == "inspired" else []),
    }


# -- what the sections hold --------------------------------------------------------------------


def _field_content(inputs: CardInputs, name: str) -> str:
    text = COLUMN_DOCS.get(name, "")
    values = inputs.column_values.get(name)
    if values:
        text += ("; " if text else "") + "in this release: " + ", ".join(f"`{v}`" for v in values)
    return _cell(text)


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"`{v}`" for v in values) if values else NOT_AVAILABLE


def _evaluation_report(evaluation_md: str | None) -> tuple[str | None, bool]:
    """The evaluation report as the card embeds it (its example dialogues and validation
    sections left out: the card has its own), and whether it had example dialogues."""
    if not evaluation_md or not evaluation_md.strip():
        return None, False
    report, removed = _without_section(evaluation_md, EXAMPLES_HEADING)
    report, _ = _without_section(report, VALIDATION_HEADING)
    return _embed_markdown(report), removed


def _validation_table(summary: dict[str, Any]) -> tuple[str, int]:
    """A validation summary of another shape, flattened: the table of its first 60 entries and
    how many more there are."""
    rows = [[f"`{_cell(key)}`", _cell(value)] for key, value in _flatten(summary)]
    return _table(["check", "value"], rows[:60]), max(len(rows) - 60, 0)


def _provenance_table(inputs: CardInputs) -> str:
    def code(value: str | None) -> str:
        return f"`{value}`" if value else NOT_AVAILABLE

    commit = code(inputs.git_commit)
    if inputs.git_commit and inputs.dvc_lock_committed is False:
        commit += (
            " (its `dvc.lock` is not the one this release was built with: the workspace's was not "
            "committed, so this commit alone does not reproduce the release)"
        )
    rows = [
        ["release version", code(inputs.version)],
        ["Interplay version", code(inputs.package_version)],
        ["git commit", commit],
        ["`dvc.lock` digest (sha256 of its upstream stages)", code(inputs.dvc_lock_digest)],
        ["corpus", _corpus_name(inputs.corpus)],
    ]
    return _table(["", ""], rows)


def _validation_report(summary: dict[str, Any]) -> str:
    """The validate stage's own summary: verdict, one row per dataset, failed expectations."""
    gated = summary.get("gated") or []
    verdict = "passed" if summary.get("success") else "failed"
    text = f"Great Expectations suites (`reports/validation.json`): **{verdict}**"
    text += f" (gating the release: {', '.join(f'`{g}`' for g in gated) or 'none'}).\n\n"
    columns = [
        ("num_dialogues", "dialogues"),
        ("num_turns", "turns"),
        ("expectations", "expectations"),
        ("critical_failed", "critical failed"),
        ("warnings_failed", "warnings failed"),
    ]
    rows = []
    for name, stats in summary["datasets"].items():
        stats = stats if isinstance(stats, dict) else {}
        rows.append([f"`{name}`"] + [_cell(stats.get(key, "")) for key, _ in columns])
    text += _table(["dataset"] + [title for _, title in columns], rows)
    for key, title in (("critical_failures", "Critical failures"), ("warnings", "Warnings")):
        items = [i for i in summary.get(key) or [] if isinstance(i, dict)]
        if not items:
            continue
        text += f"\n\n{title}:\n"
        for item in items[:20]:
            what = item.get("description") or item.get("expectation") or "expectation"
            column = f" (`{item['column']}`)" if item.get("column") else ""
            observed = item.get("observed_value")
            seen = f"; observed {_short(observed)}" if observed is not None else ""
            text += f"\n- `{item.get('dataset', '?')}`: {_cell(what)}{column}{seen}"
        if len(items) > 20:
            text += f"\n- … and {len(items) - 20} more"
    return text


def _short(value: Any, limit: int = 80) -> str:
    text = _cell(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- helpers -----------------------------------------------------------------------------------


def _corpus_name(corpus: str) -> str:
    return {"redial": "ReDial", "inspired": "INSPIRED"}.get(corpus, corpus)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, bool) or value is None:
        text = json.dumps(value)
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _flatten(value: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """Scalar leaves as (dotted key, value); short scalar lists joined, longer lists counted."""
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for key, sub in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if depth >= 4:
                out.append((name, "…"))
            else:
                out.extend(_flatten(sub, name, depth + 1))
        return out
    if isinstance(value, list):
        if not value:
            return [(prefix, "none")]
        if all(not isinstance(v, dict | list) for v in value) and len(value) <= 10:
            return [(prefix, ", ".join(_cell(v) for v in value))]
        return [(prefix, f"{len(value)} items")]
    return [(prefix, value)]


def _metric_cell(value: Any) -> str:
    """A metric's cell: "–" where the metric has no value (null), as in reports/evaluation.md."""
    return "–" if value is None else _cell(value)


def _with_intervals(values: dict[str, Any]) -> dict[str, Any]:
    """A system's metrics with each ``<key>_ci`` interval shown in its metric's cell
    (``0.42 [0.3, 0.55]``) and the comparison block (``vs_interplay``, see :func:`_comparisons`)
    left out."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "vs_interplay" or (key.endswith("_ci") and key.removesuffix("_ci") in values):
            continue
        interval = values.get(f"{key}_ci")
        shown = isinstance(interval, list) and len(interval) == 2 and value is not None
        out[key] = f"{_metric_cell(value)} [{_cell(interval[0])}, {_cell(interval[1])}]" if shown else value
    return out


def _comparisons(metrics: dict[str, Any]) -> list[str]:
    """In words, per baseline, which metrics differ significantly from Interplay's (the
    ``vs_interplay`` records of ``reports/metrics.json``)."""
    lines = []
    for name, values in metrics.items():
        block = values.get("vs_interplay") if isinstance(values, dict) else None
        if isinstance(block, dict):
            records = {k: v for k, v in block.items() if isinstance(v, dict)}
            sentence = significance_sentence(f"`{name}`", records, block.get("significance"))
            lines.append(f"{sentence} Shared profiles: {block.get('shared_profiles', 0)}.")
    return lines


def _metrics_table(metrics: dict[str, Any]) -> str:
    """Systems as columns when the top level maps system -> metrics, else one key/value list."""
    systems = {k: v for k, v in metrics.items() if isinstance(v, dict)}
    if systems and len(systems) == len(metrics):
        flat = {name: dict(_flatten(_with_intervals(values))) for name, values in systems.items()}
        keys: list[str] = []
        for values in flat.values():
            keys += [k for k in values if k not in keys]
        rows = [[f"`{k}`"] + [_metric_cell(flat[s].get(k)) for s in flat] for k in keys]
        return _table(["metric"] + [f"`{s}`" for s in flat], rows)
    return _table(["metric", "value"], [[f"`{k}`", _cell(v)] for k, v in _flatten(metrics)])


_HEADING = re.compile(r"^(#{1,6})(\s)")
#: The report's sections left out of the card, which has its own: example dialogues, validation.
EXAMPLES_HEADING = "Example dialogues"
VALIDATION_HEADING = "Validation"


def _without_section(text: str, title: str) -> tuple[str, bool]:
    """``text`` without the section headed ``title`` (up to the next heading of its level or
    higher, outside code blocks), and whether there was one."""
    out: list[str] = []
    level: int | None = None
    removed = False
    in_code = False
    for line in text.strip("\n").splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = _HEADING.match(line) if not in_code else None
        if match and level is not None and len(match.group(1)) <= level:
            level = None
        if match and level is None and line[len(match.group(1)) :].strip() == title:
            level = len(match.group(1))
            removed = True
        if level is None:
            out.append(line)
    return "\n".join(out).strip("\n"), removed


_IMAGE_LINE = re.compile(r"^\s*!\[[^\]]*\]\([^)]*\)\s*$")


def _embed_markdown(text: str) -> str:
    """A report inside the card: its title dropped, headings nested under ours, images left out
    (their files are not part of the release)."""
    lines = text.strip("\n").splitlines()
    if lines and re.match(r"^#\s", lines[0]):
        lines = lines[1:]
    levels = [len(m.group(1)) for line in lines if (m := _HEADING.match(line))]
    shift = 3 - min(levels) if levels else 0
    out = []
    in_code = False
    for line in lines:
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if not in_code and _IMAGE_LINE.match(line):
            continue
        match = _HEADING.match(line) if not in_code else None
        if match and shift > 0:
            line = "#" * min(len(match.group(1)) + shift, 6) + line[len(match.group(1)) :]
        out.append(line)
    return "\n".join(_without_empty_sections(out)).strip("\n")


def _without_empty_sections(lines: list[str]) -> list[str]:
    """Headings left with nothing under them (a figure section once its images are dropped)
    removed, innermost first: a heading is empty when the next non-blank line outside code is a
    heading of its level or higher, or the end."""
    kept = list(lines)
    while True:
        in_code = False
        heads: list[tuple[int, int]] = []  # (line index, level) of headings outside code
        content_after: dict[int, bool] = {}
        for index, line in enumerate(kept):
            fence = line.lstrip().startswith("```")
            match = _HEADING.match(line) if not in_code and not fence else None
            if fence:
                in_code = not in_code
            if match:
                if heads and heads[-1][0] not in content_after:
                    content_after[heads[-1][0]] = len(match.group(1)) > heads[-1][1]
                heads.append((index, len(match.group(1))))
            elif line.strip() and heads and heads[-1][0] not in content_after:
                content_after[heads[-1][0]] = True
        empty = {index for index, _ in heads if not content_after.get(index, False)}
        if not empty:
            return kept
        kept = [line for index, line in enumerate(kept) if index not in empty]
