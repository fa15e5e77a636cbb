"""Repetition control looks at the reply only: copying a title from the prompt stays possible."""

from __future__ import annotations

import torch

from interplay.simulation.repetition import ReplyRepetition


def test_prompt_tokens_are_free_to_copy_reply_tokens_are_penalized() -> None:
    prompt = [5, 6, 7, 8]  # e.g. a candidate title in the note
    processor = ReplyRepetition(prompt_width=len(prompt), penalty=2.0, ngram_size=3)
    scores = torch.full((1, 10), 1.0)
    out = processor(torch.tensor([prompt + [5, 6]]), scores.clone())
    assert out[0, 7] == 1.0  # in the prompt only: untouched (HF's penalty would halve it)
    assert out[0, 5] == 0.5 and out[0, 6] == 0.5  # already in the reply


def test_an_ngram_of_the_reply_is_not_repeated_but_one_of_the_prompt_may_be() -> None:
    processor = ReplyRepetition(prompt_width=3, ngram_size=2)
    out = processor(torch.tensor([[1, 2, 1, 3, 4, 3]]), torch.zeros((1, 6)))
    assert out[0, 4] == -float("inf")  # "3 4" was said in this reply: after "3", not "4" again
    assert out[0, 2] == 0.0  # "1 2" is the prompt's: free
