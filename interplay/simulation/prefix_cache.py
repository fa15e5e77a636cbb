"""Key/value states kept between turns, so that a conversation's prompt is not encoded again.

A conversation's next prompt for a role is its previous prompt for that role plus a few new
turns. Without this store every turn re-encodes the whole conversation (hundreds of tokens) to
generate a few dozen; with it, only the tokens after the longest prefix shared with what was
encoded last time for the same conversation and role are run through the model. Matching by
token prefix rather than by message keeps it correct when the context is truncated (the system
prompt is still shared) or when a reply re-tokenizes differently from how it was sampled.

Rows of one batch reuse prefixes of different lengths: the batch is laid out as
``[pad, reused prefix | pad, new tokens]`` and the attention mask hides both pads, so position
ids (the mask's running sum) stay those of an unpadded prompt. Entries are per conversation and
role (each role has its own prompt, and in Interplay its own model), and are dropped when the
conversation ends: memory is bounded by the engine's pool, not by the number of dialogues.

A conversation's first prompt for a role has no entry yet; it starts from its role's *head*
(:meth:`PrefixCache.set_head`): the states of the opening every prompt of that role shares,
computed once apart (a batch of one). Never from another conversation's entry: those states depend
on the batch that conversation was encoded in, and a dialogue's bytes must not depend on which
conversations shared a batch with it, or ran before it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import partial

import torch
from transformers import DynamicCache
from transformers.cache_utils import Cache, DynamicLayer


@dataclass
class _Entry:
    ids: list[int]
    states: torch.Tensor  # every layer's keys and values: [2 * layers, heads, tokens, dim]


class PreallocatedLayer(DynamicLayer):
    """A layer's keys and values written in place into a buffer with room for the whole batch
    (prompt and reply), where :class:`~transformers.cache_utils.DynamicLayer` concatenates: that
    copies every state held at every decoding step, for a long prompt more memory traffic than the
    model's weights. The states seen are the same; past the buffer it grows (doubling).

    Attention is given the whole buffer, as transformers' static cache does: the mask covers its
    width (:meth:`get_mask_sizes`) and hides the columns not written yet as future ones. A slice
    of the written columns would be a view with gaps between its rows, which torch's batched
    matmuls copy before they read it, at every layer of every decoded token."""

    def __init__(self, capacity: int, keys: torch.Tensor | None = None, values: torch.Tensor | None = None,
                 length: int = 0) -> None:
        super().__init__()
        self.capacity = capacity
        self.length = length
        if keys is not None and values is not None:
            self._use(keys, values)

    def _use(self, keys_buffer: torch.Tensor, values_buffer: torch.Tensor) -> None:
        self._keys, self._values = keys_buffer, values_buffer
        self.device = keys_buffer.device
        self.is_initialized = True
        self.keys = keys_buffer[:, :, : self.length]
        self.values = values_buffer[:, :, : self.length]

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        rows, heads, _, dim = key_states.shape
        self._use(key_states.new_zeros((rows, heads, self.capacity, dim)),
                  value_states.new_zeros((rows, heads, self.capacity, value_states.shape[-1])))

    def width_for(self, end: int) -> int:
        """The buffer's width once ``end`` columns are written."""
        return _grown(self._keys.shape[-2] if self.is_initialized else self.capacity, end)

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: object, **kwargs: object
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        end = self.length + key_states.shape[-2]
        if end > self._keys.shape[-2]:
            grown = self.width_for(end)
            self._use(_widened(self._keys, grown), _widened(self._values, grown))
        self._keys[:, :, self.length : end] = key_states
        self._values[:, :, self.length : end] = value_states
        self.length = end
        self.keys = self._keys[:, :, :end]
        self.values = self._values[:, :, :end]
        return self._keys, self._values

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        """The mask spans the buffer as it will be after this forward's ``query_length`` columns."""
        return self.width_for(self.length + query_length), 0

    def get_seq_length(self) -> int:
        return self.length

    def keep_rows(self, index: torch.Tensor) -> None:
        """Only these rows (of the batch) stay: the rest have finished."""
        self._use(self._keys.index_select(0, index), self._values.index_select(0, index))


def _grown(width: int, end: int) -> int:
    """A buffer ``width`` columns wide, once ``end`` columns are written: as it is, or doubled (at
    least to ``end``) past it."""
    return width if end <= width else max(end, 2 * width)


def _widened(buffer: torch.Tensor, columns: int) -> torch.Tensor:
    wider = buffer.new_zeros((*buffer.shape[:2], columns, buffer.shape[3]))
    wider[:, :, : buffer.shape[2]] = buffer
    return wider


class PreallocatedCache(DynamicCache):
    """A :class:`~transformers.DynamicCache` of :class:`PreallocatedLayer` (one per model layer,
    made on first use), optionally starting from ``buffer``: ``[2 * layers, rows, heads,
    capacity, dim]`` whose first ``length`` columns hold reused states."""

    def __init__(self, capacity: int, buffer: torch.Tensor | None = None, length: int = 0) -> None:
        self.capacity = capacity
        if buffer is None:
            Cache.__init__(self, layers=None, layer_class_to_replicate=partial(PreallocatedLayer, capacity))
        else:
            layers = [PreallocatedLayer(capacity, buffer[i], buffer[i + 1], length) for i in range(0, len(buffer), 2)]
            Cache.__init__(self, layers=layers)

    def get_mask_sizes(self, query_length: int, layer_idx: int = 0) -> tuple[int, int]:
        if layer_idx >= len(self.layers):  # made by this forward, as wide as a new layer is
            return _grown(self.capacity, query_length), 0
        return super().get_mask_sizes(query_length, layer_idx)

    def keep_rows(self, index: torch.Tensor) -> None:
        """Drop every row but ``index`` from every layer (rows whose replies have ended)."""
        for layer in self.layers:
            layer.keep_rows(index)


@dataclass
class BatchLayout:
    """One batch's tensors: ``prefix`` columns come from the store, the rest are run."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    cache: PreallocatedCache
    spans: list[tuple[int, int, int, int]]  # per row: prefix start, prefix end, new start, new end

    @property
    def prefix(self) -> int:
        """Columns whose states the cache holds already (the rest are run)."""
        return self.spans[0][1] if self.spans else 0

    def columns(self, row: int, reply_tokens: int) -> torch.Tensor:
        """Where a row's prompt and its first ``reply_tokens`` generated tokens sit in the batch."""
        prefix_start, prefix_end, new_start, new_end = self.spans[row]
        width = self.input_ids.shape[1]
        return torch.cat([
            torch.arange(prefix_start, prefix_end),
            torch.arange(new_start, new_end),
            torch.arange(width, width + reply_tokens),
        ])


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    length = 0
    for x, y in zip(a, b):
        if x != y:
            break
        length += 1
    return length


class PrefixCache:
    """Per (conversation, role) key/value states of the tokens encoded last time.

    With a ``family`` (e.g. the role of a key), a key with no states of its own starts from its
    family's head, if one was set (:meth:`set_head`): every conversation's first prompt for a role
    opens with the same instructions (the recommender's whole system prompt, about 80 tokens with
    the default model; the user's up to its profile, about 120), which are then encoded once, not
    once per conversation. One head per family: memory stays bounded.
    """

    def __init__(self, family: Callable[[Hashable], Hashable] | None = None) -> None:
        self._entries: dict[Hashable, _Entry] = {}
        self._family = family
        self._heads: dict[Hashable, _Entry] = {}  # per family, the opening its prompts share

    def __len__(self) -> int:
        return len(self._entries)

    def set_head(self, family: Hashable, ids: Sequence[int], states: torch.Tensor) -> None:
        """Where keys of ``family`` with no entry start: ``states`` ([2 * layers, heads, tokens,
        dim]) of the tokens ``ids``, computed in a fixed way (not taken from a conversation)."""
        if states.shape[2] != len(ids):
            raise ValueError(f"head of {family!r}: {states.shape[2]} states for {len(ids)} tokens")
        self._heads[family] = _Entry(ids=list(ids), states=states)

    def _entry(self, key: Hashable) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None and self._family is not None:
            entry = self._heads.get(self._family(key))
        return entry

    def states(self, key: Hashable) -> torch.Tensor:
        """The states stored under ``key`` (its own entry), [2 * layers, heads, tokens, dim]."""
        return self._entries[key].states

    def reusable(self, key: Hashable, ids: Sequence[int]) -> int:
        """How many leading tokens of ``ids`` have stored states (at least one token is left to run)."""
        entry = self._entry(key)
        if entry is None:
            return 0
        return min(common_prefix(entry.ids, ids), len(ids) - 1)

    def layout(
        self, keys: Sequence[Hashable], prompts: Sequence[list[int]], pad_id: int, reserve: int = 0
    ) -> BatchLayout:
        """Input ids, mask and past states for a batch whose rows reuse what they can, in a cache
        with room for ``reserve`` more columns (the reply) beyond the prompt."""
        reuse = [self.reusable(key, ids) for key, ids in zip(keys, prompts)]
        prefix = max(reuse, default=0)
        new = max(len(ids) - r for ids, r in zip(prompts, reuse))
        rows, masks, spans = [], [], []
        for ids, r in zip(prompts, reuse):
            n = len(ids) - r
            rows.append([pad_id] * (prefix - r) + ids[:r] + [pad_id] * (new - n) + ids[r:])
            masks.append([0] * (prefix - r) + [1] * r + [0] * (new - n) + [1] * n)
            spans.append((prefix - r, prefix, prefix + new - n, prefix + new))
        cache = self._preallocated(keys, reuse, prefix, prefix + new + reserve)
        return BatchLayout(torch.tensor(rows), torch.tensor(masks), cache, spans)

    def _preallocated(
        self, keys: Sequence[Hashable], reuse: Sequence[int], prefix: int, capacity: int
    ) -> PreallocatedCache:
        """The batch's cache, ``capacity`` columns wide, holding each layer's reused states, each
        row left-padded with zeros to ``prefix``.

        One copy per row (all layers at once), not one per row and layer: on a GPU the many
        small copies cost more than the generation they save.
        """
        template = next((self._entry(k).states for k, r in zip(keys, reuse) if r), None)
        if template is None:
            return PreallocatedCache(capacity)
        layers2, heads, _, dim = template.shape
        buffer = template.new_zeros((layers2, len(keys), heads, capacity, dim))
        for row, (key, r) in enumerate(zip(keys, reuse)):
            if r:
                buffer[:, row, :, prefix - r : prefix] = self._entry(key).states[:, :, :r]
        return PreallocatedCache(capacity, buffer, prefix)

    def store_batch(
        self, keys: Sequence[Hashable], layout: BatchLayout, prompts: Sequence[list[int]],
        replies: Sequence[list[int]], cache: Cache, cache_rows: Sequence[int] | None = None,
        layout_rows: Sequence[int] | None = None,
    ) -> None:
        """Keep each row's states for its prompt followed by ``replies[i]`` (generated tokens
        whose states ``cache`` holds), found where ``layout`` put them: row ``layout_rows[i]`` of
        the layout (default: ``i``), now row ``cache_rows[i]`` of ``cache`` (rows that finished
        early have left it)."""
        layout_rows = list(range(len(keys)) if layout_rows is None else layout_rows)
        cache_rows = layout_rows if cache_rows is None else list(cache_rows)
        index = torch.tensor(cache_rows, device=cache.layers[0].keys.device)
        states = torch.stack([t.index_select(0, index) for layer in cache.layers for t in (layer.keys, layer.values)])
        for i, (key, ids, reply, row) in enumerate(zip(keys, prompts, replies, layout_rows)):
            columns = layout.columns(row, len(reply)).to(states.device)
            self._entries[key] = _Entry(ids=ids + reply, states=states[:, i].index_select(2, columns))

    def drop(self, key: Hashable) -> None:
        self._entries.pop(key, None)
