"""``interplay sample --role user|recommender``: print a few generated turns for held-out profiles."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from interplay.config.params import FinetuneRole, Params
from interplay.grounding.notes import Grounder, training_candidate_notes, training_item_notes
from interplay.models.adapters import adapter_dir
from interplay.preprocess.artifacts import read_catalog, read_dialogues
from interplay.training.chat import truncate_messages
from interplay.training.roles import generate_replies, load_with_adapter, role_base_dir
from interplay.training.sampling import format_point, sample_points


def _notes(params: Params, processed: Path, role: FinetuneRole, wanted: set[str]) -> dict[str, dict[int, str]] | None:
    """The notes the role reads under ``simulation.grounding: catalog``, as the simulation makes
    them (the retriever's candidates alone, nothing planted)."""
    if params.simulation.grounding != "catalog":
        return None
    grounder = Grounder.fit(
        read_catalog(processed / "catalog.parquet"),
        read_dialogues(processed / "dialogues.parquet", splits=("train",)),
        params.retriever,
    )
    held_out = [d for d in read_dialogues(processed / "dialogues.parquet") if d.dialogue_id in wanted]
    if role == "user":
        return {d.dialogue_id: training_item_notes(d, grounder) for d in held_out}
    return {d.dialogue_id: training_candidate_notes(d, grounder, plant=False) for d in held_out}


def run(params: Params, root: Path, role: FinetuneRole = "user", num_profiles: int = 3, **kwargs: object) -> None:
    processed = root / "data" / "processed"
    profiles = pq.read_table(processed / "profiles.parquet").to_pylist()
    held_out = [p for p in profiles if p["split"] == "test"] or [
        p for p in profiles if p["split"] == "validation"
    ]
    held_out = sorted(held_out, key=lambda p: str(p["profile_id"]))[:num_profiles]
    wanted = {p["dialogue_id"] for p in held_out}
    table = pq.read_table(processed / "dialogues.parquet", columns=["dialogue_id", "messages"])
    dialogues = {r["dialogue_id"]: r["messages"] for r in table.to_pylist() if r["dialogue_id"] in wanted}
    markers = (params.preprocess.end_marker, params.preprocess.accept_marker)
    points = sample_points(role, held_out, dialogues, *markers, notes=_notes(params, processed, role, wanted))
    model, tokenizer = load_with_adapter(role_base_dir(params, root, role), adapter_dir(root, role))
    settings = params.finetune.for_role(role)
    conversations = [truncate_messages(tokenizer, p.conversation, settings.max_tokens) for p in points]
    replies = generate_replies(model, tokenizer, conversations, max_new_tokens=60, seed=params.seed)
    print(f"# {role} adapter, {len(points)} turns from {len(held_out)} held-out profiles")
    for point, reply in zip(points, replies):
        print(format_point(point, reply, role))
