"""ReDial reader: one JSON dialogue a line, in both variants found in the wild.

The official files carry ``messageId`` / ``timeOffset`` per message; the iEvaLM copy drops them
and adds ``turn_id``, ``entity``, ``item`` ... Only ``text`` and ``senderWorkerId`` are used, so
both read the same. Known harmless irregularities (questionnaires given as ``[]``, a ``null``
title in ``movieMentions``, an ``@id`` missing from ``movieMentions`` but known to the catalog)
are recorded as quirks, not errors. Unusable records come back as :class:`BadRecordError` values
(not raised) so the caller decides between failing and skipping.

Seed-profile fields (the spec's rule): an item is a *target* when ``suggested == 1`` and
``liked == 1``; *liked* / *disliked* when the seeker brought it up (``suggested == 0``) with
``liked`` 1 / 0. Answers are merged per item, the seeker's (``initiatorQuestions``) first and the
recommender's where the seeker's are missing.

The seeker's decision (``seeker_accepted``): they accepted a recommendation when they liked a movie
that was suggested to them and that they had not seen before (``suggested == 1``, ``liked == 1``,
``seen`` 0 or "did not say"); liking a suggestion they had already seen is agreement, not a movie
taken. A record without questionnaire answers has no decision (None). In the 1,000-dialogue train
sample, 667 seekers accepted by this rule, 944 have a target.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from interplay.corpus.catalog import Catalog
from interplay.corpus.encoding import BOM_QUIRK, without_bom
from interplay.corpus.schema import Dialogue, ItemMention, Message, Role
from interplay.errors import BadRecordError
from interplay.text.titles import display_title, split_title_year

SOURCE = "redial"
PATTERNS = ("*.jsonl",)
MENTION = re.compile(r"@(\d+)")
_REQUIRED = (
    "conversationId",
    "initiatorWorkerId",
    "respondentWorkerId",
    "messages",
    "movieMentions",
    "initiatorQuestions",
    "respondentQuestions",
)


class _Bad(Exception):
    def __init__(self, field: str, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.field, self.reason, self.detail = field, reason, detail


def _questions(record: Mapping[str, Any], key: str, quirks: list[str]) -> dict[str, dict]:
    value = record[key]
    if isinstance(value, list) and not value:
        quirks.append("questions_empty_list")
        return {}
    if not isinstance(value, dict):
        raise _Bad(key, "bad_value", f"expected an object of answers, got {type(value).__name__}")
    answers: dict[str, dict] = {}
    for item_id, answer in value.items():
        if isinstance(answer, dict) and "suggested" in answer and "liked" in answer:
            answers[str(item_id)] = answer
        else:
            quirks.append("incomplete_answer")
    return answers


def _movie_mentions(record: Mapping[str, Any], quirks: list[str]) -> dict[str, str]:
    value = record["movieMentions"]
    if isinstance(value, list) and not value:
        quirks.append("movie_mentions_empty_list")
        return {}
    if not isinstance(value, dict):
        raise _Bad("movieMentions", "bad_value", f"expected an object, got {type(value).__name__}")
    titles: dict[str, str] = {}
    for item_id, title in value.items():
        if not isinstance(title, str) or not title.strip():
            quirks.append("null_movie_title")
            continue
        titles[str(item_id)] = display_title(*split_title_year(title))
    return titles


def _resolve(item_id: str, catalog: Catalog, mentioned: Mapping[str, str]) -> str | None:
    item = catalog.get(item_id)
    if item is not None:
        return item.title
    return mentioned.get(item_id)


class _WorkerId:
    """A worker id as written (``raw``) and the value it is compared by: the number 959 and the
    string "959" are one worker (an export that quotes some ids but not others), "959" and "0959"
    too; other strings compare as written."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        text = str(raw).strip() if isinstance(raw, int | str) and not isinstance(raw, bool) else None
        self.value: Any = int(text) if text is not None and text.isdigit() else raw


def parse_record(record: Any, catalog: Catalog, path: str, line: int) -> Dialogue:
    """One decoded JSON record -> a raw :class:`Dialogue` (messages not yet merged/rendered)."""
    try:
        return _parse(record, catalog, path, line)
    except _Bad as bad:
        raise BadRecordError(path, line, bad.field, bad.reason, bad.detail) from None


def _parse(record: Any, catalog: Catalog, path: str, line: int) -> Dialogue:
    if not isinstance(record, dict):
        raise _Bad("(record)", "malformed_json", "expected a JSON object")
    for key in _REQUIRED:
        if key not in record:
            raise _Bad(key, "missing_field", "required field is missing")
    quirks: list[str] = []
    seeker, recommender = _WorkerId(record["initiatorWorkerId"]), _WorkerId(record["respondentWorkerId"])
    mentioned = _movie_mentions(record, quirks)
    if not isinstance(record["messages"], list):
        raise _Bad("messages", "bad_value", "expected a list of messages")

    messages: list[Message] = []
    mentions: list[ItemMention] = []
    for i, raw in enumerate(record["messages"]):
        if not isinstance(raw, dict):
            raise _Bad(f"messages[{i}]", "bad_value", "expected a message object")
        for key in ("text", "senderWorkerId"):
            if key not in raw:
                raise _Bad(f"messages[{i}].{key}", "missing_field", "required field is missing")
        text, sender = raw["text"], _WorkerId(raw["senderWorkerId"])
        if not isinstance(text, str):
            raise _Bad(f"messages[{i}].text", "bad_value", "expected a string")
        role: Role
        if sender.value == seeker.value:
            role = "user"
        elif sender.value == recommender.value:
            role = "recommender"
        else:
            raise _Bad(
                f"messages[{i}].senderWorkerId",
                "unknown_sender",
                f"sender {sender.raw!r} is neither the initiator ({seeker.raw!r}) nor the respondent ({recommender.raw!r})",
            )
        if type(sender.raw) is not type((seeker if role == "user" else recommender).raw):
            quirks.append("worker_id_types_differ")
        for item_id in MENTION.findall(text):
            title = _resolve(item_id, catalog, mentioned)
            if title is None:
                raise _Bad(
                    f"messages[{i}].text",
                    "unresolved_mention",
                    f"@{item_id} is in neither movieMentions nor the item catalog",
                )
            if item_id not in mentioned:
                quirks.append("mention_resolved_by_catalog")
            mentions.append(ItemMention(item_id, title, len(messages), role))
        messages.append(Message(role, text))

    seeker_answers = _questions(record, "initiatorQuestions", quirks)
    recommender_answers = _questions(record, "respondentQuestions", quirks)
    answers = {**recommender_answers, **seeker_answers}
    order = list(dict.fromkeys([m.item_id for m in mentions] + sorted(answers, key=str)))
    liked, disliked, targets = [], [], []
    accepted = False
    for item_id in order:
        answer = answers.get(item_id)
        if answer is None:
            continue
        if _resolve(item_id, catalog, mentioned) is None:
            quirks.append("answer_without_title")
            continue
        suggested, like = answer.get("suggested"), answer.get("liked")
        if suggested == 1 and like == 1:
            targets.append(item_id)
            accepted = accepted or answer.get("seen") != 1
        elif suggested == 0 and like == 1:
            liked.append(item_id)
        elif suggested == 0 and like == 0:
            disliked.append(item_id)

    return Dialogue(
        dialogue_id=f"{SOURCE}-{record['conversationId']}",
        source=SOURCE,
        split=None,
        messages=tuple(messages),
        item_mentions=tuple(mentions),
        liked_item_ids=tuple(liked),
        disliked_item_ids=tuple(disliked),
        target_item_ids=tuple(targets),
        seeker_accepted=accepted if answers else None,
        raw_file=path,
        raw_line=line,
        quirks=tuple(quirks),
    )


def json_problem(exc: json.JSONDecodeError, text: str) -> str:
    """``json``'s reason on one line: its messages end in "at" ("Unterminated string starting at")
    or not ("Expecting value"), and a line that stops mid-record is said to be truncated."""
    where = f"{exc.msg} column {exc.colno}" if exc.msg.endswith(" at") else f"{exc.msg} at column {exc.colno}"
    if exc.msg.startswith("Unterminated string") or exc.pos >= len(text):
        return f"invalid JSON: {where}; the line ends before the record does (truncated?)"
    return f"invalid JSON: {where}"


def read_redial(
    path: Path, catalog: Catalog, match_threshold: float = 90.0
) -> Iterator[Dialogue | BadRecordError]:
    """Every non-blank line of ``path``, as a Dialogue or the BadRecordError that rejects it.

    Lines are decoded one by one, so one undecodable line costs one record, not the file.
    """
    del match_threshold  # ReDial links by id
    name = str(path)
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            bom = False
            if line_no == 1:
                raw, bom = without_bom(raw)
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield BadRecordError(
                    name, line_no, "(line)", "undecodable", f"not UTF-8 at byte {exc.start}"
                )
                continue
            text = text.rstrip("\r\n")  # else a cut-off string reads as "Invalid control character"
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                yield BadRecordError(name, line_no, "(line)", "malformed_json", json_problem(exc, text))
                continue
            try:
                dialogue = parse_record(record, catalog, name, line_no)
            except BadRecordError as exc:
                yield exc
                continue
            yield replace(dialogue, quirks=dialogue.quirks + (BOM_QUIRK,)) if bom else dialogue
