"""Sampling a batch of replies token by token, each row leaving the batch when its reply ends.

Why not ``model.generate``: it runs every row until the longest reply of the batch ends, so with
40 new tokens allowed and replies of a dozen, most decoding columns belonged to rows that had
already finished (5,368 columns for 2,522 tokens in the stage benchmark of 3367ef3); and it sorts
the whole vocabulary (49k logits a row) for top-p at every step where top-k leaves 50. Here a row
that has ended is dropped from the batch and from its key/value cache (a few rows at a time,
since each drop copies the cache), and top-k runs first, so top-p and the draw see k logits.

The distribution sampled is transformers' for the same settings: at least ``MIN_NEW_TOKENS``
before an end-of-turn token, repetition control over the reply
(:func:`interplay.simulation.repetition.penalize_reply`), then temperature, top-k and top-p, and
one draw from torch's global generator, which the engine seeds: the same seed and batch give the
same tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from interplay.config.params import SamplingParams
from interplay.simulation.repetition import penalize_reply

#: A reply has at least this many tokens before it may end (an empty turn is resampled anyway).
MIN_NEW_TOKENS = 2
#: Finished rows are dropped once they are this share of the batch (each drop copies the cache).
DROP_SHARE = 0.25
#: Functions the stage benchmark times as the sampling step (benchmarks/bench_simulate_stage.py).
TIMED_SAMPLING = ("sample_next",)

#: ``keep(rows, cache_rows, fed)``: rows (of the batch as given) about to leave the cache, where
#: each sits in the cache now, and the sampled tokens of each that the cache holds states for
#: (all but the last sampled, which was never run through the model).
Keep = Callable[[list[int], list[int], list[list[int]]], None]


def positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids of a left-padded mask: the running count of real tokens (transformers' rule)."""
    return (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 0)


def candidates(
    logits: torch.Tensor, reply: torch.Tensor, sampling: SamplingParams, stop_ids: Sequence[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The scores a draw chooses among and their token ids, highest first, per row (``-inf``
    where top-p leaves a token out): ``logits`` [rows, vocab] after the reply's repetition control,
    temperature, top-k and top-p, given the ``reply`` [rows, tokens] so far."""
    scores = logits.to(torch.float32, copy=True)
    if reply.shape[1] < MIN_NEW_TOKENS:
        scores[:, list(stop_ids)] = -float("inf")
    scores = penalize_reply(scores, reply, sampling.repetition_penalty, sampling.no_repeat_ngram_size)
    if sampling.temperature <= 0:
        return scores.max(dim=-1, keepdim=True)
    scores = scores / sampling.temperature
    k = min(sampling.top_k, scores.shape[-1]) if sampling.top_k else scores.shape[-1]
    values, indices = scores.topk(k, dim=-1)  # sorted, highest first
    if sampling.top_p < 1.0:
        probs = values.softmax(dim=-1)
        above = probs.cumsum(dim=-1) - probs  # probability of the tokens ranked above each one
        values = values.masked_fill(above >= sampling.top_p, -float("inf"))
    return values, indices


def sample_next(
    logits: torch.Tensor, reply: torch.Tensor, sampling: SamplingParams, stop_ids: Sequence[int]
) -> torch.Tensor:
    """One token per row: the best one at temperature 0, else a draw among :func:`candidates`."""
    values, indices = candidates(logits, reply, sampling, stop_ids)
    if sampling.temperature <= 0:
        return indices[:, 0]
    choice = torch.multinomial(values.softmax(dim=-1), num_samples=1)
    return indices.gather(1, choice).squeeze(1)


@torch.no_grad()
def sample_replies(
    model: torch.nn.Module,
    new_ids: torch.Tensor,
    mask: torch.Tensor,
    cache: object,
    sampling: SamplingParams,
    stop_ids: Sequence[int],
    keep: Keep | None = None,
) -> list[list[int]]:
    """Each row's sampled tokens (ending with its end-of-turn token where it ended).

    ``new_ids``: the columns after those ``cache`` holds (a :class:`PreallocatedCache` with room
    for the reply); ``mask``: the attention mask of every column. Before rows leave the cache
    (finished, or at the end), ``keep`` sees where they are, so their states can be stored.
    """
    rows = new_ids.shape[0]
    stops = set(stop_ids)
    replies: list[list[int]] = [[] for _ in range(rows)]
    ended = [False] * rows
    alive = list(range(rows))  # the batch row of each cache row
    reply = new_ids.new_empty((rows, 0))
    inputs, position = new_ids, positions(mask)[:, -new_ids.shape[1] :]
    for step in range(sampling.max_new_tokens):
        logits = model(
            input_ids=inputs, attention_mask=mask, position_ids=position, cache=cache, use_cache=True,
            logits_to_keep=1,
        ).logits[:, -1]
        tokens = sample_next(logits, reply, sampling, stop_ids)
        reply = torch.cat([reply, tokens[:, None]], dim=1)
        for row, token in zip(alive, tokens.tolist()):
            if not ended[row]:
                replies[row].append(token)
                ended[row] = token in stops
        finished = [i for i, row in enumerate(alive) if ended[row]]
        if len(finished) == len(alive) or step == sampling.max_new_tokens - 1:
            break
        if len(finished) >= max(1, DROP_SHARE * len(alive)):
            if keep is not None:
                keep([alive[i] for i in finished], finished, [replies[alive[i]][:-1] for i in finished])
            staying = [i for i in range(len(alive)) if not ended[alive[i]]]
            index = torch.tensor(staying, device=mask.device)
            cache.keep_rows(index)  # type: ignore[attr-defined]
            alive = [alive[i] for i in staying]
            mask, reply, tokens, position = mask[index], reply[index], tokens[index], position[index]
        mask = torch.cat([mask, mask.new_ones((len(alive), 1))], dim=1)
        position = position[:, -1:] + 1
        inputs = tokens[:, None]
    if keep is not None:
        keep(list(alive), list(range(len(alive))), [replies[row][:-1] for row in alive])
    return replies


def length_groups(lengths: Sequence[int], slack: float = 1.3) -> list[list[int]]:
    """Indices of ``lengths`` in groups of similar length, shortest first, each group padded to
    its longest at most ``slack`` times its real tokens: a batch of rows whose new tokens range
    from 20 to 600 would otherwise run every row 600 columns wide."""
    groups: list[list[int]] = []
    total = 0
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        length = lengths[index]
        if groups and (len(groups[-1]) + 1) * length <= slack * (total + length):
            groups[-1].append(index)
            total += length
        else:
            groups.append([index])
            total = length
    return groups
