"""Chat encoding: only the trained role is supervised, truncation keeps what matters, batches are tight."""

from __future__ import annotations

import random

import pytest
from tiny_lm import build_tokenizer, dialogue

from interplay.training.chat import IGNORE_INDEX, encode_example, encode_messages, truncate_messages
from interplay.training.data import PadCollator, padding_fraction


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


def _supervised_text(tokenizer, encoded) -> str:
    return tokenizer.decode([i for i, l in zip(encoded.input_ids, encoded.labels) if l != IGNORE_INDEX])


def test_only_assistant_tokens_are_supervised(tokenizer) -> None:
    messages = dialogue(0)
    encoded = encode_messages(tokenizer, messages)
    supervised = _supervised_text(tokenizer, encoded)
    expected = "".join(m["content"] + "<|im_end|>\n" for m in messages if m["role"] == "assistant")
    assert supervised == expected
    # every other token (system prompt, user turns, role headers) is masked
    masked = [i for i, l in zip(encoded.input_ids, encoded.labels) if l == IGNORE_INDEX]
    assert "What kind of movies" in tokenizer.decode(masked)
    assert "movie fan number" in tokenizer.decode(masked)
    assert all(l in (IGNORE_INDEX, i) for i, l in zip(encoded.input_ids, encoded.labels))


def test_truncation_keeps_system_head_and_end_marker(tokenizer) -> None:
    messages = dialogue(1, turns=12)
    full = encode_messages(tokenizer, messages).length
    kept = truncate_messages(tokenizer, messages, max_tokens=full // 2)
    assert kept[0] == messages[0]  # system prompt
    assert kept[1:3] == messages[1:3]  # first two messages
    assert kept[-1] == messages[-1] and "[END]" in kept[-1]["content"]
    roles = [m["role"] for m in kept[1:]]
    assert all(a != b for a, b in zip(roles, roles[1:]))  # still alternating
    encoded = encode_example(tokenizer, messages, max_tokens=full // 2)
    assert encoded is not None and encoded.length <= full // 2
    assert _supervised_text(tokenizer, encoded).endswith("[END]<|im_end|>\n")


def test_stepped_truncation_moves_its_cut_every_step_messages(tokenizer) -> None:
    """A growing conversation truncated ``step`` messages at a time keeps its kept head (what a
    live simulation has encoded already) for several turns, and still fits its budget."""
    messages = [m for m in dialogue(1, turns=16)]
    budget = encode_messages(tokenizer, messages[:9]).length
    cuts = []
    for end in range(9, len(messages) + 1):
        kept = truncate_messages(tokenizer, messages[:end], budget, head=0, step=4)
        assert kept[0] == messages[0] and kept[-1] == messages[end - 1]
        assert encode_messages(tokenizer, kept).length <= budget
        start = messages.index(kept[1]) - 1  # index among the messages after the system prompt
        one_by_one = messages.index(truncate_messages(tokenizer, messages[:end], budget, head=0)[1]) - 1
        assert start % 4 == 0 and start >= one_by_one  # never more context than fits
        cuts.append(start)
    assert cuts == sorted(cuts) and len(set(cuts)) < len(cuts) / 2  # the cut moves rarely


def test_short_dialogues_are_not_truncated(tokenizer) -> None:
    messages = dialogue(2)
    assert truncate_messages(tokenizer, messages, max_tokens=10_000) == messages


def test_length_grouped_batches_pad_at_most_15_percent() -> None:
    """The Trainer's length-grouped sampler on a SPEC-like length mix (59% capped at max)."""
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    rng = random.Random(0)
    lengths = [384 if rng.random() < 0.59 else rng.randint(60, 383) for _ in range(900)]
    torch.manual_seed(0)
    order = list(LengthGroupedSampler(8, lengths=lengths))
    batches = [order[i : i + 8] for i in range(0, len(order), 8)]
    assert sorted(order) == list(range(900))
    assert padding_fraction(lengths, batches) <= 0.15
    # plain random batches would pad far more: the grouping is what keeps it low
    shuffled = rng.sample(range(900), 900)
    assert padding_fraction(lengths, [shuffled[i : i + 8] for i in range(0, 900, 8)]) > 0.15


def test_collator_pads_with_ignored_labels() -> None:
    batch = PadCollator(pad_token_id=0, multiple=1)(
        [{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [8], "labels": [8]}]
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


def test_collator_rounds_widths_up_so_few_shapes_reach_the_kernels() -> None:
    rows = [{"input_ids": [1] * n, "labels": [1] * n} for n in (33, 20)]
    batch = PadCollator(pad_token_id=0, multiple=32)(rows)
    assert batch["input_ids"].shape == (2, 64)
    assert batch["attention_mask"].sum().item() == 53
    assert (batch["labels"] != -100).sum().item() == 53


def test_long_dialogues_become_windows_that_each_fit_and_train_every_turn(tokenizer) -> None:
    from interplay.training.chat import encode_windows, window_messages

    messages = [{"role": "system", "content": "Be brief."}] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn number {i} " + "word " * 12}
        for i in range(12)
    ]
    windows = window_messages(tokenizer, messages, max_tokens=300)
    assert len(windows) > 2
    assert all(w[0] == messages[0] for w in windows)  # the system prompt in every window
    assert all(w[1]["role"] == "user" for w in windows)  # each opens with what was heard
    trained = [m["content"] for w in windows for m in w if m["role"] == "assistant"]
    assert trained == [m["content"] for m in messages if m["role"] == "assistant"]  # each once
    assert all(e.length <= 300 for e in encode_windows(tokenizer, messages, 300))
    assert window_messages(tokenizer, messages, max_tokens=10_000) == [messages]
