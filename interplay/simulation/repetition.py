"""Repetition control over the reply being written, never over the prompt it answers.

``transformers``' ``repetition_penalty`` and ``no_repeat_ngram_size`` look at every token of
``input_ids``, the prompt included. For a grounded simulator that is exactly wrong: the
recommender must copy ``Title (Year)`` from its candidate note and the user must repeat an offered
title to accept it, and a four-token ban over the prompt makes *The Slammin' Salmon (2009)* come
out as "The Slamin' Salmon". Here both apply to the tokens generated in this turn only (loops
within a turn); a turn repeating an earlier one is the engine's ``repeated_turn`` check.
"""

from __future__ import annotations

import torch
from transformers import LogitsProcessor


class ReplyRepetition(LogitsProcessor):
    """Penalize tokens already in the reply, and ban a token that would repeat an n-gram of it.

    ``prompt_width``: the column where the reply starts (every row's prompt is padded to it).
    """

    def __init__(self, prompt_width: int, penalty: float = 1.0, ngram_size: int = 0) -> None:
        self.prompt_width = prompt_width
        self.penalty = penalty
        self.ngram_size = ngram_size

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        return penalize_reply(scores, input_ids[:, self.prompt_width :], self.penalty, self.ngram_size)


def penalize_reply(scores: torch.Tensor, reply: torch.Tensor, penalty: float, ngram_size: int) -> torch.Tensor:
    """``scores`` with the tokens of each row's ``reply`` so far penalized (transformers' rule:
    positive scores divided by ``penalty``, negative ones multiplied) and the tokens that would
    repeat one of its ``ngram_size``-grams banned."""
    if reply.shape[1] == 0:
        return scores
    if penalty != 1.0:
        seen = torch.gather(scores, 1, reply)
        seen = torch.where(seen < 0, seen * penalty, seen / penalty)
        scores = scores.scatter(1, reply, seen)
    if ngram_size and reply.shape[1] >= ngram_size:
        rows, tokens = banned_next_tokens(reply, ngram_size)
        scores[rows, tokens] = -float("inf")
    return scores


def banned_next_tokens(reply: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows and tokens that would complete an n-gram already in that row's reply: the token after
    every earlier occurrence of the row's last ``n - 1`` tokens.

    One tensor expression for the whole batch (no Python loop over rows or positions: it runs at
    every decoding step), the same tokens as checking each n-gram of each row in turn.
    """
    windows = reply.unfold(1, n, 1)  # [rows, positions, n]: every n-gram of the reply
    prefix = reply[:, reply.shape[1] - n + 1 :]  # what the next token would follow
    rows, positions = (windows[:, :, : n - 1] == prefix[:, None, :]).all(dim=2).nonzero(as_tuple=True)
    return rows, windows[rows, positions, n - 1]
