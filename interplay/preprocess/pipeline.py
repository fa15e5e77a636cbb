"""The preprocess stage as one pure function: raw files + params -> dialogues, profiles, SFT sets
and a report. Writing them is :mod:`interplay.preprocess.artifacts`' job.

The report accounts for every record read: per file and in total, ``kept`` plus the sum of
``skipped`` (by reason) equals ``read``. Bad records fail the run by default
(``preprocess.on_bad_record: fail``), naming file, line and field; with ``skip`` they are counted
under their reason. Records beyond ``preprocess.max_dialogues_per_file`` are counted under
``max_dialogues_per_file``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, get_args

from tqdm.auto import tqdm

from interplay.config.params import Params, TrainedRole
from interplay.corpus.catalog import Catalog, load_catalog
from interplay.corpus.readers import CorpusReader, get_reader
from interplay.corpus.schema import Dialogue
from interplay.errors import BadRecordError
from interplay.grounding.notes import Grounder, training_candidate_notes_each, training_item_notes
from interplay.preprocess.normalize import normalize_dialogue
from interplay.preprocess.profiles import Profile, build_profile
from interplay.preprocess.sft import ChatMessage, recommender_example, script_examples, user_example
from interplay.preprocess.splits import assign_split, plan_splits

log = logging.getLogger(__name__)

SFT_SPLITS = ("train", "validation")
SFT_ROLES: tuple[TrainedRole, ...] = get_args(TrainedRole)
SPLITS = ("train", "validation", "test")
LIMIT_REASON = "max_dialogues_per_file"


@dataclass(frozen=True)
class SftRow:
    dialogue_id: str
    messages: list[ChatMessage]


@dataclass
class PreprocessResult:
    catalog: Catalog
    dialogues: list[Dialogue]
    profiles: list[Profile]
    #: role ("user" | "recommender") -> split ("train" | "validation") -> rows.
    sft: dict[str, dict[str, list[SftRow]]]
    report: dict[str, Any] = field(default_factory=dict)


def _sorted_counts(counter: Counter[str]) -> dict[str, int]:
    return {k: counter[k] for k in sorted(counter)}


def _records(
    reader: CorpusReader, path: Path, shown: Path, catalog: Catalog, threshold: float
) -> Iterator[Dialogue | BadRecordError]:
    """The reader's records of ``path``; an error that stops the whole file names ``shown`` too."""
    try:
        yield from reader.read(path, catalog, threshold)
    except BadRecordError as exc:
        raise exc.at(shown) from None


def read_dialogues(
    corpus_dir: Path, catalog: Catalog, params: Params, origin: Path | None = None
) -> tuple[list[Dialogue], dict[str, Any]]:
    """Read, normalize and split every dialogue file; returns the dialogues and the accounting.

    ``origin`` is the folder the files of ``corpus_dir`` were copied from (``corpus.local_dir``):
    errors name the user's file there, not the workspace's copy of it.
    """
    reader = get_reader(params.corpus.name)
    found = reader.files(corpus_dir)
    for rel, reason in found.ignored.items():
        log.info("%s: ignored, %s", rel, reason)
    files = found.dialogues
    if not files:
        ignored = f" ({len(found.ignored)} other files ignored)" if found.ignored else ""
        raise FileNotFoundError(
            f"{corpus_dir}: no {params.corpus.name} dialogue files ({', '.join(reader.patterns)}){ignored}; "
            "run the fetch stage"
        )
    pre = params.preprocess
    plan = plan_splits(files)
    log.info(
        "reading %s",
        ", ".join(f"{f.relative_to(corpus_dir).as_posix()} ({plan.describe(f)})" for f in files),
    )
    seen: dict[str, str] = {}
    dialogues: list[Dialogue] = []
    per_file: dict[str, Any] = {}
    quirk_records: Counter[str] = Counter()
    quirk_total: Counter[str] = Counter()
    for path in files:
        rel = path.relative_to(corpus_dir).as_posix()
        shown = origin / rel if origin is not None else path
        read = 0
        skipped: Counter[str] = Counter()
        kept: list[Dialogue] = []
        records = _records(reader, path, shown, catalog, pre.title_match_threshold)
        for record in tqdm(records, desc=rel, unit=" dialogues", disable=None, leave=False):
            read += 1
            try:
                if isinstance(record, BadRecordError):
                    raise record
                dialogue = normalize_dialogue(record)
                if dialogue.dialogue_id in seen:
                    raise BadRecordError(
                        path, dialogue.raw_line, "dialogue_id", "duplicate_id",
                        f"{dialogue.dialogue_id} was already read at {seen[dialogue.dialogue_id]}",
                    )
            except BadRecordError as exc:
                exc = exc.at(shown)
                if pre.on_bad_record == "fail":
                    raise exc from None
                skipped[exc.reason] += 1
                log.warning("skipping bad record: %s", exc)
                continue
            if pre.max_dialogues_per_file is not None and len(kept) >= pre.max_dialogues_per_file:
                skipped[LIMIT_REASON] += 1
                continue
            seen[dialogue.dialogue_id] = f"{shown}:{dialogue.raw_line}"
            split = assign_split(dialogue.dialogue_id, path, params.seed, pre.splits, plan)
            kept.append(replace(dialogue, split=split))
            quirk_records.update(set(dialogue.quirks))
            quirk_total.update(dialogue.quirks)
        per_file[rel] = {
            "read": read, "kept": len(kept), "skipped": _sorted_counts(skipped), "split": plan.describe(path)
        }
        dialogues.extend(kept)
        log.info("%s: %d read, %d kept, skipped %s", rel, read, len(kept), dict(skipped))
    total_skipped: Counter[str] = Counter()
    for info in per_file.values():
        total_skipped.update(info["skipped"])
    accounting = {
        "files": per_file,
        "total": {
            "read": sum(f["read"] for f in per_file.values()),
            "kept": len(dialogues),
            "skipped": _sorted_counts(total_skipped),
        },
        "quirks": _sorted_counts(quirk_records),
        "quirk_occurrences": _sorted_counts(quirk_total),
        "corpus_ships_test_file": plan.ships_test_file,
        "ignored_files": found.ignored,
    }
    return dialogues, accounting


def _require_train_dialogues(dialogues: list[Dialogue], accounting: dict[str, Any], shown: Path) -> None:
    """Refuse a corpus that leaves nothing to fine-tune on (its files are all named as validation
    or test splits, or its training files' records were all skipped): today's stages would train
    on empty sets and fail far later, or not at all."""
    if any(d.split == "train" for d in dialogues):
        return
    files = ", ".join(
        f"{name} ({info['kept']} of {info['read']} kept, {info['split']})" for name, info in accounting["files"].items()
    )
    raise FileNotFoundError(
        f"{shown}: no train dialogues to fine-tune on: {files}; add a training file (e.g. train_data.jsonl) "
        "or records that can be read"
    )


def preprocess_corpus(
    corpus_dir: Path, catalog_dir: Path, params: Params, origin: Path | None = None
) -> PreprocessResult:
    """Everything the preprocess stage produces, in memory; nothing is written."""
    catalog = load_catalog(catalog_dir)
    dialogues, accounting = read_dialogues(corpus_dir, catalog, params, origin)
    _require_train_dialogues(dialogues, accounting, origin or corpus_dir)
    pre = params.preprocess

    profiles: list[Profile] = []
    profile_of: dict[str, Profile] = {}
    removals = Counter[str]()
    for dialogue in tqdm(dialogues, desc="profiles", unit=" dialogues", disable=None, leave=False):
        outcome = build_profile(dialogue, catalog, pre)
        removals["summary"] += outcome.summary_removals
        removals["attributes"] += outcome.attribute_removals
        if outcome.profile is not None:
            profiles.append(outcome.profile)
            profile_of[dialogue.dialogue_id] = outcome.profile

    grounder = None
    if params.simulation.grounding == "catalog":
        grounder = Grounder.fit(catalog, [d for d in dialogues if d.split == "train"], params.retriever)
    sft: dict[str, dict[str, list[SftRow]]] = {r: {s: [] for s in SFT_SPLITS} for r in SFT_ROLES}
    trained = [d for d in dialogues if d.split in SFT_SPLITS]
    candidate_notes = training_candidate_notes_each(trained, grounder) if grounder else [None] * len(trained)
    for dialogue, notes in tqdm(
        zip(trained, candidate_notes), total=len(trained), desc="training sets", unit=" dialogues",
        disable=None, leave=False,
    ):
        profile = profile_of.get(dialogue.dialogue_id)
        if profile is not None:
            wish = asdict(profile.target_attributes)
            item_notes = training_item_notes(dialogue, grounder, wish) if grounder else None
            example = user_example(dialogue, profile, pre.end_marker, pre.accept_marker, item_notes)
            if example is not None:
                sft["user"][dialogue.split].append(SftRow(dialogue.dialogue_id, example))
            for example in script_examples(dialogue, profile, pre.end_marker, pre.accept_marker):
                sft["script"][dialogue.split].append(SftRow(dialogue.dialogue_id, example))
        example = recommender_example(dialogue, notes)
        if example is not None:
            sft["recommender"][dialogue.split].append(SftRow(dialogue.dialogue_id, example))

    def by_split(rows: list[Any]) -> dict[str, int]:
        counts = Counter(r.split for r in rows)
        return {s: counts.get(s, 0) for s in SPLITS}

    report: dict[str, Any] = {
        "corpus": params.corpus.name,
        **accounting,
        "catalog": {"items": len(catalog)},
        "dialogues": {
            "total": len(dialogues),
            "by_split": by_split(dialogues),
            "opening_role": _sorted_counts(Counter(d.opening_role or "none" for d in dialogues)),
            "messages": sum(len(d.messages) for d in dialogues),
            "item_mentions": sum(len(d.item_mentions) for d in dialogues),
        },
        "profiles": {
            "total": len(profiles),
            "by_split": by_split(profiles),
            "dialogues_without_target": len(dialogues) - len(profiles),
        },
        "sft": {role: {s: len(rows) for s, rows in splits.items()} for role, splits in sft.items()},
        "title_removals": {
            "summary": removals["summary"],
            "attributes": removals["attributes"],
            "total": removals["summary"] + removals["attributes"],
        },
    }
    return PreprocessResult(catalog, dialogues, profiles, sft, report)


def preprocess_raw(raw_dir: Path, params: Params) -> PreprocessResult:
    """:func:`preprocess_corpus` on the fetch stage's layout (``corpus/`` and ``catalog/``); the
    corpus files are copies of those in ``corpus.local_dir``, which errors name."""
    return preprocess_corpus(raw_dir / "corpus", raw_dir / "catalog", params, Path(params.corpus.local_dir))
