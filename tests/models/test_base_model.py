"""The base_model stage: a plain HF folder (safetensors + chat template) with its weights' hash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_lm import save_tiny

from interplay.config.params import ModelParams
from interplay.models.base import (
    BaseModelError,
    base_dir_for_role,
    materialize_all,
    materialize_base,
    resolve_source,
    sha256_file,
)


def _assert_plain_hf_folder(folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert (folder / "model.safetensors").is_file()
    assert not list(folder.glob("*.bin")) and not list(folder.glob("*.gguf"))
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert tokenizer.chat_template
    AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True)


def test_local_folder_is_materialized_with_hash(tmp_path: Path) -> None:
    source = save_tiny(tmp_path / "tiny")
    record = materialize_base(str(source), tmp_path / "models" / "base")
    folder = tmp_path / "models" / "base"
    _assert_plain_hf_folder(folder)
    assert record["source"] == "local"
    assert record["weights_sha256"] == {"model.safetensors": sha256_file(folder / "model.safetensors")}
    assert json.loads((folder / "provenance.json").read_text()) == record


def test_a_role_may_name_its_own_base(tmp_path: Path) -> None:
    save_tiny(tmp_path / "tiny")
    save_tiny(tmp_path / "other")
    params = ModelParams(base="tiny", recommender_base="other")
    record = materialize_all(params, tmp_path / "models" / "base", root=tmp_path)
    assert base_dir_for_role(tmp_path / "models" / "base", params, "user") == tmp_path / "models" / "base"
    role_dir = base_dir_for_role(tmp_path / "models" / "base", params, "recommender")
    assert role_dir == tmp_path / "models" / "base" / "roles" / "recommender"
    _assert_plain_hf_folder(role_dir)
    assert set(record["roles"]) == {"recommender"}


def test_unknown_local_path_fails_by_name(tmp_path: Path) -> None:
    with pytest.raises(BaseModelError, match="no such local folder"):
        resolve_source("./missing/model", tmp_path)
    assert resolve_source("HuggingFaceTB/SmolLM2-135M-Instruct").kind == "hub"


@pytest.mark.slow
def test_packaged_default_converts_from_gguf(tmp_path: Path) -> None:
    """The real 98 MB GGUF -> float32 safetensors folder (about 25 s on 2 cores)."""
    record = materialize_base("packaged:smollm2-135m-instruct", tmp_path / "base")
    _assert_plain_hf_folder(tmp_path / "base")
    assert record["architecture"] == "LlamaForCausalLM"
    assert record["num_parameters"] > 100_000_000
