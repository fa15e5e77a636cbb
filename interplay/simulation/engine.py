"""The lock-step engine: many conversations advance together, one batched generation per role.

At each step every conversation waiting for the user simulator is generated in batches through
the user adapter, then every conversation waiting for the recommender through the recommender
adapter. The pool holds two batches' worth of conversations, so that after the first step each
role's batch is full (a conversation waiting for one role waits for the other next); finished
conversations leave the pool and new ones take their place.

Randomness comes from one seed set at the start of each call, so a shard
simulated alone gives the same dialogues whatever ran before it: that is what makes resumed runs
byte-identical to uninterrupted ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from interplay.params import SamplingParams
from interplay.simulation.conversation import (
    ChatMessage,
    Conversation,
    Role,
    add_turn,
    turn_problem,
    recommender_view,
    user_view,
)
from interplay.textmatch import TitleIndex
from interplay.training.chat import truncate_messages

log = logging.getLogger(__name__)

#: Times an unusable turn (empty, repeated, leaking) is sampled again before the conversation ends.
RETRIES = 2


@dataclass
class TurnGenerator:
    """Next turns for a batch of chats, through one model (and one adapter of it, if any)."""

    model: Any
    tokenizer: Any
    max_context_tokens: int

    def _prompt(self, chat: list[ChatMessage], max_new_tokens: int) -> str:
        budget = max(self.max_context_tokens - max_new_tokens, 16)
        prompt = self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        if len(self.tokenizer(prompt, add_special_tokens=False)["input_ids"]) <= budget:
            return prompt
        kept = truncate_messages(self.tokenizer, chat, budget, head=0)  # system + latest turns
        return self.tokenizer.apply_chat_template(kept, tokenize=False, add_generation_prompt=True)

    def _stop_ids(self) -> list[int]:
        ids = {self.tokenizer.eos_token_id}
        end_of_turn = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        if isinstance(end_of_turn, int) and end_of_turn != self.tokenizer.unk_token_id:
            ids.add(end_of_turn)
        return sorted(i for i in ids if i is not None)

    @torch.no_grad()
    def generate(
        self, chats: Sequence[list[ChatMessage]], sampling: SamplingParams, adapter: str | None
    ) -> tuple[list[str], int]:
        """Decoded replies and the number of tokens generated (up to each row's end of turn)."""
        prompts = [self._prompt(chat, sampling.max_new_tokens) for chat in chats]
        self.tokenizer.padding_side = "left"
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        device = next(self.model.parameters()).device
        batch = {key: value.to(device) for key, value in batch.items()}
        stop = self._stop_ids()
        options: dict[str, Any] = {
            "max_new_tokens": sampling.max_new_tokens,
            "min_new_tokens": 2,
            "do_sample": sampling.temperature > 0,
            "repetition_penalty": sampling.repetition_penalty,
            "no_repeat_ngram_size": sampling.no_repeat_ngram_size,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": stop,
            "use_cache": True,
        }
        if sampling.temperature > 0:
            options.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k)
        if adapter is not None:
            # One adapter per batch: activating it is cheaper than peft's per-row adapter_names
            # path (which splits every LoRA layer's input by adapter), with the same result.
            self.model.set_adapter(adapter)
        output = self.model.generate(**batch, **options)
        new_tokens = output[:, batch["input_ids"].shape[1] :]
        texts: list[str] = []
        generated = 0
        for row in new_tokens.tolist():
            length = next((i for i, token in enumerate(row) if token in stop), len(row))
            generated += length
            texts.append(self.tokenizer.decode(row[:length], skip_special_tokens=True).strip())
        return texts, generated


@dataclass
class RolePlayer:
    """How one role is played: which generator, which adapter (None: the model as it is)."""

    generator: TurnGenerator
    adapter: str | None
    sampling: SamplingParams


@dataclass
class EngineSettings:
    batch_size: int
    max_turns: int
    end_marker: str
    link_cutoff: float = 90.0
    leak_threshold: float = 90.0


@dataclass
class EngineStats:
    generated_tokens: int = 0
    seconds: float = 0.0
    retries: int = 0


def _chunks(items: list[Conversation], size: int) -> Iterable[list[Conversation]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _view(conversation: Conversation, role: Role, end_marker: str) -> list[ChatMessage]:
    if role == "user":
        return user_view(conversation, end_marker)
    return recommender_view(conversation.messages)


def _usable_turns(
    group: list[Conversation], role: Role, player: RolePlayer, settings: EngineSettings, stats: EngineStats,
    index: TitleIndex,
) -> list[tuple[str, str | None]]:
    """Each conversation's next turn and what is still wrong with it (None: nothing).

    A turn that is empty, repeats a recent turn, or (user only) names a target the recommender
    has not mentioned yet is sampled again, up to ``RETRIES`` times; the leak check is what keeps
    ``leakage_rate`` at zero even when a user simulator guesses a title.
    """

    def problem(conversation: Conversation, text: str) -> str | None:
        return turn_problem(conversation, text, settings.end_marker, settings.leak_threshold, index)

    texts, tokens = player.generator.generate(
        [_view(c, role, settings.end_marker) for c in group], player.sampling, player.adapter
    )
    stats.generated_tokens += tokens
    for _ in range(RETRIES):
        bad = [i for i, text in enumerate(texts) if problem(group[i], text) is not None]
        if not bad:
            break
        stats.retries += len(bad)
        again, tokens = player.generator.generate(
            [_view(group[i], role, settings.end_marker) for i in bad], player.sampling, player.adapter
        )
        stats.generated_tokens += tokens
        for i, text in zip(bad, again):
            texts[i] = text
    return [(text, problem(group[i], text)) for i, text in enumerate(texts)]


def run_conversations(
    conversations: Sequence[Conversation],
    players: dict[Role, RolePlayer],
    settings: EngineSettings,
    index: TitleIndex,
    seed: int,
    on_finished: Callable[[Conversation], None] | None = None,
) -> tuple[list[Conversation], EngineStats]:
    """Advance all conversations in lock-step until each has ended; returns them in input order."""
    torch.manual_seed(seed)
    stats = EngineStats()
    started = time.perf_counter()
    queue = list(conversations)
    active: list[Conversation] = []
    while queue or active:
        while queue and len(active) < 2 * settings.batch_size:
            active.append(queue.pop(0))
        for role in ("user", "recommender"):
            waiting = [c for c in active if not c.finished and c.next_role == role]
            player = players[role]
            for group in _chunks(waiting, settings.batch_size):
                for conversation, (text, problem) in zip(group, _usable_turns(group, role, player, settings, stats, index)):
                    if problem == "leak_guard":
                        conversation.termination_reason = problem  # never append a leaking turn
                        continue
                    add_turn(
                        conversation,
                        text,
                        end_marker=settings.end_marker,
                        max_turns=settings.max_turns,
                        index=index,
                        link_cutoff=settings.link_cutoff,
                    )
        for conversation in [c for c in active if c.finished]:
            active.remove(conversation)
            if on_finished is not None:
                on_finished(conversation)
    stats.seconds = time.perf_counter() - started
    return list(conversations), stats
