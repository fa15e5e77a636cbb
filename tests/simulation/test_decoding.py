"""The engine's own decoding: transformers' sampling distribution, and the replies ``generate``
would give, though finished rows leave the batch and long prompts are encoded apart."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from interplay.config.params import SamplingParams
from interplay.simulation.decoding import candidates, length_groups


@pytest.mark.parametrize("top_k, top_p", [(50, 0.9), (0, 0.8), (7, 1.0)])
def test_candidates_are_the_distribution_transformers_samples(top_k: int, top_p: float) -> None:
    import torch
    from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    from interplay.simulation.repetition import ReplyRepetition

    torch.manual_seed(0)
    logits = torch.randn(5, 300) * 3
    reply = torch.randint(0, 300, (5, 6))
    sampling = SamplingParams(temperature=0.7, top_p=top_p, top_k=top_k, repetition_penalty=1.1,
                              no_repeat_ngram_size=2, max_new_tokens=8)
    processors = LogitsProcessorList([ReplyRepetition(0, 1.1, 2), TemperatureLogitsWarper(0.7)])
    if top_k:
        processors.append(TopKLogitsWarper(top_k))
    if top_p < 1.0:
        processors.append(TopPLogitsWarper(top_p))
    expected = processors(reply, logits.clone()).softmax(dim=-1)

    values, indices = candidates(logits.clone(), reply, sampling, stop_ids=[0])
    got = torch.zeros_like(expected).scatter(1, indices, values.softmax(dim=-1))
    assert torch.allclose(got, expected, atol=1e-6)


def test_no_end_of_turn_before_the_second_token() -> None:
    import torch

    logits = torch.zeros(2, 10)
    logits[:, 3] = 50.0  # the end-of-turn token, by far the likeliest
    greedy = SamplingParams(temperature=0.0, max_new_tokens=4)
    assert candidates(logits, torch.zeros(2, 1, dtype=torch.long), greedy, [3])[1][:, 0].tolist() != [3, 3]
    assert candidates(logits, torch.zeros(2, 2, dtype=torch.long), greedy, [3])[1][:, 0].tolist() == [3, 3]


def test_length_groups_bound_the_padding_and_keep_every_row() -> None:
    lengths = [40, 600, 35, 580, 3, 45]
    groups = length_groups(lengths)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for group in groups:
        widest = max(lengths[i] for i in group)
        assert len(group) * widest <= 1.3 * sum(lengths[i] for i in group) or len(group) == 1
    assert groups[0] == [4]  # shortest first: the batch itself runs it
    assert {1, 3} in [set(g) for g in groups]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_lm import save_tiny

    return save_tiny(tmp_path_factory.mktemp("tiny") / "model")


def sharp_generator(model_dir: Path):  # noqa: ANN201
    """The tiny model with sharper weights: its greedy replies then depend on the prompt."""
    import torch

    from interplay.simulation.engine import TurnGenerator
    from interplay.training.finetune import load_base

    model, tokenizer = load_base(model_dir)
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if "norm" not in name:
                weight.mul_(4.0)
    return TurnGenerator(model.eval(), tokenizer, max_context_tokens=512)


@pytest.mark.parametrize("attention", ["sdpa", "grouped"])
def test_greedy_replies_are_those_of_generate_one_prompt_at_a_time(
    tiny_dir: Path, monkeypatch: pytest.MonkeyPatch, attention: str
) -> None:
    """Prompts of very different lengths (encoded apart), replies ending at different steps (rows
    leaving the batch), reused states on the second turn: each reply is what ``model.generate``
    gives for that prompt alone, with nothing padded and nothing reused; with transformers' kernel
    and with the generation kernel of :mod:`interplay.simulation.attention`."""
    import torch
    from transformers import LogitsProcessorList

    from interplay.simulation.attention import use_grouped_attention
    from interplay.simulation.prefix_cache import PrefixCache, PreallocatedCache
    from interplay.simulation.repetition import ReplyRepetition

    generator = sharp_generator(tiny_dir)
    if attention == "grouped":
        use_grouped_attention(generator.model)
    model, tokenizer = generator.model, generator.tokenizer
    sampling = SamplingParams(temperature=0.0, max_new_tokens=12, repetition_penalty=1.3, no_repeat_ngram_size=2)
    chats = [
        [{"role": "system", "content": "You are a movie fan. " * n}, {"role": "user", "content": f"Hi {n}"}]
        for n in (0, 1, 30, 2, 40, 5)
    ]
    stop = generator._stop_ids()

    def reply_tokens(chat: list[dict]) -> list[int]:
        ids = torch.tensor([generator.prompt_ids(chat, sampling.max_new_tokens)])
        out = model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=sampling.max_new_tokens,
            min_new_tokens=2, do_sample=False, eos_token_id=stop, pad_token_id=tokenizer.pad_token_id,
            logits_processor=LogitsProcessorList([ReplyRepetition(ids.shape[1], 1.3, 2)]),
        )[0, ids.shape[1]:].tolist()
        return out[: next((i for i, t in enumerate(out) if t in stop), len(out))]

    def alone(chat: list[dict]) -> str:
        return tokenizer.decode(reply_tokens(chat), skip_special_tokens=True).strip()

    # A random tiny model never writes its end of turn: a token it writes at different steps in
    # different rows is made one too, so that rows finish apart and leave the batch.
    written = [reply_tokens(chat) for chat in chats]
    common = Counter(t for tokens in written for t in set(tokens[2:-1]))
    stop.append(next(t for t, _ in common.most_common() if len({tuple(w).index(t) for w in written if t in w}) > 1))
    generator._stop_ids = lambda: stop  # type: ignore[method-assign]
    dropped = []
    keep_rows = PreallocatedCache.keep_rows
    monkeypatch.setattr(PreallocatedCache, "keep_rows", lambda self, index: dropped.append(len(index)) or keep_rows(self, index))

    cache, keys = PrefixCache(), list(range(len(chats)))
    first, _ = generator.generate(chats, sampling, None, keys=keys, cache=cache)
    assert dropped  # rows left the batch before the longest reply ended
    assert first == [alone(chat) for chat in chats]
    later = [chat + [{"role": "assistant", "content": reply}, {"role": "user", "content": "And?" * (i + 1)}]
             for i, (chat, reply) in enumerate(zip(chats, first))]
    assert generator.generate(later, sampling, None, keys=keys, cache=cache)[0] == [alone(chat) for chat in later]


def test_a_first_prompt_starts_from_its_roles_head_not_from_another_conversation(tiny_dir: Path) -> None:
    """A conversation's first prompt reuses its role's head (the shared opening, encoded alone) and
    replies as if encoded from scratch; neither another conversation's states (they depend on the
    batch it was encoded in) nor another role's head are used."""
    from interplay.simulation.prefix_cache import PrefixCache, common_prefix

    generator = sharp_generator(tiny_dir)
    greedy = SamplingParams(temperature=0.0, max_new_tokens=8, no_repeat_ngram_size=0)
    system = {"role": "system", "content": "You are a movie fan looking for a film. " * 4}
    first, second = ([system, {"role": "user", "content": f"Hi there {name}, what do you like?"}] for name in "AB")
    a, b = (generator.prompt_ids(chat, greedy.max_new_tokens) for chat in (first, second))
    head = a[: common_prefix(a, b) - 4]  # shorter than what the two prompts share
    cache = PrefixCache(family=lambda key: key[1])
    cache.set_head("user", head, generator.opening_states(head, None))
    assert len(head) > 40 and cache.reusable((1, "user"), a) == len(head)
    assert cache.reusable((1, "recommender"), a) == 0
    generator.generate([first], greedy, None, keys=[(1, "user")], cache=cache)
    assert cache.reusable((2, "user"), b) == len(head)  # not the longer prefix conversation 1 holds
    reused = generator.generate([second], greedy, None, keys=[(2, "user")], cache=cache)[0]
    assert reused == generator.generate([second], greedy, None)[0]
