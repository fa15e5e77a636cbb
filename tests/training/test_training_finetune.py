"""LoRA training on a tiny model: it learns, is deterministic, resumes, and reloads to generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tiny_lm import dialogue, save_tiny

from interplay.config.params import FinetuneSettings
from interplay.models.base import materialize_base
from interplay.training.data import encode_rows
from interplay.training.finetune import load_base, train_adapter
from interplay.training.roles import generate_replies, load_with_adapter

SETTINGS = FinetuneSettings(
    learning_rate=5e-3,
    warmup_steps=1,
    max_steps=6,
    batch_size=4,
    max_tokens=96,
    save_steps=2,
    eval_batch_size=8,
    lora_r=4,
    lora_alpha=8,
)


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("base")
    materialize_base(str(save_tiny(root / "tiny")), root / "models" / "base")
    return root / "models" / "base"


def _examples(tokenizer, n: int, offset: int = 0):
    return encode_rows(tokenizer, [{"messages": dialogue(offset + i, turns=2)} for i in range(n)], 96)


def _train(base_dir: Path, out: Path, settings: FinetuneSettings = SETTINGS, callbacks=None) -> dict:
    model, tokenizer = load_base(base_dir)
    return train_adapter(
        model,
        tokenizer,
        _examples(tokenizer, 24),
        _examples(tokenizer, 8, offset=100),
        settings,
        seed=7,
        out_dir=out / "adapter",
        checkpoint_dir=out / "checkpoints",
        callbacks=callbacks,
    )


def _adapter(out: Path) -> dict[str, torch.Tensor]:
    return load_file(out / "adapter" / "adapter_model.safetensors")


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def reference_run(base_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("reference")
    return out, _train(base_dir, out)


def test_training_lowers_validation_loss_and_writes_metrics(reference_run) -> None:
    out, metrics = reference_run
    assert metrics["validation_loss_after"] < metrics["validation_loss_before"]
    assert metrics["train_steps"] == SETTINGS.max_steps
    assert metrics["supervised_tokens_per_second"] > 0
    for key in ("perplexity_before", "perplexity_after"):
        assert metrics[key] > 1
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    assert not list((out / "adapter").glob("*.bin"))


def test_same_seed_same_adapter(base_dir: Path, reference_run, tmp_path: Path) -> None:
    _train(base_dir, tmp_path)
    _assert_same(_adapter(reference_run[0]), _adapter(tmp_path))


class _Killed(RuntimeError):
    pass


def _kill_after(step: int):
    from transformers import TrainerCallback

    class Kill(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == step:
                raise _Killed(f"killed at step {step}")

    return Kill()


def _first_step_recorder(seen: list[int]):
    from transformers import TrainerCallback

    class Record(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            seen.append(state.global_step)

    return Record()


def test_killed_run_resumes_from_last_checkpoint(base_dir: Path, reference_run, tmp_path: Path) -> None:
    # checkpoints every 2 steps; the run dies during step 3, after checkpoint-2 was written
    with pytest.raises(_Killed):
        _train(base_dir, tmp_path, callbacks=[_kill_after(3)])
    assert (tmp_path / "checkpoints" / "checkpoint-2").is_dir()
    seen: list[int] = []
    metrics = _train(base_dir, tmp_path, callbacks=[_first_step_recorder(seen)])
    assert seen[0] == 2  # continued from the checkpoint, not from step 0
    assert metrics["resumed_from_step"] == 2 and metrics["train_steps"] == SETTINGS.max_steps
    _assert_same(_adapter(reference_run[0]), _adapter(tmp_path))  # as if never interrupted


def test_changed_settings_do_not_resume_old_checkpoints(base_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(_Killed):
        _train(base_dir, tmp_path, callbacks=[_kill_after(3)])
    other = SETTINGS.model_copy(update={"learning_rate": 1e-3})
    seen: list[int] = []
    metrics = _train(base_dir, tmp_path, settings=other, callbacks=[_first_step_recorder(seen)])
    assert seen[0] == 0 and metrics["resumed_from_step"] == 0


def test_adapter_reloads_onto_base_and_generates(base_dir: Path, reference_run) -> None:
    out, _ = reference_run
    model, tokenizer = load_with_adapter(base_dir, out / "adapter", dtype=torch.float32)  # as trained
    # the reloaded adapter is the trained one, not a fresh (zero) LoRA
    saved = _adapter(out)
    lora_b = [v for k, v in saved.items() if "lora_B" in k]
    assert any(float(t.abs().sum()) > 0 for t in lora_b)
    conversations = [dialogue(0, turns=1)[:2], dialogue(1, turns=2)[:4]]
    replies = generate_replies(model, tokenizer, conversations, max_new_tokens=8)
    assert len(replies) == 2 and all(isinstance(r, str) for r in replies)
    # reloaded adapter gives the same validation loss as right after training
    from interplay.training.finetune import evaluate_loss

    bf16 = reference_run[1]["precision"] == "bfloat16"  # evaluated under autocast as in training
    again = evaluate_loss(model, _examples(tokenizer, 8, offset=100), tokenizer.pad_token_id, 8, bf16)
    assert again["loss"] == pytest.approx(reference_run[1]["validation_loss_after"], abs=1e-5)


def test_bf16_holds_the_base_in_bf16_and_trains_lora_in_fp32(base_dir: Path, tmp_path: Path) -> None:
    model, tokenizer = load_base(base_dir, torch.bfloat16)
    settings = SETTINGS.model_copy(update={"precision": "bfloat16", "max_steps": 2, "save_steps": 10})
    metrics = train_adapter(
        model, tokenizer, _examples(tokenizer, 8), _examples(tokenizer, 4, offset=100), settings,
        seed=7, out_dir=tmp_path / "adapter", checkpoint_dir=tmp_path / "checkpoints",
    )
    assert metrics["precision"] == "bfloat16"
    frozen = {p.dtype for p in model.parameters() if not p.requires_grad}
    trained = {p.dtype for p in model.parameters() if p.requires_grad}
    assert frozen == {torch.bfloat16} and trained == {torch.float32}
    assert {t.dtype for t in _adapter(tmp_path).values()} == {torch.float32}


def test_auto_trains_in_bf16_autocast_with_fp32_masters_where_bf16_is_native(
    base_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from interplay.models import precision as precisions
    from interplay.training import finetune

    monkeypatch.setattr(precisions, "cpu_has_fast_bf16", lambda: True)  # a CPU with AMX / AVX512-BF16
    if torch.cuda.is_available():
        pytest.skip("auto resolves by the GPU here")
    resolved = precisions.resolve("auto")
    assert resolved == "bfloat16"
    model, tokenizer = load_base(base_dir, precisions.training_base_dtype(resolved))

    autocast_in_training: list[tuple[bool, torch.dtype]] = []
    real_loss = finetune.supervised_loss

    def spy(model, batch, tokens=None):
        if model.training:
            autocast_in_training.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))
        return real_loss(model, batch, tokens)

    monkeypatch.setattr(finetune, "supervised_loss", spy)
    optimizer_state: list[torch.dtype] = []
    from transformers import TrainerCallback

    class OptimizerState(TrainerCallback):
        def on_step_end(self, args, state, control, optimizer=None, **kwargs):
            optimizer_state[:] = [t.dtype for s in optimizer.state.values() for t in s.values() if t.numel() > 1]

    settings = SETTINGS.model_copy(update={"precision": "auto", "max_steps": 2, "save_steps": 10})
    metrics = train_adapter(
        model, tokenizer, _examples(tokenizer, 8), _examples(tokenizer, 4, offset=100), settings,
        seed=7, out_dir=tmp_path / "adapter", checkpoint_dir=tmp_path / "checkpoints", callbacks=[OptimizerState()],
    )
    assert metrics["precision"] == "bfloat16"
    # forward and loss of every training step computed in bf16 ...
    assert autocast_in_training and set(autocast_in_training) == {(True, torch.bfloat16)}
    # ... while the master weights (LoRA) and AdamW's moments stay fp32
    assert {p.dtype for p in model.parameters() if p.requires_grad} == {torch.float32}
    assert optimizer_state and set(optimizer_state) == {torch.float32}
    assert {t.dtype for t in _adapter(tmp_path).values()} == {torch.float32}


def test_cpu_bf16_training_runs_eager_attention_and_scores_as_sdpa(base_dir: Path) -> None:
    """bf16 training on a CPU runs eager attention (faster backward than torch's CPU flash
    kernel) and gives the model its own kernel back; fp32 training keeps it. The same function: a
    padded batch scores the same loss with either kernel (here in fp32, where they agree to rounding)."""
    from interplay.training.data import PadCollator
    from interplay.training.finetune import supervised_loss, training_attention

    model, tokenizer = load_base(base_dir)
    examples = _examples(tokenizer, 3)
    batch = PadCollator(tokenizer.pad_token_id)(
        [{"input_ids": e.input_ids, "labels": e.labels} for e in examples]
    )
    assert int((batch["attention_mask"] == 0).sum()) > 0  # rows of unequal length: padding is masked
    with torch.no_grad():
        sdpa, count = supervised_loss(model, batch)
        with training_attention(model, "cpu", bf16=False):
            assert model.config._attn_implementation == "sdpa"
        with training_attention(model, "cpu", bf16=True):
            assert model.config._attn_implementation == "eager"
            eager, eager_count = supervised_loss(model, batch)
        assert model.config._attn_implementation == "sdpa"
    assert eager_count == count
    torch.testing.assert_close(eager, sdpa, rtol=1e-5, atol=1e-5)
