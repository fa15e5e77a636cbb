"""Train on generated, test on real: the pieces of ``benchmarks/bench_downstream.py``.

Each role is fine-tuned on equal numbers of dialogues from several sources (real train dialogues,
Interplay's, the reference-dependent baseline's, a mixture) and judged on the real test split:

* **Training sets** (:func:`equal_size_sets`): every source's dialogues come from train-split
  profiles only; the real source is the real dialogues of the very profiles that seeded the
  generated ones (same people, same targets), and the mixture is the first half of the real
  source with the second half of Interplay's (disjoint profiles, the same total). Any dialogue or
  profile of another split is refused, so no test dialogue reaches a training set.
* **Examples** (:func:`sft_row`): a dialogue of any source becomes the sft row the preprocess
  stage makes of a real one (:mod:`interplay.preprocess.sft`), without grounding notes: the
  reference-dependent baseline has none, and evaluation shows none, so no source is favoured.
* **Real-turn NLL** (:func:`real_turn_chat`, :func:`example_losses`): a test dialogue seen from
  one role, its markers removed and none added, so only the tokens real people wrote in that
  role's turns are scored; the summed NLL and token count per dialogue make a :class:`Ratio`
  whose bootstrap interval is over dialogues.
* **Recommendation** (:func:`recommendation_events`, :func:`title_log_likelihoods`,
  :func:`hits_at`): every recommender message naming an item not named before in its dialogue is
  one event per such item; the retriever's top candidates for the conversation before it are
  re-ranked by the model's log-likelihood of each title as the start of its reply.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from interplay.corpus.schema import Dialogue, ItemMention, Message
from interplay.dialogue.rows import ChatMessage, Role, role_view
from interplay.evaluation.intervals import (
    Ratio,
    Resampling,
    bootstrap_interval,
    comparison_record,
    paired_comparison,
)
from interplay.preprocess.profiles import Profile
from interplay.preprocess.sft import recommender_example, user_example
from interplay.text.end_marker import strip_markers
from interplay.text.prompts import RECOMMENDER_SYSTEM_PROMPT, user_system_prompt

#: The training sources, in the report's order.
SOURCES = ("real", "interplay", "reference_dependent", "real_plus_interplay")


@dataclass(frozen=True)
class Unit:
    """One training dialogue with the train profile it belongs to (its seed, or its own)."""

    dialogue: Dialogue
    #: None only for dialogues no user example is made of (a recommender's validation set).
    profile: Profile | None


def generated_dialogue(row: Mapping[str, Any]) -> Dialogue:
    """A simulated row (``interplay.simulation.records``) as a corpus dialogue: its messages and
    item mentions, accepted where its seeker accepted an item."""
    return Dialogue(
        dialogue_id=str(row["dialogue_id"]),
        source=str(row["source"]),
        split=row["split"],
        messages=tuple(Message(m["role"], m["content"]) for m in row["messages"]),
        item_mentions=tuple(ItemMention(**m) for m in row.get("item_mentions") or ()),
        seeker_accepted=row.get("accepted_item_id") is not None,
    )


def _require_train(what: str, name: str, split: str | None) -> None:
    if split != "train":
        raise ValueError(f"{what} {name} is of split {split!r}: only train dialogues and profiles may be trained on")


def generated_units(rows: Sequence[Mapping[str, Any]], profiles: Mapping[str, Profile]) -> list[Unit]:
    """Generated rows with their seed profiles, in profile order; a row of a non-train profile
    (or of an unknown one) is an error."""
    units = []
    for row in rows:
        profile = profiles.get(str(row["profile_id"]))
        if profile is None:
            raise ValueError(f"generated dialogue {row['dialogue_id']}: profile {row['profile_id']} is not a train profile")
        _require_train("generated dialogue", str(row["dialogue_id"]), row["split"])
        _require_train("profile", profile.profile_id, profile.split)
        units.append(Unit(generated_dialogue(row), profile))
    return units


def real_units(profiles: Sequence[Profile], dialogues: Mapping[str, Dialogue]) -> list[Unit]:
    """The real dialogue of each profile (the one it was built from), in the profiles' order."""
    units = []
    for profile in profiles:
        dialogue = dialogues[profile.dialogue_id]
        _require_train("real dialogue", dialogue.dialogue_id, dialogue.split)
        _require_train("profile", profile.profile_id, profile.split)
        units.append(Unit(dialogue, profile))
    return units


def equal_size_sets(
    real: Sequence[Unit], interplay: Sequence[Unit], reference: Sequence[Unit], size: int
) -> dict[str, list[Unit]]:
    """``size`` dialogues of each source (:data:`SOURCES`); the mixture is ``real[: size // 2]``
    with ``interplay[size // 2 : size]`` (disjoint profiles when both lists follow the same
    profile order). A source with fewer than ``size`` dialogues is an error: sizes must be equal."""
    sets = {"real": list(real[:size]), "interplay": list(interplay[:size]), "reference_dependent": list(reference[:size])}
    for name, units in sets.items():
        if len(units) < size:
            raise ValueError(f"source {name} has {len(units)} dialogues, fewer than the size {size}")
    half = size // 2
    sets["real_plus_interplay"] = list(real[:half]) + list(interplay[half:size])
    for name, units in sets.items():
        for unit in units:
            _require_train(f"{name} dialogue", unit.dialogue.dialogue_id, unit.dialogue.split)
            if unit.profile is None:
                raise ValueError(f"{name} dialogue {unit.dialogue.dialogue_id} has no profile")
            _require_train("profile", unit.profile.profile_id, unit.profile.split)
    return sets


def sft_row(unit: Unit, role: Role, end_marker: str, accept_marker: str) -> dict[str, Any] | None:
    """The unit's training row for ``role`` as preprocessing writes it (no notes); None where the
    role never speaks."""
    if role == "user":
        if unit.profile is None:
            return None
        messages = user_example(unit.dialogue, unit.profile, end_marker, accept_marker)
    else:
        messages = recommender_example(unit.dialogue)
    return None if messages is None else {"dialogue_id": unit.dialogue.dialogue_id, "messages": messages}


def sft_rows(units: Sequence[Unit], role: Role, end_marker: str, accept_marker: str) -> list[dict[str, Any]]:
    rows = (sft_row(u, role, end_marker, accept_marker) for u in units)
    return [r for r in rows if r is not None]


def real_turn_chat(
    dialogue: Dialogue, profile: Profile | None, role: Role, end_marker: str, accept_marker: str
) -> list[ChatMessage] | None:
    """A test dialogue from ``role``'s side, up to its last turn, under the role's system prompt
    (the user's needs the profile), with any marker a message holds removed and none added: the
    trained (``assistant``) tokens are exactly what the real people wrote in that role. None where
    the role never speaks or the user has no profile."""
    if role == "user":
        if profile is None:
            return None
        system = user_system_prompt(profile.preference_summary, profile.target_attributes_text, end_marker, accept_marker)
    else:
        system = RECOMMENDER_SYSTEM_PROMPT
    last = max((i for i, m in enumerate(dialogue.messages) if m.role == role), default=-1)
    if last < 0:
        return None
    return role_view(_unmarked(dialogue.messages[: last + 1], end_marker, accept_marker), role, system=system)


def recommender_context(dialogue: Dialogue, turn: int, end_marker: str, accept_marker: str) -> list[ChatMessage]:
    """What the recommender has read before its message ``turn``, from its side (no notes)."""
    return role_view(
        _unmarked(dialogue.messages[:turn], end_marker, accept_marker), "recommender", system=RECOMMENDER_SYSTEM_PROMPT
    )


def _unmarked(messages: Sequence[Message], end_marker: str, accept_marker: str) -> list[dict[str, str]]:
    return [{"role": m.role, "content": strip_markers(m.content, end_marker, accept_marker)[0]} for m in messages]


@dataclass(frozen=True)
class Event:
    """A recommendation event: the recommender's message ``turn`` of a dialogue names ``item_id``
    for the first time in it."""

    dialogue_id: str
    turn: int
    item_id: str


def recommendation_events(dialogues: Sequence[Dialogue]) -> list[Event]:
    """Every item a recommender message names that no earlier message of its dialogue named."""
    events = []
    for dialogue in dialogues:
        seen: set[str] = set()
        for mention in sorted(dialogue.item_mentions, key=lambda m: m.turn):
            if mention.item_id in seen:
                continue
            seen.add(mention.item_id)
            if mention.role == "recommender" and mention.turn < len(dialogue.messages):
                events.append(Event(dialogue.dialogue_id, mention.turn, mention.item_id))
    return events


def rerank(candidates: Sequence[str], scores: Sequence[float]) -> list[str]:
    """Candidates best score first; ties keep the retriever's order."""
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
    return [candidates[i] for i in order]


def hits_at(ranked: Sequence[Sequence[str]], gold: Sequence[str], k: int) -> np.ndarray:
    """1.0 where the event's item is among the first ``k`` of its ranking, else 0.0."""
    return np.asarray([1.0 if item in list(ranking)[:k] else 0.0 for ranking, item in zip(ranked, gold, strict=True)])


def by_dialogue(values: Sequence[float], owners: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per-dialogue sums of ``values`` and counts, in first-seen order: the units of a bootstrap
    over dialogues (events of one dialogue share its context and are drawn together)."""
    index: dict[str, int] = {}
    for owner in owners:
        index.setdefault(owner, len(index))
    sums, counts = np.zeros(len(index)), np.zeros(len(index))
    for value, owner in zip(values, owners, strict=True):
        sums[index[owner]] += value
        counts[index[owner]] += 1
    return sums, counts


def ratio_figure(num: np.ndarray, den: np.ndarray, resamples: int, seed: int, digits: int = 4) -> dict[str, Any]:
    """``sum(num) / sum(den)`` with its bootstrap interval over the units (rows) given."""
    stat = Ratio(np.asarray(num, dtype=float), np.asarray(den, dtype=float))
    total = float(np.sum(den))
    value = float(np.sum(num)) / total if total else None
    interval = bootstrap_interval(stat, resamples=resamples, seed=seed) if value is not None else None
    return {
        "value": None if value is None else round(value, digits),
        "ci": None if interval is None else [round(interval[0], digits), round(interval[1], digits)],
        "units": int(len(den)),
        "count": int(total),
    }


def nll_figure(sums: np.ndarray, tokens: np.ndarray, resamples: int, seed: int) -> dict[str, Any]:
    """Mean NLL per real-turn token over dialogues with its interval, and the perplexity (its
    exponential, the interval's ends too)."""
    figure = ratio_figure(sums, tokens, resamples, seed)
    figure["tokens"] = figure.pop("count")
    figure["dialogues"] = figure.pop("units")
    figure["perplexity"] = None if figure["value"] is None else round(math.exp(figure["value"]), 3)
    figure["perplexity_ci"] = None if figure["ci"] is None else [round(math.exp(v), 3) for v in figure["ci"]]
    return figure


def paired_figure(
    first: tuple[Sequence[float], Sequence[float]],
    second: tuple[Sequence[float], Sequence[float]],
    resamples: int,
    seed: int,
    digits: int = 4,
) -> dict[str, Any]:
    """Two models scored on the same test dialogues, each as per-dialogue ``(sums, counts)`` in
    one order: ``sum(first) / sum(counts)`` minus the second's, with a paired bootstrap interval
    over dialogues and a permutation p-value (a dialogue's two scores swapped). Pairing removes
    the spread between dialogues that separate intervals carry, so a difference smaller than
    either interval can still be told apart."""
    (num_a, den_a), (num_b, den_b) = first, second
    if len(num_a) != len(num_b) or len(den_a) != len(den_b) or len(num_a) != len(den_a):
        raise ValueError(f"paired_figure: {len(num_a)} and {len(num_b)} dialogues; both models must score the same ones")
    stat = Ratio(np.asarray([*num_a, *num_b], dtype=float), np.asarray([*den_a, *den_b], dtype=float))
    record = comparison_record(
        paired_comparison(stat, resamples=resamples, seed=seed), Resampling().significance, digits
    )
    return {**{k: record[k] for k in ("difference", "difference_ci", "p_value")}, "dialogues": len(num_a)}


def seeded_sample(items: Sequence[Any], count: int | None, seed: int) -> list[Any]:
    """At most ``count`` of ``items``, a seeded choice kept in the given order."""
    if count is None or count >= len(items):
        return list(items)
    chosen = sorted(random.Random(seed).sample(range(len(items)), count))
    return [items[i] for i in chosen]


# --- with a model: per-example NLL and title likelihoods ------------------------------------------


def example_losses(model: Any, examples: Sequence[Any], pad_token_id: int, batch_size: int, bf16: bool = False) -> list[tuple[float, int]]:
    """``(summed NLL, supervised tokens)`` of each encoded example (its labels: the role's tokens),
    in the examples' order."""
    import torch
    from torch.nn import functional as F

    from interplay.training.chat import IGNORE_INDEX
    from interplay.training.data import PadCollator, sorted_batches
    from interplay.training.finetune import bf16_autocast, causal_model

    device = next(model.parameters()).device
    causal = causal_model(model)
    collate = PadCollator(pad_token_id)
    out: list[tuple[float, int]] = [(0.0, 0)] * len(examples)
    with torch.no_grad():
        for batch_ids in sorted_batches([e.length for e in examples], batch_size):
            batch = collate([{"input_ids": examples[i].input_ids, "labels": examples[i].labels} for i in batch_ids])
            batch = {k: v.to(device) for k, v in batch.items()}
            with bf16_autocast(device, bf16):
                hidden = causal.get_decoder()(
                    input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
                ).last_hidden_state
            targets = batch["labels"][:, 1:]
            for row, i in enumerate(batch_ids):
                keep = targets[row] != IGNORE_INDEX
                with bf16_autocast(device, bf16):
                    logits = causal.get_output_embeddings()(hidden[row, :-1][keep]).float()
                loss = F.cross_entropy(logits, targets[row][keep], reduction="sum")
                out[i] = (float(loss), int(keep.sum()))
    return out


#: Titles scored in one forward: the shortlist, sorted by length, runs in groups of this many, so a
#: short title is padded to its group's longest and not to the shortlist's.
TITLE_GROUP = 25


def title_log_likelihoods(model: Any, tokenizer: Any, prompt_ids: Sequence[int], titles: Sequence[str]) -> list[float]:
    """log P(title | prompt) of each title, summed over its tokens.

    The prompt runs once and its key/value cache serves every title. Only what the sum needs is
    computed: a title's last token is never fed (nothing after it is scored), titles run in
    groups of similar length (:data:`TITLE_GROUP`, right-padded), and the 49k-token vocabulary
    projection is applied only at the positions whose next token is scored.
    """
    import copy

    import torch

    from interplay.training.finetune import causal_model

    causal = causal_model(model)
    decoder, head = causal.get_decoder(), causal.get_output_embeddings()
    device = next(model.parameters()).device
    encoded = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in titles]
    scores = [0.0] * len(titles)
    with torch.inference_mode():
        prompt = decoder(input_ids=torch.tensor([list(prompt_ids)], device=device), use_cache=True)
        first = head(prompt.last_hidden_state[0, -1]).float().log_softmax(-1)
        for row, tokens in enumerate(encoded):
            scores[row] = float(first[tokens[0]])
        longer = sorted((i for i, tokens in enumerate(encoded) if len(tokens) > 1), key=lambda i: len(encoded[i]))
        for start in range(0, len(longer), TITLE_GROUP):
            group = longer[start : start + TITLE_GROUP]
            fed = [encoded[i][:-1] for i in group]
            width = max(len(ids) for ids in fed)
            ids = torch.full((len(group), width), tokenizer.pad_token_id, dtype=torch.long, device=device)
            mask = torch.zeros((len(group), len(prompt_ids) + width), dtype=torch.long, device=device)
            mask[:, : len(prompt_ids)] = 1
            for row, tokens in enumerate(fed):
                ids[row, : len(tokens)] = torch.tensor(tokens)
                mask[row, len(prompt_ids) : len(prompt_ids) + len(tokens)] = 1
            cache = copy.deepcopy(prompt.past_key_values)
            cache.batch_repeat_interleave(len(group))
            hidden = decoder(input_ids=ids, attention_mask=mask, past_key_values=cache, use_cache=True).last_hidden_state
            keep = mask[:, len(prompt_ids) :].bool()
            steps = head(hidden[keep]).float().log_softmax(-1)
            targets = torch.tensor([t for i in group for t in encoded[i][1:]], device=device)
            picked = steps.gather(1, targets[:, None])[:, 0].tolist()
            offset = 0
            for i, tokens in zip(group, fed):
                scores[i] += sum(picked[offset : offset + len(tokens)])
                offset += len(tokens)
    return scores


__all__ = [
    "SOURCES",
    "Event",
    "Unit",
    "by_dialogue",
    "equal_size_sets",
    "example_losses",
    "generated_dialogue",
    "generated_units",
    "hits_at",
    "nll_figure",
    "ratio_figure",
    "real_turn_chat",
    "real_units",
    "recommendation_events",
    "recommender_context",
    "rerank",
    "seeded_sample",
    "sft_row",
    "sft_rows",
    "title_log_likelihoods",
]
