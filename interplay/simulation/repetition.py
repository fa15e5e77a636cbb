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
        reply = input_ids[:, self.prompt_width :]
        if reply.shape[1] == 0:
            return scores
        if self.penalty != 1.0:
            seen = torch.gather(scores, 1, reply)
            seen = torch.where(seen < 0, seen * self.penalty, seen / self.penalty)
            scores = scores.scatter(1, reply, seen)
        n = self.ngram_size
        if n and reply.shape[1] >= n:
            for row, tokens in enumerate(reply.tolist()):
                prefix = tuple(tokens[len(tokens) - n + 1 :])
                banned = {
                    tokens[i + n - 1] for i in range(len(tokens) - n + 1) if tuple(tokens[i : i + n - 1]) == prefix
                }
                if banned:
                    scores[row, list(banned)] = -float("inf")
        return scores
