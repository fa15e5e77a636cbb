"""The attention kernel of generation: grouped-query attention without copying keys and values.

SmolLM2 has 9 query heads and 3 key/value heads. transformers' "sdpa" kernel, given a padding
mask (the engine always has one: rows are left-padded), hands torch's CPU kernel either key/value
heads repeated three times (``repeat_kv``: a copy of every cached state at every layer and
forward) or, for one new token, the query heads packed per key/value head into torch's flash
kernel, whose blocks are made for long queries. Registered with transformers as :data:`NAME`:

* **several new tokens** (a prompt): each key/value head's three query heads stacked as one
  query three times as long, with the mask's rows repeated to match, into the same torch kernel:
  no copies of the states, longer blocks, and the same bytes as "sdpa"
  (``tests/simulation/test_attention.py``);
* **one new token** (decoding): per key/value head, one matmul of its cached keys with its three
  query heads, softmax in float32, one matmul with its values: transformers' "eager" arithmetic
  (the one fine-tuning trains with on a CPU in bf16), without its ``repeat_kv`` copies. Not the
  same bytes as "sdpa"; as close to float32 on real dialogues (``benchmarks/bench_attention.py``).

Measured at the engine's shapes in bf16 on 2 cores, and in the stage (README, "Benchmarks").
Only generation on a CPU uses it (:func:`interplay.simulation.runtime.place_for_inference`);
fine-tuning keeps its own kernel (:mod:`interplay.training.finetune`), a GPU its fused ones.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from transformers import AttentionInterface, PreTrainedModel
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

#: The name the kernel is registered under (``model.set_attn_implementation(NAME)``).
NAME = "interplay_grouped"


def grouped_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **_: Any,
) -> tuple[torch.Tensor, None]:
    """Attention of ``query`` [batch, heads, new, dim] over ``key``/``value`` [batch, kv heads,
    columns, dim] with ``attention_mask`` as "sdpa" makes it (boolean, True where a column is
    seen; None where every column is); returns [batch, new, heads, dim] as transformers expects."""
    if dropout:
        raise ValueError(f"{NAME} is for inference: dropout {dropout} asked for")
    batch, heads, new, dim = query.shape
    scale = dim**-0.5 if scaling is None else scaling
    groups = key.shape[1]
    per_group = heads // groups
    if new > 1 and attention_mask is None:  # nothing cached, nothing padded: causal
        output = F.scaled_dot_product_attention(
            query, key, value, scale=scale, is_causal=getattr(module, "is_causal", True), enable_gqa=groups != heads,
        )
        return output.transpose(1, 2).contiguous(), None
    if new > 1:  # a group's heads stacked as one longer query, each with its rows of the mask
        stacked = query.reshape(batch, groups, per_group * new, dim)
        mask = attention_mask.repeat(1, 1, per_group, 1) if per_group > 1 else attention_mask
        output = F.scaled_dot_product_attention(stacked, key, value, attn_mask=mask, scale=scale)
        return output.reshape(batch, heads, new, dim).transpose(1, 2).contiguous(), None
    grouped = query.reshape(batch * groups, per_group, dim)  # one new token: a group's heads as rows
    keys, values = key.flatten(0, 1), value.flatten(0, 1)  # [batch * groups, columns, dim], views
    # The cached keys as the left operand: there torch reads even a strided view in place, where
    # as the right (transposed) one it would copy a view first (prefix_cache hands whole buffers).
    scores = torch.bmm(keys, grouped.transpose(1, 2)).transpose(1, 2)
    scores = scores.to(torch.float32, memory_format=torch.contiguous_format).mul_(scale)
    scores = scores.view(batch, groups, per_group, -1)
    if attention_mask is not None:  # sdpa_mask's: boolean, [batch, 1, 1, columns]
        scores = scores.masked_fill_(~attention_mask.reshape(attention_mask.shape[0], 1, 1, -1), float("-inf"))
    weights = scores.softmax(dim=-1).to(value.dtype).view(batch * groups, per_group, -1)
    output = torch.bmm(weights, values)  # [batch * groups, heads per group, dim]
    return output.reshape(batch, 1, heads, dim), None


def register() -> str:
    """Make :data:`NAME` known to transformers (attention and mask functions); returns it."""
    AttentionInterface.register(NAME, grouped_attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    return NAME


def use_grouped_attention(model: Any) -> Any:
    """``model`` generating with :func:`grouped_attention` (in place; returned for chaining).
    A module that is not a transformers model has no attention to switch and is returned as is."""
    if isinstance(model, PreTrainedModel):
        model.set_attn_implementation(register())
    return model
