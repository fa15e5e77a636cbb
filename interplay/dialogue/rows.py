"""The row contract between stages: roles, chat messages, and every Arrow schema with the meaning
of each field.

A fact written twice drifts, so each one is written here once and the rest derive from it: the
files preprocess and simulation write use these schemas (:mod:`interplay.preprocess.artifacts`,
:mod:`interplay.simulation.records`), validation checks the columns these fields declare
(:mod:`interplay.validation.tables`), and the dataset card documents each column with the meaning
given here (:mod:`interplay.publish.card`). A column added to a schema is therefore written,
checked and documented at once, and a column cannot be documented without existing.

Two role vocabularies meet in this project: a dialogue's speakers (``user`` is the seeker,
``recommender`` the other side) and a chat model's (``system`` / ``user`` / ``assistant``).
:func:`role_view` is the one mapping between them: a conversation seen from one speaker's side,
its own turns as ``assistant``, the other's as ``user`` (followed by any grounding note). Training
sets and live simulation both call it, so a model is prompted as it was trained.

Everything here is pure and imports nothing of the project, so any module may use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict

import pyarrow as pa

#: A dialogue's speakers: the seeker (played by the user simulator) and the recommender.
Role = Literal["user", "recommender"]
ROLES: tuple[Role, ...] = ("user", "recommender")
Split = Literal["train", "validation", "test"]
#: The chat role of the speaker a view is written for (the role being trained or generated).
TRAINED_ROLE = "assistant"


class ChatMessage(TypedDict):
    """One message, of a dialogue (``role``: a :data:`Role`) or of a chat model's prompt
    (``role``: ``system`` | ``user`` | ``assistant``)."""

    role: str
    content: str


def with_note(content: str, note: str | None) -> str:
    """A message as a role sees it: its text, then the grounding note (if any) on its own line."""
    return f"{content}\n{note}" if note else content


def role_view(
    messages: Sequence[Mapping[str, str]],
    speaker: Role,
    system: str | None = None,
    notes: Mapping[int, str] | None = None,
) -> list[ChatMessage]:
    """The conversation from ``speaker``'s side: ``system`` first (if given), the speaker's own
    turns as ``assistant``, the other side's as ``user``, each followed by its note (turn -> note;
    a note follows the other side's message only, as the speaker reads it)."""
    notes = notes or {}
    view: list[ChatMessage] = [{"role": "system", "content": system}] if system is not None else []
    for turn, message in enumerate(messages):
        own = message["role"] == speaker
        content = message["content"] if own else with_note(message["content"], notes.get(turn))
        view.append({"role": TRAINED_ROLE if own else "user", "content": content})
    return view


@dataclass(frozen=True)
class Column:
    """One field of a schema: its name, Arrow type and what it means (the card prints this)."""

    name: str
    type: pa.DataType
    meaning: str
    #: Whether a well-formed row may hold null here (validation checks the others are never null).
    nullable: bool = False


def schema_of(columns: Sequence[Column]) -> pa.Schema:
    """The Arrow schema of ``columns``, in their order (no metadata: files stay byte-stable)."""
    return pa.schema([(c.name, c.type) for c in columns])


def struct_of(columns: Sequence[Column]) -> pa.StructType:
    return pa.struct([(c.name, c.type) for c in columns])


def meanings(columns: Sequence[Column]) -> dict[str, str]:
    """Column name -> its meaning, in schema order."""
    return {c.name: c.meaning for c in columns}


# --- nested types --------------------------------------------------------------------------------

MESSAGE_FIELDS = (
    Column("role", pa.string(), "`user` | `recommender` (in training sets: `system` | `user` | `assistant`)"),
    Column("content", pa.string(), "the text, control notes excluded"),
)
MESSAGE = struct_of(MESSAGE_FIELDS)
MENTION_FIELDS = (
    Column("item_id", pa.string(), "catalog id of the item"),
    Column("title", pa.string(), "its catalog title, `Title (Year)`"),
    Column("turn", pa.int32(), "index of the message that names it"),
    Column("role", pa.string(), "who named it: `user` | `recommender`"),
)
MENTION = struct_of(MENTION_FIELDS)
ATTRIBUTE_FIELDS = (
    Column("genres", pa.list_(pa.string()), "genres of the sought item"),
    Column("decade", pa.string(), "its decade, e.g. `1990s`", nullable=True),
    Column("directors", pa.list_(pa.string()), "its directors"),
    Column("actors", pa.list_(pa.string()), "its lead actors"),
)
ATTRIBUTES = struct_of(ATTRIBUTE_FIELDS)
CANDIDATE_FIELDS = (
    Column("turn", pa.int32(), "the seeker message after which the recommender read the note"),
    Column("item_ids", pa.list_(pa.string()), "the retriever's candidates, best first"),
    Column("note", pa.string(), "the note as the recommender read it"),
)
CANDIDATES = struct_of(CANDIDATE_FIELDS)
#: How one role sampled its turns (``simulation.user`` / ``simulation.recommender``).
ROLE_SAMPLING_FIELDS = (
    Column("temperature", pa.float64(), "softmax temperature (0: greedy)"),
    Column("top_p", pa.float64(), "nucleus sampling mass"),
    Column("top_k", pa.int32(), "top-k cut (0: none)"),
    Column("repetition_penalty", pa.float64(), "penalty on tokens already in the reply"),
    Column("no_repeat_ngram_size", pa.int32(), "n-grams never repeated within the reply (0: off)"),
    Column("max_new_tokens", pa.int32(), "longest turn, in tokens"),
)
ROLE_SAMPLING = struct_of(ROLE_SAMPLING_FIELDS)
#: Everything besides the models and the shard's seed that decides what a shard samples.
SAMPLING_FIELDS = (
    Column("shard_size", pa.int32(), "profiles a shard holds (decides which conversations share a shard)"),
    Column("batch_size", pa.int32(), "conversations generated together per role (their random draws interleave)"),
    Column("max_turns", pa.int32(), "messages after which a conversation stops"),
    Column("max_context_tokens", pa.int32(), "prompt tokens kept as a conversation grows"),
    Column("user", ROLE_SAMPLING, "the user simulator's sampling"),
    Column("recommender", ROLE_SAMPLING, "the recommender's sampling"),
)
SAMPLING = struct_of(SAMPLING_FIELDS)

# --- preprocess outputs (data/processed/) --------------------------------------------------------

DIALOGUES_COLUMNS = (
    Column("dialogue_id", pa.string(), "unique id of the real dialogue"),
    Column("source", pa.string(), "the corpus it comes from"),
    Column("split", pa.string(), "`train` | `validation` | `test`, by dialogue"),
    Column("messages", pa.list_(MESSAGE), "the conversation; consecutive messages of one speaker merged"),
    Column("item_mentions", pa.list_(MENTION), "catalog items linked in the text"),
    Column(
        "seeker_accepted", pa.bool_(),
        "whether the seeker accepted a recommendation, by the corpus's labels (ReDial: liked a "
        "suggested movie not seen before; INSPIRED: `accept_*`); null where it records none",
        nullable=True,
    ),
)
DIALOGUES_SCHEMA = schema_of(DIALOGUES_COLUMNS)
PROFILES_COLUMNS = (
    Column("profile_id", pa.string(), "id of the seed profile (one per real dialogue with a target)"),
    Column("dialogue_id", pa.string(), "the real dialogue it was derived from"),
    Column("split", pa.string(), "that dialogue's split"),
    Column("preference_summary", pa.string(), "what the user simulator is told it likes and dislikes"),
    Column("target_attributes", ATTRIBUTES, "attributes of the sought item"),
    Column("target_attributes_text", pa.string(), "the same attributes as the user simulator reads them"),
    Column("target_item_ids", pa.list_(pa.string()), "items the seeker liked (evaluation only, never prompted)"),
    Column("target_titles", pa.list_(pa.string()), "their titles (evaluation only, never prompted)"),
    Column("opening_role", pa.string(), "who opened the real dialogue", nullable=True),
)
PROFILES_SCHEMA = schema_of(PROFILES_COLUMNS)
CATALOG_COLUMNS = (
    Column("item_id", pa.string(), "catalog id"),
    Column("title", pa.string(), "`Title (Year)`, as dialogue text renders it"),
    Column("name", pa.string(), "the title without its year"),
    Column("year", pa.int32(), "release year", nullable=True),
    Column("genres", pa.list_(pa.string()), "genres"),
    Column("directors", pa.list_(pa.string()), "directors"),
    Column("actors", pa.list_(pa.string()), "lead actors"),
    Column("plot", pa.string(), "a short plot", nullable=True),
)
CATALOG_SCHEMA = schema_of(CATALOG_COLUMNS)
SFT_COLUMNS = (
    Column("dialogue_id", pa.string(), "the real dialogue the example was cut from"),
    Column("messages", pa.list_(MESSAGE), "chat format: `system`, then the trained role as `assistant`"),
)
SFT_SCHEMA = schema_of(SFT_COLUMNS)

# --- generated dialogues (simulate, baselines; validated, evaluated, published) -------------------

DIALOGUE_COLUMNS = (
    Column("dialogue_id", pa.string(), "unique id of the generated dialogue"),
    Column(
        "source", pa.string(),
        "what generated the dialogue: `interplay`, the two fine-tuned simulators talking live "
        "(the evaluation's baselines and real dialogues carry their own names here)",
    ),
    Column("split", pa.string(), "split of the seed profile the dialogue was simulated from"),
    Column("messages", pa.list_(MESSAGE), "the conversation: `{role: user | recommender, content}` turns"),
    Column("item_mentions", pa.list_(MENTION), "catalog items linked in the text: `{item_id, title, turn, role}`"),
    Column(
        "candidates", pa.list_(CANDIDATES),
        "what the recommender was offered after each seeker turn (grounding: catalog): "
        "`{turn, item_ids, note}`, the note as the recommender read it; never part of the messages",
    ),
    Column("profile_id", pa.string(), "id of the seed profile (one per real dialogue)"),
    Column("preference_summary", pa.string(), "what the user simulator was told it likes and dislikes"),
    Column("target_attributes", ATTRIBUTES, "attributes of the sought item (genres, decade, directors, actors)"),
    Column("target_attributes_text", pa.string(), "the same attributes as the user simulator read them"),
    Column(
        "target_item_ids", pa.list_(pa.string()),
        "items of the real dialogue the seeker liked (evaluation only, never prompted)",
    ),
    Column("target_titles", pa.list_(pa.string()), "their titles (evaluation only, never prompted)"),
    Column("recommended_item_ids", pa.list_(pa.string()), "items the recommender named, in order of first mention"),
    Column(
        "accepted_item_id", pa.string(),
        "the recommended item the user accepted (its accept marker), if any: the one it named, else "
        "the latest recommendation",
        nullable=True,
    ),
    Column(
        "outcome", pa.string(),
        "`accepted` (the user ended with its accept marker after a recommendation linked to the "
        "catalog) | `gave_up` (it ended otherwise) | `max_turns` | `error` (`termination_reason` says "
        "which: e.g. `leak_guard`, `repeated_turn`)",
    ),
    Column(
        "user_decision", pa.string(),
        "what the user said when it ended the dialogue: `accept` (its accept marker) | `decline` "
        "(its end marker); null where it did not end it",
        nullable=True,
    ),
    Column("termination_reason", pa.string(), "why the conversation ended"),
    Column(
        "leak_guard_rejections", pa.int32(),
        "user turns the leak guard rejected because they named a target the recommender had not "
        "named yet (each one resampled; the last, when resampling failed, ended the dialogue as "
        "`leak_guard`): how often the user simulator tried to give its target away; null where no "
        "guard ran (a reference-dependent script may name its target)",
        nullable=True,
    ),
    Column("num_turns", pa.int32(), "number of messages"),
    Column(
        "seed", pa.int64(),
        "the run's seed (params `seed`): it orders the profiles, which `sampling.shard_size` cuts into shards",
    ),
    Column("shard", pa.int32(), "index of the shard the dialogue was simulated in"),
    Column(
        "shard_seed", pa.int64(),
        "the seed the shard's sampling started from (derived from `seed` and `shard`): with the same "
        "models (`user_model`, `recommender_model`) and `sampling`, the shard replays to the same dialogues",
    ),
    Column(
        "sampling", SAMPLING,
        "the settings that decide what was sampled: `shard_size`, `batch_size` (conversations generated "
        "together), `max_turns`, `max_context_tokens`, and each role's `temperature`, `top_p`, `top_k`, "
        "`repetition_penalty`, `no_repeat_ngram_size`, `max_new_tokens`",
    ),
    Column(
        "user_model", pa.string(),
        "id of the user-simulator model: base weights + adapter hashes, @ the precision it ran in",
    ),
    Column(
        "recommender_model", pa.string(),
        "id of the recommender model: base weights + adapter hashes, @ the precision it ran in",
    ),
    Column("params_hash", pa.string(), "hash of the simulation parameters that made the dialogue"),
)
DIALOGUE_SCHEMA = schema_of(DIALOGUE_COLUMNS)
