"""Loading the players of a simulation: each role's base with its fine-tuned adapter merged in.

Roles that play the same base and adapter share one model. Every loaded model is described by a
short identity (base weight hash + adapter hash) that each dialogue row carries.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from interplay.config.params import Params, TrainedRole
from interplay.dialogue.rows import ROLES, Role
from interplay.models import precision as precisions
from interplay.models.adapters import ADAPTER_FILE, adapter_dir
from interplay.models.base import PROVENANCE_FILE
from interplay.pipeline.hashing import sha256_file
from interplay.simulation.attention import use_grouped_attention
from interplay.simulation.baselines import script_players
from interplay.simulation.engine import RolePlayer, TurnGenerator
from interplay.training.finetune import load_base
from interplay.training.roles import role_base_dir

#: interplay: fine-tuned pair; zero_shot: the base in both roles; reference_dependent: the script
#: writer (the base with the ``script`` adapter) writing both sides knowing the target
#: (:mod:`interplay.simulation.baselines`).
Variant = Literal["interplay", "zero_shot", "reference_dependent"]
#: The adapter each role of a variant plays with (none: the bare base).
ADAPTER_OF: dict[Variant, dict[Role, TrainedRole]] = {
    "interplay": {"user": "user", "recommender": "recommender"},
    "zero_shot": {},
    "reference_dependent": {"user": "script", "recommender": "script"},
}


@dataclass(frozen=True)
class Players:
    players: dict[Role, RolePlayer]
    identities: dict[Role, str]


def base_identity(base_dir: Path) -> str:
    provenance = json.loads((base_dir / PROVENANCE_FILE).read_text(encoding="utf-8"))
    digest = hashlib.sha256(json.dumps(provenance["weights_sha256"], sort_keys=True).encode())
    return f"base:{digest.hexdigest()[:12]}"


def adapter_identity(folder: Path) -> str:
    return f"lora:{sha256_file(folder / ADAPTER_FILE)[:12]}"


def model_identities(params: Params, root: Path, variant: Variant) -> dict[Role, str]:
    """Base weight hash (+ adapter hash) and precision of each role, without loading any model:
    ``base:<sha>+lora:<sha>@bfloat16``. Rows carry it, and a change of precision (another
    machine) starts the shards afresh."""
    precision = inference_precision(params.simulation.precision)
    identities: dict[Role, str] = {}
    for role in ROLES:
        trained = ADAPTER_OF[variant].get(role)
        writer = "script" if variant == "reference_dependent" else role  # one writer plays both sides
        identity = base_identity(role_base_dir(params, root, writer))
        if trained is not None:
            identity += "+" + adapter_identity(adapter_dir(root, trained))
        identities[role] = f"{identity}@{precision}"
    return identities


def inference_precision(precision: precisions.Precision) -> str:
    """What generation runs in: on a GPU bf16 (float16 where bf16 is unsupported) unless float32
    is asked for; on the CPU bf16 where it has native bf16 matmuls (``auto``), else float32."""
    if torch.cuda.is_available() and precision != "float32":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return precisions.resolve(precision)


def place_for_inference(model: Any, precision: precisions.Precision = "auto") -> Any:
    """The model on the GPU if there is one, in :func:`inference_precision`'s dtype: generation
    is bound by memory traffic there and by matmuls on the CPU, and bf16 halves the one and
    speeds up the other several times where the CPU has bf16 instructions. On the CPU it attends
    with :func:`~interplay.simulation.attention.grouped_attention` (measured there; a GPU keeps
    its fused kernels)."""
    dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[
        inference_precision(precision)
    ]
    if torch.cuda.is_available():
        return model.to(device="cuda", dtype=dtype)
    return use_grouped_attention(model.to(device="cpu", dtype=dtype))


def load_players(params: Params, root: Path, variant: Variant) -> Players:
    """The two roles as configured: fine-tuned adapters (``interplay``) or the bare base.

    Each (base, adapter) pair is its own model with the adapter merged into its weights: a
    LoRA layer left apart costs three more small matmuls and their Python overhead at each of
    the 120 adapted projections per decoded token, for the same function; a second copy of a
    135M-parameter base is 270 MB in bf16. Roles playing the same pair share one model.
    """
    settings = params.simulation
    generators: dict[tuple[Path, str | None], TurnGenerator] = {}
    players: dict[Role, RolePlayer] = {}
    for role in ROLES:
        adapter = ADAPTER_OF[variant].get(role)
        base_dir = role_base_dir(params, root, adapter or role)
        if (base_dir, adapter) not in generators:
            model, tokenizer = load_base(base_dir)
            if adapter is not None:
                model = merged(model, adapter_dir(root, adapter))
            model = place_for_inference(model.eval(), settings.precision)
            generators[base_dir, adapter] = TurnGenerator(model, tokenizer, settings.max_context_tokens)
        sampling = settings.user if role == "user" else settings.recommender
        players[role] = RolePlayer(generator=generators[base_dir, adapter], adapter=adapter, sampling=sampling)
    if variant == "reference_dependent":  # one writer, the script adapter, plays both sides
        players = script_players(players, params.preprocess.end_marker, params.preprocess.accept_marker)
    return Players(players, model_identities(params, root, variant))


def merged(model: Any, adapter: Path) -> Any:
    """``model`` with the LoRA adapter saved in ``adapter`` merged into its weights (in fp32)."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
