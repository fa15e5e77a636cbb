"""Run the suites with Great Expectations (ephemeral context, fully offline), gate and summarize.

Only the Interplay dialogues are gated: a failed critical expectation there raises
:class:`ValidationFailed` naming each failed expectation with a few offending rows. The baselines
go through the same suites report-only (the reference-dependent baseline leaks by design, so
leakage is a warning for baselines). Every result goes to ``reports/validation.json`` and to the
Data Docs under ``reports/validation/`` before the gate decides.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from interplay.config.params import Params, ValidationParams
from interplay.simulation.records import GENERATED_PATHS
from interplay.validation import ValidationFailed
from interplay.validation.suites import (
    CRITICAL,
    INDEX_COLUMNS,
    SuiteSpec,
    bigram_suite,
    dialogue_suite,
    turn_suite,
)
from interplay.validation.tables import bigram_table, dialogue_table, turn_table

log = logging.getLogger(__name__)

#: Generated datasets: name -> path under the repository root. The first is the gated one.
DATASETS: dict[str, str] = GENERATED_PATHS
GATED = "interplay"
SUMMARY_PATH = "reports/validation.json"
DOCS_DIR = "reports/validation"


@dataclass
class ExpectationOutcome:
    dataset: str
    table: str
    expectation: str
    column: str | None
    severity: str
    description: str
    success: bool
    observed_value: Any = None
    element_count: int | None = None
    unexpected_count: int | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def headline(self) -> str:
        target = f"(column={self.column})" if self.column else "()"
        return f"{self.dataset}.{self.table}: {self.expectation}{target} -- {self.description}"

    def detail(self) -> str:
        if self.error:
            return f"could not be evaluated: {self.error}"
        parts = []
        if self.unexpected_count:
            of = f" of {self.element_count}" if self.element_count is not None else ""
            parts.append(f"{self.unexpected_count}{of} rows unexpected")
        if self.observed_value is not None:
            parts.append(f"observed {_short(self.observed_value)}")
        if self.examples:
            shown = "; ".join(
                ", ".join(f"{k}={_short(v)}" for k, v in example.items()) for example in self.examples
            )
            parts.append(f"e.g. {shown}")
        return "; ".join(parts) or "failed"


@dataclass
class DatasetReport:
    name: str
    path: str
    gated: bool
    num_dialogues: int
    num_turns: int
    outcomes: list[ExpectationOutcome]

    @property
    def failed_critical(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == CRITICAL]

    @property
    def failed_warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity != CRITICAL]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "gated": self.gated,
            "num_dialogues": self.num_dialogues,
            "num_turns": self.num_turns,
            "success": not self.failed_critical,
            "expectations": len(self.outcomes),
            "critical_failed": len(self.failed_critical),
            "warnings_failed": len(self.failed_warnings),
        }


@dataclass
class ValidationReport:
    datasets: list[DatasetReport]
    data_docs: str | None = None

    @property
    def gated(self) -> list[DatasetReport]:
        return [d for d in self.datasets if d.gated]

    @property
    def success(self) -> bool:
        return all(not d.failed_critical for d in self.gated)

    def failure_message(self) -> str:
        failed = [o for d in self.gated for o in d.failed_critical]
        lines = [
            f"validation failed: {len(failed)} critical expectation(s) failed on "
            + ", ".join(f"{d.name} ({d.path})" for d in self.gated if d.failed_critical)
            + "; the release stops here."
        ]
        for outcome in failed:
            lines.append(f"  - {outcome.headline()}: {outcome.detail()}")
        if self.data_docs:
            lines.append(f"Data Docs: {self.data_docs}; summary: {SUMMARY_PATH}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "gated": [d.name for d in self.gated],
            "datasets": {d.name: d.to_dict() for d in self.datasets},
            "critical_failures": [_outcome_dict(o) for d in self.gated for o in d.failed_critical],
            "warnings": [_outcome_dict(o) for d in self.datasets for o in d.failed_warnings],
            "report_only_failures": [
                _outcome_dict(o) for d in self.datasets if not d.gated for o in d.failed_critical
            ],
            "results": [_outcome_dict(o) for d in self.datasets for o in d.outcomes],
            "data_docs": self.data_docs,
        }


def _short(value: Any, limit: int = 80) -> str:
    value = _jsonable(value)
    text = f"{value:.4g}" if isinstance(value, float) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _jsonable(value: Any) -> Any:
    """numpy / pandas scalars and containers to plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _jsonable(value.tolist())
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _outcome_dict(outcome: ExpectationOutcome) -> dict[str, Any]:
    return _jsonable(
        {
            "dataset": outcome.dataset,
            "table": outcome.table,
            "expectation": outcome.expectation,
            "column": outcome.column,
            "severity": outcome.severity,
            "description": outcome.description,
            "success": outcome.success,
            "observed_value": outcome.observed_value,
            "element_count": outcome.element_count,
            "unexpected_count": outcome.unexpected_count,
            "examples": outcome.examples,
            "error": outcome.error,
        }
    )


def _error_message(exception_info: Any) -> str | None:
    if not isinstance(exception_info, Mapping):
        return None
    if exception_info.get("raised_exception"):
        return str(exception_info.get("exception_message"))
    for value in exception_info.values():  # keyed by metric configuration
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def new_context(docs_dir: Path | None = None) -> Any:
    """An in-memory GX context, progress bars off, with one Data Docs site at ``docs_dir``."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # GX logs its internals (datasource configs, temp dirs) at INFO: keep the stage log readable.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    for site in list(context.get_site_names()):
        context.delete_data_docs_site(site)
    if docs_dir is not None:
        context.add_data_docs_site(
            site_name="reports",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    return context


def _run_suite(
    context: Any, dataset: str, spec: SuiteSpec, frame: pd.DataFrame, max_examples: int
) -> list[ExpectationOutcome]:
    import great_expectations as gx

    source = context.data_sources.get(dataset) if dataset in _source_names(context) else None
    if source is None:
        source = context.data_sources.add_pandas(dataset)
    batch = source.add_dataframe_asset(spec.table).add_batch_definition_whole_dataframe("all")
    # The whole suite at once: adding expectations one by one re-serializes it every time.
    suite = context.suites.add(
        gx.ExpectationSuite(name=f"{dataset}.{spec.table}", expectations=list(spec.expectations))
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{dataset}.{spec.table}", data=batch, suite=suite)
    )
    index_columns = [c for c in INDEX_COLUMNS[spec.table] if c in frame.columns]
    result_format: dict[str, Any] = {"result_format": "COMPLETE"}
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    result = definition.run(
        batch_parameters={"dataframe": frame}, result_format=result_format, run_id=_run_id(definition.name)
    )
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        kwargs = config.kwargs
        column = kwargs.get("column") or (
            f"{kwargs['column_A']},{kwargs['column_B']}" if "column_A" in kwargs else None
        )
        details = item.result or {}
        # Identifying columns first, then the offending value: "dialogue_id='d1', turn=2, role=...".
        examples = [
            {**{c: e[c] for c in index_columns if c in e}, **{k: v for k, v in e.items() if k not in index_columns}}
            for e in (details.get("unexpected_index_list") or [])[:max_examples]
        ]
        if not examples and details.get("partial_unexpected_list"):
            examples = [{"value": v} for v in details["partial_unexpected_list"][:max_examples]]
        observed = details.get("observed_value")
        if config.type == "expect_table_columns_to_match_set" and not item.success:
            missing = sorted(set(kwargs.get("column_set") or []) - set(frame.columns))
            observed = {"missing_columns": missing}
        severity = getattr(config.severity, "value", config.severity)
        outcomes.append(
            ExpectationOutcome(
                dataset=dataset,
                table=spec.table,
                expectation=config.type,
                column=column,
                severity=str(severity),
                description=config.description or "",
                success=bool(item.success),
                observed_value=_jsonable(observed),
                element_count=details.get("element_count"),
                unexpected_count=details.get("unexpected_count"),
                examples=_jsonable(examples),
                error=_error_message(item.exception_info),
            )
        )
    # GX does not keep the suite's order: critical first, then by name, for readable reports.
    outcomes.sort(key=lambda o: (o.severity != CRITICAL, o.expectation, o.column or "", o.description))
    return outcomes


#: The run time GX stamps into the Data Docs (folder names, pages) and the results: fixed, so that
#: the same dialogues give the same bytes on any machine at any time (a DVC output must not
#: change on a rerun). The verdict's own time is the stage's, in the logs.
FIXED_RUN_TIME = "1970-01-01T00:00:00+00:00"
FIXED_STAMP = "19700101T000000.000000Z"  # the same time as GX writes it in folder names


#: GX appends the build time to the address of its logo on every page ("logo-long.png?d=...Z"),
#: shows the batch's load time (``ge_load_time``) and gives each collapsible block a random uuid4.
_BUILD_TIME = re.compile(r"\?d=\d{8}T\d{6}\.\d+Z")
_LOAD_TIME = re.compile(r"\b\d{8}T\d{6}\.\d+Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _strip_build_times(docs_dir: Path) -> None:
    """Data Docs without the build and load times and random ids GX writes into its pages, so that their
    bytes follow the data: each uuid becomes ``block-N`` in order of first appearance over the
    pages in path order, one numbering for all pages (a link between pages still resolves)."""
    numbering: dict[str, str] = {}

    def number(match: re.Match[str]) -> str:
        return numbering.setdefault(match.group(0), f"block-{len(numbering)}")

    for page in sorted(docs_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        cleaned = _UUID.sub(number, _LOAD_TIME.sub(FIXED_STAMP, _BUILD_TIME.sub("", text)))
        if cleaned != text:
            page.write_text(cleaned, encoding="utf-8")


def _run_id(name: str) -> Any:
    from great_expectations.core.run_identifier import RunIdentifier

    return RunIdentifier(run_name=name, run_time=FIXED_RUN_TIME)


def _source_names(context: Any) -> set[str]:
    return {ds.name for ds in context.data_sources.all().values()}


def validate_rows(
    context: Any,
    dataset: str,
    rows: Sequence[Mapping[str, Any]],
    params: ValidationParams,
    *,
    max_turns: int,
    threshold: float = 90.0,
    markers: Sequence[str] = ("[END]", "[ACCEPT]"),
    gated: bool = True,
    path: str = "",
) -> DatasetReport:
    """Run the three suites on one dataset's rows."""
    dialogues = dialogue_table(rows, threshold)
    turns = turn_table(rows)
    bigrams = bigram_table(turns)
    specs = [
        (dialogue_suite(params, max_turns=max_turns, source=dataset, leakage_critical=dataset == GATED), dialogues),
        (turn_suite(params, markers), turns),
        (bigram_suite(params), bigrams),
    ]
    outcomes: list[ExpectationOutcome] = []
    for spec, frame in specs:
        outcomes += _run_suite(context, dataset, spec, frame, params.max_examples)
    return DatasetReport(dataset, path, gated, len(dialogues), len(turns), outcomes)


def read_rows(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def validate_datasets(
    datasets: Mapping[str, tuple[str, Sequence[Mapping[str, Any]]]],
    params: Params,
    *,
    gated: Sequence[str] = (GATED,),
    docs_dir: Path | None = None,
) -> ValidationReport:
    """Validate each ``name -> (path, rows)``; build Data Docs when ``docs_dir`` is given."""
    if docs_dir is not None and docs_dir.exists():
        shutil.rmtree(docs_dir)
    context = new_context(docs_dir)
    reports = [
        validate_rows(
            context,
            name,
            rows,
            params.validation,
            max_turns=params.simulation.max_turns,
            threshold=params.preprocess.title_match_threshold,
            markers=(params.preprocess.end_marker, params.preprocess.accept_marker),
            gated=name in gated,
            path=path,
        )
        for name, (path, rows) in datasets.items()
    ]
    docs = None
    if docs_dir is not None:
        context.build_data_docs(site_names=["reports"])
        _strip_build_times(docs_dir)
        docs = str(docs_dir / "index.html")
    return ValidationReport(reports, docs)


def run_validation(params: Params, root: Path) -> ValidationReport:
    """The validate stage: read the generated datasets, validate, write the reports, gate."""
    datasets: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    for name, rel in DATASETS.items():
        path = root / rel
        if name != GATED and not params.validation.validate_baselines:
            continue
        if not path.is_file():
            if name == GATED:
                raise ValidationFailed(f"validation failed: {rel} does not exist (run simulate first)")
            log.warning("validate: %s is missing; baseline %s not validated", rel, name)
            continue
        datasets[name] = (rel, read_rows(path))
    report = validate_datasets(datasets, params, docs_dir=root / DOCS_DIR)
    # Data Docs links relative to the repository, not this machine's absolute path.
    report.data_docs = f"{DOCS_DIR}/index.html"
    summary = root / SUMMARY_PATH
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps(report.to_dict(), indent=2, sort_keys=False) + "\n", "utf-8")
    for dataset in report.datasets:
        for outcome in dataset.failed_warnings:
            log.warning("validate: warning: %s: %s", outcome.headline(), outcome.detail())
        if not dataset.gated:
            for outcome in dataset.failed_critical:
                log.warning("validate (report-only): %s: %s", outcome.headline(), outcome.detail())
    log.info(
        "validate: %s",
        ", ".join(
            f"{d.name}: {d.num_dialogues} dialogues, {len(d.failed_critical)} critical / "
            f"{len(d.failed_warnings)} warning failures"
            for d in report.datasets
        ),
    )
    if not report.success:
        raise ValidationFailed(report.failure_message())
    return report


__all__ = [
    "DATASETS",
    "DatasetReport",
    "ExpectationOutcome",
    "ValidationFailed",
    "ValidationReport",
    "run_validation",
    "validate_datasets",
    "validate_rows",
]
