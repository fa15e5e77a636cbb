"""The generation attention kernel computes the model's attention: a prompt exactly as "sdpa"
does, a decoded token the same function, for left-padded rows over cached states."""

from __future__ import annotations

import pytest
import torch
from transformers import DynamicCache

from interplay.simulation.attention import NAME, use_grouped_attention
from interplay.simulation.decoding import positions
from tests.tiny_lm import build_model


def _prompt_then_decode(model, dtype: torch.dtype) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Logits of a left-padded prompt batch, then of 4 tokens decoded one at a time over its cache."""
    torch.manual_seed(1)
    ids = torch.randint(3, 100, (3, 12))
    mask = torch.ones(3, 12, dtype=torch.long)
    mask[0, :5] = 0
    mask[2, :2] = 0
    model = model.to(dtype)
    cache = DynamicCache()
    with torch.no_grad():
        prompt = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask), cache=cache,
                       use_cache=True).logits
        steps, position, token = [], positions(mask)[:, -1:], ids[:, -1:] * 0 + 7
        for _ in range(4):
            mask = torch.cat([mask, mask.new_ones((3, 1))], dim=1)
            position = position + 1
            logits = model(input_ids=token, attention_mask=mask, position_ids=position, cache=cache,
                           use_cache=True).logits[:, -1]
            steps.append(logits)
            token = logits.argmax(-1, keepdim=True)
    return prompt, steps


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_a_prompt_gets_the_bytes_of_sdpa(dtype: torch.dtype) -> None:
    sdpa = build_model(100)
    grouped = use_grouped_attention(build_model(100))
    assert grouped.config._attn_implementation == NAME
    assert torch.equal(_prompt_then_decode(sdpa, dtype)[0], _prompt_then_decode(grouped, dtype)[0])


def test_a_decoded_token_attends_as_sdpa_does() -> None:
    """In float32 the two differ only by rounding: a wrong head grouping or mask would not."""
    _, expected = _prompt_then_decode(build_model(100), torch.float32)
    _, got = _prompt_then_decode(use_grouped_attention(build_model(100)), torch.float32)
    for step, (a, b) in enumerate(zip(expected, got)):
        assert torch.allclose(a, b, atol=1e-5), f"decoded token {step}: max diff {(a - b).abs().max()}"


def test_padding_is_not_attended() -> None:
    """A padded column's contents change nothing a decoded token sees."""
    model = use_grouped_attention(build_model(100))
    results = []
    for pad_id in (3, 50):
        ids = torch.tensor([[pad_id, pad_id, 10, 11, 12]])
        mask = torch.tensor([[0, 0, 1, 1, 1]])
        cache = DynamicCache()
        with torch.no_grad():
            model(input_ids=ids, attention_mask=mask, position_ids=positions(mask), cache=cache, use_cache=True)
            mask = torch.cat([mask, torch.ones(1, 1, dtype=torch.long)], dim=1)
            results.append(model(input_ids=torch.tensor([[13]]), attention_mask=mask,
                                 position_ids=torch.tensor([[3]]), cache=cache, use_cache=True).logits)
    assert torch.allclose(results[0], results[1], atol=1e-6)


def test_a_plain_module_is_left_as_it_is() -> None:
    layer = torch.nn.Linear(2, 2)
    assert use_grouped_attention(layer) is layer
