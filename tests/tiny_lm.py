"""A tiny randomly initialized Llama and a tiny ChatML tokenizer, built in memory for tests.

Shared by the training and base-model tests (imported, not a conftest fixture, so that each test
module states what it builds).
"""

from __future__ import annotations

from pathlib import Path

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

CORPUS = [
    "You are a movie fan looking for a film. You love comedies from the 1990s.",
    "You are a helpful movie recommender. Ask what the user likes and suggest titles.",
    "Hi! What kind of movies do you like? I love comedies and action movies.",
    "Have you seen Super Troopers (2001)? It is a great comedy. Thanks, I will watch it! [END]",
    "Maybe a thriller with a twist? I did not enjoy horror. Sounds good, bye.",
]


def build_tokenizer():
    """Byte-level BPE trained on a few sentences, with ChatML special tokens and template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 5, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
    )
    fast.chat_template = CHATML
    return fast


def build_model(vocab_size: int, seed: int = 0):
    """A 2-layer Llama with 32-wide hidden states (about 30k parameters)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
    )
    return LlamaForCausalLM(config)


def save_tiny(path: Path) -> Path:
    """A tiny model folder as a user would name under ``model.base`` (a local path)."""
    tokenizer = build_tokenizer()
    model = build_model(len(tokenizer))
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    return path


def save_tiny_run_models(root: Path) -> Path:
    """A finished run's ``models/``: the tiny base (with its provenance) under ``models/base`` and
    a random LoRA adapter of each trained role (user, recommender, script); returns the base."""
    import json

    import torch
    from peft import LoraConfig, get_peft_model

    from interplay.models.adapters import adapter_dir
    from interplay.training.finetune import load_base

    base = save_tiny(root / "models" / "base")
    (base / "provenance.json").write_text(json.dumps({"weights_sha256": {"model.safetensors": "tiny"}}))
    for seed, role in enumerate(("user", "recommender", "script")):
        model, _ = load_base(base)
        torch.manual_seed(seed)
        config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
        get_peft_model(model, config).save_pretrained(adapter_dir(root, role))
    return base


def dialogue(i: int, turns: int = 3, end_marker: str = "[END]") -> list[dict[str, str]]:
    """A toy chat row: system prompt, alternating user/assistant, assistant ends with the marker."""
    messages = [{"role": "system", "content": f"You are a movie fan number {i}. You love comedies."}]
    for t in range(turns):
        messages.append({"role": "user", "content": f"What kind of movies do you like? ({t})"})
        reply = "I love comedies and action movies."
        if t == turns - 1:
            reply = f"Thanks, I will watch it! {end_marker}"
        messages.append({"role": "assistant", "content": reply})
    return messages
