"""Gradient accumulation weighs every supervised token alike (profiles/gpu.yaml accumulates 2).

One optimizer step over two micro-batches must move the LoRA weights as one step over both
examples together would: by the gradient of the token mean over the whole accumulated batch, not
of the mean of the two micro-batch means (which counts a token of the short example more).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tiny_lm import dialogue, save_tiny

from interplay.training.data import PadCollator, encode_rows, to_dataset
from interplay.training.finetune import Throughput, _trainer_classes, load_base, supervised_loss


def _lora_model(model_dir: Path):
    from peft import LoraConfig, get_peft_model

    model, tokenizer = load_base(model_dir)
    torch.manual_seed(0)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    return get_peft_model(model, config), tokenizer


def _lora_weights(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def _gradient(model, batches: list[dict[str, torch.Tensor]], per_batch_mean: bool) -> dict[str, torch.Tensor]:
    """The gradient of the token mean over all batches (or of the mean of the batch means)."""
    model.zero_grad()
    total = sum(int((b["labels"][:, 1:] != -100).sum()) for b in batches)
    for batch in batches:
        loss, _ = supervised_loss(model, batch, None if per_batch_mean else total)
        (loss / len(batches) if per_batch_mean else loss).backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    model.zero_grad()
    return grads


def test_accumulated_step_is_the_token_mean_over_the_whole_batch(tmp_path: Path) -> None:
    from transformers import TrainingArguments

    model, tokenizer = _lora_model(save_tiny(tmp_path / "tiny"))
    # A long and a short example: their supervised token counts differ several times over.
    examples = encode_rows(tokenizer, [{"messages": dialogue(0, turns=4)}, {"messages": dialogue(1, turns=1)}], 256)
    counts = [e.supervised for e in examples]
    assert max(counts) >= 2 * min(counts)
    collate = PadCollator(tokenizer.pad_token_id)
    batches = [collate([{"input_ids": e.input_ids, "labels": e.labels}]) for e in examples]

    token_mean = _gradient(model, batches, per_batch_mean=False)
    mean_of_means = _gradient(model, batches, per_batch_mean=True)
    # The two weightings really differ here, so the comparison below can tell them apart.
    gap = max(float((token_mean[n] - mean_of_means[n]).abs().max() / token_mean[n].abs().max()) for n in token_mean)
    assert gap > 0.05

    before = _lora_weights(model)
    with torch.no_grad():
        loss_before = sum(float(supervised_loss(model, b, sum(counts))[0]) for b in batches)
    args = TrainingArguments(
        output_dir=str(tmp_path / "checkpoints"), per_device_train_batch_size=1, gradient_accumulation_steps=2,
        max_steps=1, learning_rate=1.0, optim="sgd", lr_scheduler_type="constant", warmup_steps=0,
        weight_decay=0.0, max_grad_norm=0.0, logging_steps=1, save_strategy="no", report_to="none",
        disable_tqdm=True, use_cpu=True, remove_unused_columns=False, dataloader_num_workers=0, seed=0,
    )
    trainer_cls, _, _ = _trainer_classes()
    trainer = trainer_cls(
        model=model, args=args, train_dataset=to_dataset(examples), data_collator=collate, throughput=Throughput()
    )
    result = trainer.train()

    for name, weight in _lora_weights(model).items():
        step = before[name] - weight  # SGD at rate 1 without clipping: the gradient itself
        torch.testing.assert_close(step, token_mean[name], rtol=1e-4, atol=1e-6)
    # The logged training loss is the token mean too (both micro-batches' token sums / all tokens).
    assert result.training_loss == pytest.approx(loss_before, rel=1e-4)
