"""The metrics of SPEC ("Metrics"), as pure functions over plain dialogue rows.

A dialogue row is a mapping with the columns of the dialogue contract (``messages``,
``item_mentions``, ``target_item_ids``, ``target_titles``, ``recommended_item_ids``,
``accepted_item_id``, ``outcome``, ``target_attributes`` ...), as ``pyarrow``'s ``to_pylist``
gives them. Nothing here reads files; the evaluate stage and the validation gate share these
definitions, so the gate's leakage check and the reported ``leakage_rate`` cannot disagree.

Conventions (documented in the evaluation report):

- word tokens (distinct-n): lowercased ``\\w+`` runs, apostrophes kept inside a word;
- words per turn: whitespace-separated words of the turn as written;
- n-grams never cross a turn boundary; distinct-n is pooled over all turns of a role.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from interplay.dialogue.rows import ROLES
from interplay.text.titles import names_title

OUTCOMES: tuple[str, ...] = ("accepted", "gave_up", "max_turns", "error")
#: How the report counts dialogues: the outcomes, with the errors the leak guard caused (its
#: resampling of a user turn naming a target failed) apart from the other errors.
OUTCOME_CLASSES: tuple[str, ...] = ("accepted", "gave_up", "max_turns", "leak_guard", "error")
ATTRIBUTE_FIELDS: tuple[str, ...] = ("genres", "decade", "directors", "actors")
#: The n of the distinct-n metrics.
DISTINCT_N: tuple[int, ...] = (1, 2)


def metric_keys(k_values: Iterable[int] = (1, 5, 10)) -> tuple[str, ...]:
    """Every key of one system's entry in ``reports/metrics.json``, in report order.

    The one declaration of the metric keys: every system has all of them, a metric that does not
    apply to a system or has no data (e.g. ``match_score`` without an accepted dialogue) is
    ``None`` (JSON ``null``), never left out and never NaN. ``k_values`` are the k of recall@k. The
    realism keys are computed by :mod:`interplay.evaluation.realism`; ``outcome_<outcome>`` are
    counts of dialogues.
    """
    return (
        "num_dialogues",
        "num_with_profile",
        "success_rate",
        "ended_after_recommendation_rate",
        *(f"recall@{k}" for k in k_values),
        "match_score",
        "half_match_rate",
        "leakage_rate",
        "leak_attempt_rate",
        "item_turn_share",
        "avg_turns",
        *(f"avg_words_per_turn_{role}" for role in ROLES),
        *(f"distinct_{n}_{role}" for n in DISTINCT_N for role in ROLES),
        "duplicate_turn_ratio",
        "realism_auc",
        *(f"turn_realism_auc_{role}" for role in ROLES),
        "leak_guard_rejections_per_dialogue",
        *(f"outcome_{outcome}" for outcome in OUTCOME_CLASSES),
    )


_TOKEN = re.compile(r"\w+(?:'\w+)*")
_SPACE = re.compile(r"\s+")

Row = Mapping[str, Any]


# --- text -------------------------------------------------------------------------------------


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens: ``"Don't panic, OK?"`` -> ``["don't", "panic", "ok"]``."""
    return _TOKEN.findall(text.lower())


def word_count(text: str) -> int:
    """Whitespace-separated words of a turn as written."""
    return len(text.split())


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(texts: Iterable[str], n: int) -> float | None:
    """Unique n-grams / all n-grams over ``texts`` (n-grams stay inside one text); None if none."""
    total = 0
    seen: set[tuple[str, ...]] = set()
    for text in texts:
        grams = ngrams(tokenize(text), n)
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else None


def normalize_turn(text: str) -> str:
    """The key under which two turns count as duplicates: lowercase, single spaces."""
    return _SPACE.sub(" ", text.strip().lower())


def duplicate_turn_flags(contents: Sequence[str | None]) -> list[bool]:
    """For each turn: does it repeat (normalized) an earlier turn of the same dialogue?"""
    seen: set[str] = set()
    flags: list[bool] = []
    for content in contents:
        key = normalize_turn(content or "")
        flags.append(bool(key) and key in seen)
        if key:
            seen.add(key)
    return flags


# --- per-dialogue helpers -------------------------------------------------------------------


def messages_of(row: Row) -> list[Mapping[str, Any]]:
    return [m for m in (row.get("messages") or []) if isinstance(m, Mapping)]


def recommended_items(row: Row) -> list[str]:
    """Distinct items the recommender mentioned, in order of first mention.

    ``recommended_item_ids`` when the row has it (simulated dialogues), else derived from the
    recommender's ``item_mentions`` (real dialogues).
    """
    given = row.get("recommended_item_ids")
    if given is not None:
        return list(dict.fromkeys(str(i) for i in given))
    mentions = [
        m for m in (row.get("item_mentions") or []) if m.get("role") == "recommender"
    ]
    mentions.sort(key=lambda m: m.get("turn", 0))  # stable: keeps order within a turn
    return list(dict.fromkeys(str(m["item_id"]) for m in mentions if m.get("item_id")))


def hit_at_k(recommended: Sequence[str], targets: Iterable[str], k: int) -> bool:
    """Is a target among the first ``k`` distinct recommended items?"""
    first = list(dict.fromkeys(recommended))[:k]
    return bool(set(first) & set(targets))


def leaked_targets(row: Row, threshold: float = 90.0) -> list[tuple[int, str]]:
    """``(turn, title)`` of each target a user turn named before the recommender mentioned it.

    A user turn names a target when its text names the target title (see ``interplay.text.titles.names_title``)
    or when one of its linked mentions is the target item. The recommender "mentions" a target
    at its first recommender turn that names it or links to it.
    """
    messages = messages_of(row)
    ids = [str(i) for i in (row.get("target_item_ids") or [])]
    titles = [str(t) for t in (row.get("target_titles") or [])]
    mentions = list(row.get("item_mentions") or [])
    leaks: list[tuple[int, str]] = []
    for index, title in enumerate(titles):
        item_id = ids[index] if index < len(ids) else None
        rec_turns = [
            m.get("turn", 0)
            for m in mentions
            if m.get("role") == "recommender" and item_id is not None and str(m.get("item_id")) == item_id
        ]
        rec_turns += [
            turn
            for turn, m in enumerate(messages)
            if m.get("role") == "recommender" and names_title(m.get("content") or "", title, threshold)
        ]
        first_rec = min(rec_turns, default=len(messages))
        user_mention_turns = {
            m.get("turn", 0)
            for m in mentions
            if m.get("role") == "user" and item_id is not None and str(m.get("item_id")) == item_id
        }
        for turn, message in enumerate(messages[:first_rec]):
            if message.get("role") != "user":
                continue
            if turn in user_mention_turns or names_title(
                message.get("content") or "", title, threshold
            ):
                leaks.append((turn, title))
                break
    return sorted(leaks)


def dialogue_leaks(row: Row, threshold: float = 90.0) -> bool:
    return bool(leaked_targets(row, threshold))


def _as_set(values: Any) -> set[str]:
    if values is None:
        return set()
    if isinstance(values, str):
        values = [values]
    return {" ".join(str(v).split()).lower() for v in values if v is not None and str(v).strip()}


def present_fields(target: Mapping[str, Any]) -> list[str]:
    """The attribute fields a target has."""
    return [f for f in ATTRIBUTE_FIELDS if (_as_set(target.get(f)) if f != "decade" else target.get(f))]


def shared_attributes(item: Mapping[str, Any] | None, target: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Field -> the target's values that ``item`` has too (genres, directors, actors: the sets'
    overlap, case-insensitively, in the target's order; decade: equal), for the fields they share.

    The one definition of "an item fits a target": ``match_score`` counts these fields, and the
    user simulator's wish notes (:mod:`interplay.grounding.notes`) state them.
    """
    target = target or {}
    item = item or {}
    shared: dict[str, list[str]] = {}
    for field in present_fields(target):
        if field == "decade":
            if str(item.get("decade") or "").lower() == str(target["decade"]).lower():
                shared[field] = [str(target["decade"])]
            continue
        have = _as_set(item.get(field))
        values = target.get(field)
        values = [values] if isinstance(values, str) else list(values or ())
        common = [" ".join(str(v).split()) for v in values if _as_set([v]) & have]
        if common:
            shared[field] = common
    return shared


def match_score(item: Mapping[str, Any] | None, target: Mapping[str, Any] | None) -> float | None:
    """Share of the target's attribute fields that ``item`` shares (SPEC ``match_score``).

    Fields: genres, directors, actors (shared when the sets overlap, case-insensitively) and
    decade (equal): :func:`shared_attributes`. Only fields the target has count; None when it has
    none. An item without metadata shares nothing.
    """
    present = present_fields(target or {})
    if not present:
        return None
    return len(shared_attributes(item, target)) / len(present)


def decade_of(year: Any) -> str | None:
    try:
        return f"{int(year) // 10 * 10}s" if year is not None else None
    except (TypeError, ValueError):
        return None


# --- dataset level ----------------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def role_turns(rows: Iterable[Row], role: str) -> list[str]:
    return [
        m.get("content") or "" for row in rows for m in messages_of(row) if m.get("role") == role
    ]


def success_rate(rows: Sequence[Row]) -> float | None:
    """Share of dialogues the user ended by accepting a recommended item: its accept marker after
    a recommendation linked to the catalog (outcome ``accepted``)."""
    return _mean([float(r.get("outcome") == "accepted") for r in rows])


def ended_after_recommendation_rate(rows: Sequence[Row]) -> float | None:
    """Share of dialogues the user ended (with either marker) after a linked recommendation: the
    old success rule, which read any ending after a recommendation as acceptance. Beside
    :func:`success_rate` it shows how often the user left without the movie it was offered."""
    return _mean(
        [float(r.get("termination_reason") == "end_marker" and bool(r.get("recommended_item_ids"))) for r in rows]
    )


def real_acceptance_rate(rows: Sequence[Row]) -> float | None:
    """Share of real dialogues whose seeker accepted a recommendation by the corpus's labels
    (``seeker_accepted``; dialogues without a label left out): the real reference for
    :func:`success_rate`."""
    return _mean([float(r["seeker_accepted"]) for r in rows if r.get("seeker_accepted") is not None])


def recall_at_k(rows: Sequence[Row], k: int) -> float | None:
    """Share of dialogues (with at least one target) where a target is among the first k."""
    hits = [
        float(hit_at_k(recommended_items(r), [str(t) for t in r["target_item_ids"]], k))
        for r in rows
        if r.get("target_item_ids")
    ]
    return _mean(hits)


def leakage_rate(rows: Sequence[Row], threshold: float = 90.0) -> float | None:
    return _mean([float(dialogue_leaks(r, threshold)) for r in rows if r.get("target_titles")])


def item_turn_share(rows: Sequence[Row]) -> float | None:
    """Share of recommender turns that name a catalog item (a linked mention of that turn; real
    ReDial: about 0.46)."""
    named = total = 0
    for row in rows:
        turns = {m["turn"] for m in row.get("item_mentions") or [] if m.get("role") == "recommender"}
        for turn, message in enumerate(messages_of(row)):
            if message["role"] == "recommender":
                total += 1
                named += turn in turns
    return named / total if total else None


def mean_match_score(
    rows: Sequence[Row], items: Mapping[str, Mapping[str, Any]]
) -> float | None:
    """Mean ``match_score`` over dialogues with an accepted item (and a target with fields)."""
    scores = []
    for row in rows:
        accepted = row.get("accepted_item_id")
        if not accepted:
            continue
        score = match_score(items.get(str(accepted)), row.get("target_attributes"))
        if score is not None:
            scores.append(score)
    return _mean(scores)


def half_match_rate(
    rows: Sequence[Row], items: Mapping[str, Mapping[str, Any]]
) -> float | None:
    """Share of dialogues that ended with an accepted item sharing at least half of the target's
    attribute fields (``match_score`` ≥ 0.5). Over dialogues whose target has fields: a dialogue
    without an accepted item counts as a miss, so a system cannot score by accepting rarely."""
    hits = []
    for row in rows:
        target = row.get("target_attributes")
        if match_score({}, target) is None:
            continue
        accepted = row.get("accepted_item_id")
        score = match_score(items.get(str(accepted)), target) if accepted else None
        hits.append(float(score is not None and score >= 0.5))
    return _mean(hits)


def outcome_class(row: Row) -> str:
    """The row's outcome, or ``leak_guard`` for an error the leak guard caused (see :data:`OUTCOME_CLASSES`)."""
    return "leak_guard" if row.get("termination_reason") == "leak_guard" else str(row.get("outcome"))


def outcome_counts(rows: Sequence[Row]) -> dict[str, int]:
    """Dialogues per class of :data:`OUTCOME_CLASSES`, every class present (0 when none)."""
    return {name: sum(1 for r in rows if outcome_class(r) == name) for name in OUTCOME_CLASSES}


def _guarded(rows: Sequence[Row]) -> list[int]:
    """The leak guard's rejections of the dialogues it watched (None: no guard ran)."""
    return [int(r["leak_guard_rejections"]) for r in rows if r.get("leak_guard_rejections") is not None]


def leak_attempt_rate(rows: Sequence[Row]) -> float | None:
    """Share of the guarded dialogues in which the user simulator wrote a turn naming a target the
    recommender had not named (the guard rejected it): the leaks ``leakage_rate``, measured after
    the guard, cannot show. None where no guard ran."""
    return _mean([float(count > 0) for count in _guarded(rows)])


def leak_guard_rejections_per_dialogue(rows: Sequence[Row]) -> float | None:
    """Mean number of user turns the leak guard rejected (and resampled) per guarded dialogue."""
    return _mean([float(count) for count in _guarded(rows)])


def avg_turns(rows: Sequence[Row]) -> float | None:
    return _mean([float(len(messages_of(r))) for r in rows])


def avg_words_per_turn(rows: Sequence[Row], role: str) -> float | None:
    return _mean([float(word_count(t)) for t in role_turns(rows, role)])


def duplicate_turn_ratio(rows: Sequence[Row]) -> float | None:
    flags = [
        f for r in rows for f in duplicate_turn_flags([m.get("content") for m in messages_of(r)])
    ]
    return _mean([float(f) for f in flags])
