"""One role's fine-tuning stage and generation with its adapter: paths in, files out."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch

from interplay.config.params import FinetuneRole, Params, TrainedRole
from interplay.models import precision as precisions
from interplay.models.adapters import adapter_dir
from interplay.models.base import PROVENANCE_FILE, base_dir_for_role
from interplay.training.data import encode_rows, read_sft_rows, subsample
from interplay.training.finetune import load_base, train_adapter

logger = logging.getLogger(__name__)

BASE_ROOT = Path("models/base")
#: Measurements of the run, not of its result: returned (benchmarks read them) and logged, but
#: left out of ``metrics.json``, a DVC output that must be byte-identical for the same inputs.
WALL_CLOCK_KEYS = ("train_seconds", "supervised_tokens_per_second")


#: The base each adapter trains on: the script writer plays the seeker's side first and takes the
#: user's base, as the untrained writer did.
BASE_OF: dict[TrainedRole, FinetuneRole] = {"user": "user", "recommender": "recommender", "script": "user"}


def sft_path(root: Path, role: TrainedRole, split: str) -> Path:
    return root / "data" / "processed" / "sft" / role / f"{split}.parquet"


def role_base_dir(params: Params, root: Path, role: TrainedRole) -> Path:
    return base_dir_for_role(root / BASE_ROOT, params.model, BASE_OF[role])


def finetune_role(params: Params, root: Path, role: TrainedRole) -> dict[str, Any]:
    """Train ``role``'s adapter into ``models/<role>/adapter/``, metrics into ``models/<role>/metrics.json``."""
    settings = params.finetune.for_role(role)
    base_dir = role_base_dir(params, root, role)
    provenance = json.loads((base_dir / PROVENANCE_FILE).read_text(encoding="utf-8"))
    model, tokenizer = load_base(base_dir, precisions.training_base_dtype(precisions.resolve(settings.precision)))
    train_rows = subsample(read_sft_rows(sft_path(root, role, "train")), settings.max_train_rows, params.seed)
    eval_rows = subsample(
        read_sft_rows(sft_path(root, role, "validation")), settings.max_eval_rows, params.seed
    )
    windows = settings.long_dialogues == "windows"
    train = encode_rows(tokenizer, train_rows, settings.max_tokens, windows)
    validation = encode_rows(tokenizer, eval_rows, settings.max_tokens, windows)
    logger.info("%s: %d training, %d validation examples", role, len(train), len(validation))
    metrics = train_adapter(
        model,
        tokenizer,
        train,
        validation,
        settings,
        seed=params.seed,
        out_dir=adapter_dir(root, role),
        checkpoint_dir=root / params.finetune.checkpoint_dir / role,
        base_sha=provenance["weights_sha256"],
        base_reference=str(base_dir.relative_to(root)) if base_dir.is_relative_to(root) else str(base_dir),
    )
    metrics["base_weights_sha256"] = provenance["weights_sha256"]
    recorded = {key: value for key, value in metrics.items() if key not in WALL_CLOCK_KEYS}
    (root / "models" / role / "metrics.json").write_text(json.dumps(recorded, indent=2) + "\n", "utf-8")
    logger.info(
        "%s: trained in %.1f s (%.1f supervised tokens/s)",
        role, metrics["train_seconds"], metrics["supervised_tokens_per_second"],
    )
    return metrics


def load_with_adapter(
    base_dir: Path, adapter_dir: Path, adapter_name: str = "default", dtype: torch.dtype | None = None
):
    """The base model with a saved adapter on top, in eval mode, and the base's tokenizer; in
    ``dtype``, by default the precision ``auto`` means on this machine."""
    from peft import PeftModel

    dtype = dtype or precisions.dtype_of(precisions.resolve("auto"))
    model, tokenizer = load_base(base_dir, dtype)
    model = PeftModel.from_pretrained(model, str(adapter_dir), adapter_name=adapter_name)
    model.to(dtype=dtype).eval()
    if torch.cuda.is_available():
        model.to("cuda")
    return model, tokenizer


@torch.no_grad()
def generate_replies(
    model: Any,
    tokenizer: Any,
    conversations: list[list[dict[str, str]]],
    max_new_tokens: int = 64,
    seed: int = 0,
    do_sample: bool = False,
    temperature: float = 0.7,
    repetition_penalty: float = 1.2,
    no_repeat_ngram_size: int = 4,
) -> list[str]:
    """The next assistant turn of each conversation, generated in one left-padded batch."""
    from transformers import set_seed

    set_seed(seed)
    prompts = [
        tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations
    ]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    finally:
        tokenizer.padding_side = side
    device = next(model.parameters()).device
    batch = {k: v.to(device) for k, v in batch.items()}
    options: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "do_sample": do_sample,
        "repetition_penalty": repetition_penalty,
        "no_repeat_ngram_size": no_repeat_ngram_size,
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }
    if do_sample:
        options["temperature"] = temperature
    out = model.generate(**batch, **options)
    new = out[:, batch["input_ids"].shape[1]:]
    return [tokenizer.decode(row, skip_special_tokens=True).strip() for row in new]
