"""The lock-step engine: many conversations advance together, one batched generation per role.

At each step the conversations waiting for the user simulator are generated in one batch through
the user adapter, then those waiting for the recommender through the recommender adapter. The pool
holds two batches' worth of conversations and some slack, so that each role's batch stays full (a
conversation waiting for one role waits for the other next); finished conversations leave the pool
and new ones take their place. Where both roles are played by one model with the same adapter and
sampling (the baselines), the two batches are one of twice the size (:func:`roles_share_batch`).
Each conversation keeps its prompt's key/value states per role (:mod:`interplay.simulation.prefix_cache`),
so a turn encodes only what was said since that role last spoke, and its first prompt starts from the
states of the opening all of its role's prompts share (:func:`opening_ids`), encoded once alone.

Randomness comes from one seed set at the start of each call, so a shard
simulated alone gives the same dialogues whatever ran before it: that is what makes resumed runs
byte-identical to uninterrupted ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import LogitsProcessorList

from interplay.config.params import SamplingParams
from interplay.dialogue.rows import ROLES, ChatMessage, Role
from interplay.grounding.notes import Grounder
from interplay.preprocess.profiles import Profile, TargetAttributes
from interplay.simulation.conversation import (
    Conversation,
    add_turn,
    ground,
    recommender_view,
    turn_problem,
    user_view,
)
from interplay.simulation.decoding import length_groups, positions, sample_replies
from interplay.simulation.memory import return_freed_memory
from interplay.simulation.prefix_cache import PrefixCache, common_prefix
from interplay.simulation.repetition import ReplyRepetition
from interplay.text.end_marker import ACCEPT_MARKER
from interplay.text.titles import TitleIndex
from interplay.training.chat import truncate_messages

log = logging.getLogger(__name__)

#: Times an unusable turn (empty, repeated, leaking) is sampled again before the conversation ends.
RETRIES = 2
#: Messages a prompt over its budget drops at a time (:func:`~interplay.training.chat.truncate_messages`).
#: One at a time moves the cut at every turn of a long conversation, and each move encodes the
#: kept tail again: 21% of the prefill tokens of 64 dialogues. Four at a time cut that to 17% but
#: not the prefill (55,652 tokens against 54,867, for other dialogues) and made 0.96x the
#: dialogues an hour, so it is not the default (``reports/bench_context_step.json``, made by
#: ``benchmarks/bench_simulate_stage.py --context-step 1 --context-step 4``).
CONTEXT_STEP = 1


@dataclass
class TurnGenerator:
    """Next turns for a batch of chats, through one model (and one adapter of it, if any)."""

    model: Any
    tokenizer: Any
    max_context_tokens: int
    #: (adapter, token ids) -> the states of those tokens encoded alone (:meth:`opening_states`).
    _openings: dict[tuple[str | None, tuple[int, ...]], torch.Tensor] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def _encode(self, chat: list[ChatMessage]) -> list[int]:
        prompt = self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        return self.tokenizer(prompt, add_special_tokens=False)["input_ids"]

    def prompt_ids(self, chat: list[ChatMessage], max_new_tokens: int) -> list[int]:
        """The chat as prompt tokens, truncated (system prompt + latest turns) to leave room to reply."""
        budget = max(self.max_context_tokens - max_new_tokens, 16)
        ids = self._encode(chat)
        if len(ids) <= budget:
            return ids
        return self._encode(truncate_messages(self.tokenizer, chat, budget, head=0, step=CONTEXT_STEP))

    def _stop_ids(self) -> list[int]:
        ids = {self.tokenizer.eos_token_id}
        end_of_turn = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        if isinstance(end_of_turn, int) and end_of_turn != self.tokenizer.unk_token_id:
            ids.add(end_of_turn)
        return sorted(i for i in ids if i is not None)

    def generation_options(self, sampling: SamplingParams, prompt_width: int) -> dict[str, Any]:
        """``model.generate`` settings for one role's turns: its sampling, stop at end of turn,
        and repetition control over the reply only (:mod:`interplay.simulation.repetition`) for
        prompts ``prompt_width`` tokens wide."""
        repetition = ReplyRepetition(prompt_width, sampling.repetition_penalty, sampling.no_repeat_ngram_size)
        options: dict[str, Any] = {
            "max_new_tokens": sampling.max_new_tokens,
            "min_new_tokens": 2,
            "do_sample": sampling.temperature > 0,
            "logits_processor": LogitsProcessorList([repetition]),
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self._stop_ids(),
            "use_cache": True,
        }
        if sampling.temperature > 0:
            options.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k)
        return options

    @torch.no_grad()
    def generate(
        self,
        chats: Sequence[list[ChatMessage]],
        sampling: SamplingParams,
        adapter: str | None,
        keys: Sequence[Hashable] | None = None,
        cache: PrefixCache | None = None,
    ) -> tuple[list[str], int]:
        """Decoded replies and the number of tokens generated (up to each row's end of turn).

        With ``keys`` and a ``cache``, each row reuses the states stored under its key and leaves
        its prompt's (and reply's) states there for its next turn.
        """
        prompts = [self.prompt_ids(chat, sampling.max_new_tokens) for chat in chats]
        store = cache if cache is not None and keys is not None else PrefixCache()
        row_keys = list(keys) if keys is not None else list(range(len(prompts)))
        self._use_adapter(adapter)
        self._encode_ahead(store, row_keys, prompts)
        layout = store.layout(row_keys, prompts, self.tokenizer.pad_token_id, reserve=sampling.max_new_tokens)
        device = next(self.model.parameters()).device
        stop = self._stop_ids()

        def keep(rows: list[int], cache_rows: list[int], fed: list[list[int]]) -> None:
            if store is cache:  # the reply's states up to its end of turn, which the next prompt repeats
                store.store_batch([row_keys[r] for r in rows], layout, [prompts[r] for r in rows], fed,
                                  layout.cache, cache_rows=cache_rows, layout_rows=rows)

        new_tokens = sample_replies(
            self.model, layout.input_ids[:, layout.prefix :].to(device), layout.attention_mask.to(device),
            layout.cache, sampling, stop, keep,
        )
        return_freed_memory()  # the batch's buffers and the states it replaced (simulation.memory)
        lengths = [reply_length(tokens, stop) for tokens in new_tokens]
        texts = [
            self.tokenizer.decode(tokens[:length], skip_special_tokens=True).strip()
            for tokens, length in zip(new_tokens, lengths)
        ]
        return texts, sum(lengths)

    def _use_adapter(self, adapter: str | None) -> None:
        if adapter is not None and adapter in (getattr(self.model, "peft_config", None) or {}):
            # A model holding several adapters (one per role) plays one per batch: activating it is
            # cheaper than peft's per-row adapter_names path, with the same result. The stage's
            # models have their adapter merged (runtime.load_players) and skip this.
            self.model.set_adapter(adapter)

    @torch.no_grad()
    def opening_states(self, ids: Sequence[int], adapter: str | None) -> torch.Tensor:
        """The states of ``ids`` encoded alone (a batch of one, nothing reused), computed once per
        adapter and ids: the same for every shard and batch, so a conversation that starts from
        them gives the same bytes whoever shares its batch and whether or not the run resumed."""
        key = (adapter, tuple(ids))
        if key not in self._openings:
            self._use_adapter(adapter)
            store = PrefixCache()
            self._run_prompts(store, [key], [list(ids)])
            self._openings[key] = store.states(key)
        return self._openings[key]

    def _encode_ahead(self, store: PrefixCache, keys: list[Hashable], prompts: list[list[int]]) -> None:
        """Run the new tokens of the batch's prompts (all but each one's last) in groups of
        similar length and store their states, so the batch that samples pads no row to the
        longest: a conversation's first prompt (hundreds of tokens) next to later turns (dozens)
        would otherwise widen every row. The shortest group is left to the batch itself."""
        new = [len(ids) - 1 - store.reusable(key, ids) for key, ids in zip(keys, prompts)]
        for group in length_groups(new)[1:]:
            self._run_prompts(store, [keys[i] for i in group], [prompts[i][:-1] for i in group])

    def _run_prompts(self, store: PrefixCache, keys: list[Hashable], prompts: list[list[int]]) -> None:
        """Encode ``prompts`` in one batch, each after the states it can reuse, and store the states."""
        layout = store.layout(keys, prompts, self.tokenizer.pad_token_id)
        device = next(self.model.parameters()).device
        mask = layout.attention_mask.to(device)
        self.model(
            input_ids=layout.input_ids[:, layout.prefix :].to(device), attention_mask=mask,
            position_ids=positions(mask)[:, layout.prefix :], cache=layout.cache, use_cache=True,
            logits_to_keep=1,
        )
        store.store_batch(keys, layout, prompts, [[] for _ in keys], layout.cache)


def reply_length(tokens: Sequence[int], stop: Collection[int]) -> int:
    """Generated tokens before the first end-of-turn token (all of them if none)."""
    return next((i for i, token in enumerate(tokens) if token in stop), len(tokens))


@dataclass
class RolePlayer:
    """How one role is played: which generator, which adapter (None: the model as it is), and
    what it is shown (None: the role's own view of the conversation, see ``conversation``)."""

    generator: TurnGenerator
    adapter: str | None
    sampling: SamplingParams
    view: Callable[[Conversation], list[ChatMessage]] | None = None


@dataclass
class EngineSettings:
    batch_size: int
    max_turns: int
    end_marker: str
    accept_marker: str = ACCEPT_MARKER
    link_cutoff: float = 90.0
    leak_threshold: float | None = 90.0  # None: user turns naming a target are kept
    #: Candidate and item notes (``simulation.grounding: catalog``); None: the conversation alone.
    grounder: Grounder | None = None


@dataclass
class EngineStats:
    generated_tokens: int = 0
    seconds: float = 0.0
    retries: int = 0


def _view(conversation: Conversation, role: Role, settings: EngineSettings) -> list[ChatMessage]:
    if role == "user":
        return user_view(conversation, settings.end_marker, settings.accept_marker)
    return recommender_view(conversation.messages, conversation.notes)


def _prompt(player: RolePlayer, conversation: Conversation, settings: EngineSettings) -> list[ChatMessage]:
    """What the role whose turn it is is shown: its player's view, or the role's own."""
    role = conversation.next_role
    return player.view(conversation) if player.view else _view(conversation, role, settings)


def _placeholder(mark: str) -> Profile:
    """A profile every field of which is ``mark``: what two profiles never have in common."""
    attributes = TargetAttributes(genres=(mark,), decade=mark, directors=(mark,), actors=(mark,))
    return Profile(
        profile_id=mark, dialogue_id=mark, split=None, preference_summary=mark, target_attributes=attributes,
        target_attributes_text=mark, target_item_ids=(mark,), target_titles=(mark,), opening_role=None,
    )


def opening_ids(player: RolePlayer, role: Role, settings: EngineSettings) -> list[int]:
    """The prompt tokens every conversation's first prompt for ``role`` opens with, whatever its
    profile, target and opening turn (the chat template's start and the constant head of the
    system prompt), found as the common tokens of two first prompts that differ in all of them,
    less the last: a real prompt may tokenize that one merged with what follows it."""
    other: Role = "recommender" if role == "user" else "user"
    alone = Conversation(_placeholder("1"), role)  # opens the conversation
    answering = Conversation(_placeholder("2"), other, [{"role": other, "content": "2"}])
    first, second = (player.generator.prompt_ids(_prompt(player, c, settings), player.sampling.max_new_tokens)
                     for c in (alone, answering))
    return first[: max(common_prefix(first, second) - 1, 0)]


def set_heads(cache: PrefixCache, players: dict[Role, RolePlayer], settings: EngineSettings) -> None:
    """Give each role played by a :class:`TurnGenerator` its head in ``cache`` (the states of its
    :func:`opening_ids`, encoded alone): conversations then encode their openings only once."""
    for role in ROLES:
        player = players[role]
        if isinstance(player.generator, TurnGenerator):
            ids = opening_ids(player, role, settings)
            if ids:
                cache.set_head(role, ids, player.generator.opening_states(ids, player.adapter))


def pool_size(batch_size: int) -> int:
    """Conversations in flight: two batches (one per role, or one of both roles' rows) and some
    slack, so that the batches stay full when conversations fall out of step (a resampled turn, a
    new conversation)."""
    return 2 * batch_size + batch_size // 4 + 1


def roles_share_batch(players: dict[Role, RolePlayer]) -> bool:
    """Whether each step generates both roles' turns in one batch of up to two batches' rows.

    Only where that samples from the same distributions as two batches: one generator, the same
    adapter and equal sampling settings (the baselines: the base model, or one script writer, on
    both sides; each row still gets its own role's view and cached prefix). A decoding step at
    batch 32 runs far below the matmul limit (0.14 of it, ``reports/bench_simulate_stage.json``),
    so one step of 64 rows costs less than two of 32. Two different models (Interplay) keep one
    batch per role, and their exact bytes.
    """
    user, recommender = players["user"], players["recommender"]
    return (
        user.generator is recommender.generator
        and user.adapter == recommender.adapter
        and user.sampling == recommender.sampling
    )


def run_conversations(
    conversations: Sequence[Conversation],
    players: dict[Role, RolePlayer],
    settings: EngineSettings,
    index: TitleIndex,
    seed: int,
    on_finished: Callable[[Conversation], None] | None = None,
) -> tuple[list[Conversation], EngineStats]:
    """Advance all conversations in lock-step until each has ended; returns them in input order.

    Each step generates one batch per role (or one for both, see :func:`roles_share_batch`), of
    the conversations that have waited longest for it. A turn that is empty, repeats a recent
    turn, or (user only) names a target the recommender has not mentioned yet is not kept: the
    conversation waits for that role again and is resampled in the next step's batch, up to
    ``RETRIES`` times, instead of in a small batch of its own. The leak check is what keeps
    ``leakage_rate`` at zero even when a user simulator guesses a title, so each rejection is
    counted (``leak_guard_rejections``): the attempted leaks are reported, not hidden by the guard.
    """
    torch.manual_seed(seed)
    for conversation in conversations:
        conversation.leak_guard_rejections = 0 if settings.leak_threshold is not None else None
    stats = EngineStats()
    started = time.perf_counter()
    cache = PrefixCache(family=_role_of)
    if conversations:
        set_heads(cache, players, settings)
    batches: list[tuple[Role, ...]] = [ROLES] if roles_share_batch(players) else [(role,) for role in ROLES]
    queue = list(conversations)
    active: list[Conversation] = []
    waiting_since: dict[int, int] = {}  # id(conversation) -> step of its last turn
    retries: dict[int, int] = {}
    step = 0
    while queue or active:
        while queue and len(active) < pool_size(settings.batch_size):
            conversation = queue.pop(0)
            active.append(conversation)
            waiting_since[id(conversation)] = step
        for roles in batches:
            waiting = [c for c in active if not c.finished and c.next_role in roles]
            group = sorted(waiting, key=lambda c: waiting_since[id(c)])[: settings.batch_size * len(roles)]
            if not group:
                continue
            player = players[roles[0]]  # the generator, adapter and sampling of every role in the batch
            texts, tokens = player.generator.generate(
                [_prompt(players[c.next_role], c, settings) for c in group],
                player.sampling,
                player.adapter,
                keys=[(id(c), c.next_role) for c in group],
                cache=cache,
            )
            stats.generated_tokens += tokens
            for conversation, text in zip(group, texts):
                _take_turn(conversation, text, settings, index, retries, stats)
                waiting_since[id(conversation)] = step + 1
        step += 1
        for conversation in [c for c in active if c.finished]:
            active.remove(conversation)
            for role in ("user", "recommender"):
                cache.drop((id(conversation), role))
            if on_finished is not None:
                on_finished(conversation)
    stats.seconds = time.perf_counter() - started
    return list(conversations), stats


def _role_of(key: tuple[int, Role]) -> Role:
    """The engine's cache keys are (conversation, role): a role's prompts share their opening."""
    return key[1]


def _take_turn(
    conversation: Conversation, text: str, settings: EngineSettings, index: TitleIndex,
    retries: dict[int, int], stats: EngineStats,
) -> None:
    """Append a usable turn, or leave the conversation waiting to be resampled, or end it."""
    problem = turn_problem(
        conversation, text, settings.end_marker, settings.leak_threshold, index, settings.accept_marker
    )
    if problem == "leak_guard":
        conversation.leak_guard_rejections = (conversation.leak_guard_rejections or 0) + 1
    key = id(conversation)
    if problem is not None and retries.get(key, 0) < RETRIES:
        retries[key] = retries.get(key, 0) + 1
        stats.retries += 1
        return
    retries[key] = 0
    if problem == "leak_guard":
        conversation.termination_reason = problem  # never append a leaking turn
        return
    add_turn(
        conversation,
        text,
        end_marker=settings.end_marker,
        accept_marker=settings.accept_marker,
        max_turns=settings.max_turns,
        index=index,
        link_cutoff=settings.link_cutoff,
    )
    if settings.grounder is not None:
        ground(conversation, settings.grounder)
