"""``interplay sample --role user|recommender``: print a few generated turns for held-out profiles."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from interplay.models.adapters import adapter_dir
from interplay.params import FinetuneRole, Params
from interplay.training.chat import truncate_messages
from interplay.training.roles import generate_replies, load_with_adapter, role_base_dir
from interplay.training.sampling import format_point, sample_points


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
    points = sample_points(role, held_out, dialogues, params.preprocess.end_marker)
    model, tokenizer = load_with_adapter(role_base_dir(params, root, role), adapter_dir(root, role))
    settings = params.finetune.for_role(role)
    conversations = [truncate_messages(tokenizer, p.conversation, settings.max_tokens) for p in points]
    replies = generate_replies(model, tokenizer, conversations, max_new_tokens=60, seed=params.seed)
    print(f"# {role} adapter, {len(points)} turns from {len(held_out)} held-out profiles")
    for point, reply in zip(points, replies):
        print(format_point(point, reply, role))
