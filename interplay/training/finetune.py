"""LoRA fine-tuning of one role with the transformers Trainer.

The Trainer brings checkpoints and resume, seeding and length-grouped batches.
Two things are ours: the loss projects hidden states onto the 49k-token vocabulary only where a
label is supervised (most positions of a user-simulator example are its profile prompt, so this
saves much of the step), and validation loss is averaged over tokens, not batches, so that its
exponential is the perplexity.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from interplay.config.params import FinetuneSettings
from interplay.models import precision as precisions
from interplay.training.chat import IGNORE_INDEX, Encoded
from interplay.training.data import PadCollator, sorted_batches, to_dataset
from interplay.training.memory import TRIM_EVERY_STEPS, trim_heap

logger = logging.getLogger(__name__)

FINGERPRINT_FILE = "fingerprint.json"
BEFORE_FILE = "validation_before.json"


def causal_model(model: Any) -> Any:
    """The causal LM under a peft wrapper (its LoRA layers are in place), or the model itself: its
    decoder and output embeddings, which the loss and the attention switch reach past the wrapper."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def supervised_loss(
    model: torch.nn.Module, batch: dict[str, torch.Tensor], tokens: torch.Tensor | int | None = None
) -> tuple[torch.Tensor, int]:
    """Next-token loss over supervised positions, projecting only those onto the vocabulary: the
    summed loss divided by ``tokens`` (by default the batch's own supervised count, a mean), and
    that count."""
    causal = causal_model(model)
    hidden = causal.get_decoder()(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
    ).last_hidden_state
    targets = batch["labels"][:, 1:]
    keep = targets != IGNORE_INDEX
    logits = causal.get_output_embeddings()(hidden[:, :-1][keep]).float()
    count = int(keep.sum())
    loss = F.cross_entropy(logits, targets[keep], reduction="sum") / (max(count, 1) if tokens is None else tokens)
    return loss, count


#: Attention kernel of bf16 fine-tuning on a CPU. torch's CPU flash-attention kernel, which "sdpa"
#: picks, is slow backward: at the user role's 640 tokens it took 0.85 s of a 2.3 s micro-batch,
#: and "eager" (matmul, softmax in fp32, matmul) trains 1.25x (user, 1 x 640) to 1.4x (recommender,
#: 2 x 384, padded) faster in bf16, for ~0.5-0.8 GB more activations (the attention weights kept for
#: backward). In fp32 it gains little (0.98x and 1.09x) for more memory, and GPUs have fused kernels
#: that are fast and save that memory: both keep their default.
CPU_BF16_TRAINING_ATTENTION = "eager"


@contextlib.contextmanager
def training_attention(model: torch.nn.Module, device: torch.device | str, bf16: bool) -> Iterator[None]:
    """Within the block, ``model`` (a peft model or a plain one) runs the attention kernel that
    trains fastest (:data:`CPU_BF16_TRAINING_ATTENTION` in bf16 on a CPU); after it, its own again.
    The same function, another kernel: validation loss is measured outside the block, with the
    kernel the adapter is loaded with later, so a reloaded adapter scores the loss recorded."""
    causal = causal_model(model)
    own = causal.config._attn_implementation
    switch = bf16 and torch.device(device).type == "cpu"
    if switch:
        causal.set_attn_implementation(CPU_BF16_TRAINING_ATTENTION)
    try:
        yield
    finally:
        if switch:
            causal.set_attn_implementation(own)


def bf16_autocast(device: torch.device | str, enabled: bool) -> torch.autocast:
    """Forward and loss in bf16 where ``enabled`` (mixed precision: the parameters keep their
    dtype, autocast casts matmul inputs; backward runs outside, as torch AMP prescribes)."""
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=enabled)


@torch.no_grad()
def evaluate_loss(
    model: torch.nn.Module,
    examples: list[Encoded],
    pad_token_id: int,
    batch_size: int,
    bf16: bool = False,
) -> dict[str, float]:
    """Token-averaged validation loss and its perplexity."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    collate = PadCollator(pad_token_id)
    total = 0.0
    tokens = 0
    lengths = [e.length for e in examples]
    for batch_ids in sorted_batches(lengths, batch_size):
        batch = collate([{"input_ids": examples[i].input_ids, "labels": examples[i].labels} for i in batch_ids])
        batch = {k: v.to(device) for k, v in batch.items()}
        with bf16_autocast(device, bf16):
            loss, count = supervised_loss(model, batch)
        total += float(loss) * count
        tokens += count
    model.train(was_training)
    mean = total / max(tokens, 1)
    return {"loss": mean, "perplexity": math.exp(mean), "tokens": tokens}


@dataclass
class Throughput:
    """Supervised tokens seen by the trainer, shared with the progress bar."""

    tokens: int = 0
    started: float = field(default_factory=time.perf_counter)

    def per_second(self) -> float:
        return self.tokens / max(time.perf_counter() - self.started, 1e-9)


def _trainer_classes():
    """Trainer subclass and progress callback, defined lazily so importing this module is cheap."""
    from tqdm.auto import tqdm
    from transformers import Trainer, TrainerCallback

    class SupervisedTrainer(Trainer):
        """Trainer whose loss is :func:`supervised_loss`, weighed by supervised tokens across the
        accumulated batch: with ``gradient_accumulation_steps > 1`` each micro-batch's token sum is
        divided by the supervised tokens of all its micro-batches (``num_items_in_batch``), so a
        step's loss is the token mean over the whole batch, as without accumulation, and not a
        mean of micro-batch means (which would weigh a token of a short batch more)."""

        loss_is_scaled_for_ga = True

        def __init__(self, *args: Any, throughput: Throughput, bf16: bool = False, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.throughput = throughput
            # The Trainer's own bf16 autocast wraps ``model.forward``, which supervised_loss never
            # calls (it runs the decoder and the projection itself): autocast is entered here.
            self.bf16 = bf16
            # The Trainer counts ``num_items_in_batch`` (labels[..., 1:] != -100, the positions
            # supervised_loss scores) only for models said to take loss kwargs: ours does.
            self.model_accepts_loss_kwargs = True

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            training = model.training
            with bf16_autocast(inputs["input_ids"].device, self.bf16):
                loss, count = supervised_loss(model, inputs, num_items_in_batch if training else None)
            if training:
                self.throughput.tokens += count
                if num_items_in_batch is None:  # not counted: a mean of micro-batch means
                    loss = loss / self.current_gradient_accumulation_steps
                elif self.args.average_tokens_across_devices and self.accelerator.num_processes > 1:
                    loss = loss * self.accelerator.num_processes  # the count was summed over the processes
            return (loss, None) if return_outputs else loss

    class ProgressBar(TrainerCallback):
        """One bar: step, last loss, supervised tokens per second."""

        def __init__(self, throughput: Throughput, desc: str) -> None:
            self.throughput = throughput
            self.desc = desc
            self.bar = None
            self.loss = float("nan")

        def on_train_begin(self, args, state, control, **kwargs):
            self.throughput.tokens = 0
            self.throughput.started = time.perf_counter()
            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=self.desc, unit="step")

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.loss = float(logs["loss"])

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.update(state.global_step - self.bar.n)
                loss = "-" if math.isnan(self.loss) else f"{self.loss:.3f}"
                self.bar.set_postfix(loss=loss, tok_s=f"{self.throughput.per_second():.0f}")

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()

    class TrimHeap(TrainerCallback):
        """Free heap pages back to the system before training (what loading the model and the
        first evaluation left) and every few steps after (:mod:`interplay.training.memory`)."""

        def on_train_begin(self, args, state, control, **kwargs):
            trim_heap()

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step % TRIM_EVERY_STEPS == 0:
                trim_heap()

    return SupervisedTrainer, ProgressBar, TrimHeap


def fingerprint(settings: FinetuneSettings, seed: int, base_sha: Any, train: list[Encoded]) -> str:
    """What a checkpoint was made from; a checkpoint of anything else is not resumed."""
    digest = hashlib.sha256()
    digest.update(json.dumps([settings.model_dump(), seed, base_sha], sort_keys=True).encode())
    for example in train:
        digest.update(json.dumps([example.input_ids, example.labels]).encode())
    return digest.hexdigest()


def _read_json(path: Path) -> Any:
    """A JSON file's content, or None where it is missing or was cut by a kill while written."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _prepare_checkpoints(checkpoint_dir: Path, key: str) -> str | None:
    """Keep the directory when it holds checkpoints of this exact run; return the last whole one.

    A kill may come while a file here is being written: an unreadable marker counts as another
    run's, and a checkpoint whose trainer state (which the Trainer writes last) does not read
    back is half-written and removed, so that a resumed run never loads it."""
    from transformers.trainer_utils import get_last_checkpoint

    marker = checkpoint_dir / FINGERPRINT_FILE
    if checkpoint_dir.exists():
        stored = _read_json(marker)
        if not isinstance(stored, dict) or stored.get("fingerprint") != key:
            logger.info("checkpoints in %s are of another run; starting over", checkpoint_dir)
            shutil.rmtree(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    for checkpoint in checkpoint_dir.glob("checkpoint-*"):
        if checkpoint.is_dir() and _read_json(checkpoint / "trainer_state.json") is None:
            logger.info("removing %s: a killed run left it half-written", checkpoint)
            shutil.rmtree(checkpoint)
    marker.write_text(json.dumps({"fingerprint": key}) + "\n")
    return get_last_checkpoint(str(checkpoint_dir))


def load_base(base_dir: Path, dtype: torch.dtype = torch.float32):
    """Model and tokenizer from a materialized base folder (safetensors only), weights in ``dtype``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(
        base_dir, dtype=dtype, use_safetensors=True, trust_remote_code=False
    )
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def train_adapter(
    model: torch.nn.Module,
    tokenizer: Any,
    train: list[Encoded],
    validation: list[Encoded],
    settings: FinetuneSettings,
    seed: int,
    out_dir: Path,
    checkpoint_dir: Path,
    base_sha: Any = None,
    base_reference: str | None = None,
    callbacks: list[Any] | None = None,
) -> dict[str, Any]:
    """Train a LoRA adapter, save it to ``out_dir`` and return the metrics.

    A previous run killed with the same inputs resumes from its last checkpoint. In bf16 training
    is mixed precision: forward and loss run under bf16 autocast (:func:`bf16_autocast`), the LoRA
    weights and so their AdamW state stay in fp32. The caller loads the frozen base in
    :func:`interplay.models.precision.training_base_dtype` (:func:`load_base` with that dtype).
    """
    from peft import LoraConfig, get_peft_model
    from transformers import PrinterCallback, TrainingArguments, set_seed

    if not train:
        raise ValueError("no training examples with trained-role tokens")
    resolved = precisions.resolve(settings.precision)
    bf16 = resolved == "bfloat16"
    key = fingerprint(settings, seed, base_sha, train)
    resume = _prepare_checkpoints(checkpoint_dir, key)

    set_seed(seed)
    lora = LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=list(settings.lora_target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, lora, autocast_adapter_dtype=True)
    for parameter in peft_model.parameters():
        if parameter.requires_grad:  # LoRA weights (and so their optimizer state) in fp32
            parameter.data = parameter.data.float()
    if torch.cuda.is_available():
        peft_model.to("cuda")
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    pad_id = tokenizer.pad_token_id

    before_file = checkpoint_dir / BEFORE_FILE
    before = _read_json(before_file)
    if not isinstance(before, dict) or "loss" not in before:  # missing, or cut by a kill
        logger.info("validation loss before training (%d examples)", len(validation))
        before = evaluate_loss(peft_model, validation, pad_id, settings.eval_batch_size, bf16)
        before_file.write_text(json.dumps(before) + "\n")
    logger.info("validation loss before: %.4f", before["loss"])

    args = TrainingArguments(
        output_dir=str(checkpoint_dir),
        seed=seed,
        data_seed=seed,
        learning_rate=settings.learning_rate,
        weight_decay=settings.weight_decay,
        warmup_steps=settings.warmup_steps,
        lr_scheduler_type=settings.lr_scheduler,
        max_steps=settings.max_steps or -1,
        num_train_epochs=settings.epochs,
        per_device_train_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.gradient_accumulation_steps,
        train_sampling_strategy="group_by_length",
        length_column_name="length",
        remove_unused_columns=False,
        save_strategy="steps",
        save_steps=settings.save_steps,
        save_total_limit=2,
        logging_steps=1,
        report_to="none",
        disable_tqdm=True,
        bf16=bf16,
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
    )
    trainer_cls, progress_cls, trim_cls = _trainer_classes()
    throughput = Throughput()
    trainer = trainer_cls(
        model=peft_model,
        args=args,
        train_dataset=to_dataset(train),
        data_collator=PadCollator(pad_id),
        throughput=throughput,
        bf16=bf16,
        callbacks=[progress_cls(throughput, desc=f"finetune {out_dir.parent.name}"), trim_cls(), *(callbacks or [])],
    )
    trainer.remove_callback(PrinterCallback)
    if resume:
        logger.info("resuming from %s", resume)
    started = time.perf_counter()
    with training_attention(peft_model, next(peft_model.parameters()).device, bf16):
        result = trainer.train(resume_from_checkpoint=resume)
    train_seconds = time.perf_counter() - started
    supervised_per_s = throughput.tokens / train_seconds if throughput.tokens else 0.0

    after = evaluate_loss(peft_model, validation, pad_id, settings.eval_batch_size, bf16)
    logger.info("validation loss after: %.4f (before %.4f)", after["loss"], before["loss"])

    out_dir.mkdir(parents=True, exist_ok=True)
    if base_reference is not None:  # no absolute path in the adapter: its bytes (and DVC hash)
        # must not depend on where the checkout lives. peft writes the config's field and, in
        # the README.md card it generates, the base model's and its config's ``name_or_path``.
        peft_model.peft_config["default"].base_model_name_or_path = base_reference
        base = peft_model.get_base_model()
        base.name_or_path = base.config.name_or_path = base_reference
    config = peft_model.peft_config["default"]
    if isinstance(config.target_modules, set):  # peft holds a set, which it writes in this
        config.target_modules = sorted(config.target_modules)  # process's hash order: sort it
    peft_model.save_pretrained(str(out_dir), safe_serialization=True)
    # A finished run leaves no checkpoint behind: a later run (new code, say) must train, not
    # "resume" at its last step and save the old adapter again.
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    metrics = {
        "validation_loss_before": before["loss"],
        "validation_loss_after": after["loss"],
        "perplexity_before": before["perplexity"],
        "perplexity_after": after["perplexity"],
        "validation_examples": len(validation),
        "validation_tokens": after["tokens"],
        "train_examples": len(train),
        "train_steps": int(result.global_step),
        "resumed_from_step": int(Path(resume).name.split("-")[-1]) if resume else 0,
        "train_seconds": round(train_seconds, 2),
        "train_loss": float(result.training_loss),
        "supervised_tokens_per_second": round(supervised_per_s, 1),
        "trainable_parameters": trainable,
        "precision": resolved,
        "seed": seed,
    }
    return metrics
