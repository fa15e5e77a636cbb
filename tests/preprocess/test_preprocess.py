"""The preprocess stage on the real corpora: accounting, profiles, SFT sets, bad input, determinism."""

from __future__ import annotations

from collections import Counter

import json
from pathlib import Path

import pytest

from interplay.config.params import Params
from interplay.errors import BadRecordError
from interplay.preprocess.artifacts import write_outputs
from interplay.preprocess.pipeline import PreprocessResult, preprocess_corpus
from interplay.text.prompts import RECOMMENDER_SYSTEM_PROMPT
from interplay.text.titles import names_title


@pytest.fixture(scope="module")
def redial(corpora: Path) -> PreprocessResult:
    return preprocess_corpus(corpora / "redial", corpora / "redial", Params())


def _assert_accounts_for_every_record(report: dict) -> None:
    for info in [*report["files"].values(), report["total"]]:
        assert info["kept"] + sum(info["skipped"].values()) == info["read"]
    assert report["total"]["read"] == sum(f["read"] for f in report["files"].values())


def test_all_redial_dialogues_are_read_and_accounted_for(redial: PreprocessResult) -> None:
    report = redial.report
    assert report["total"] == {"read": 2342, "kept": 2342, "skipped": {}}
    _assert_accounts_for_every_record(report)
    assert report["quirks"]["questions_empty_list"] == 49
    assert report["quirks"]["null_movie_title"] == 1
    assert report["quirks"]["empty_message"] == 1
    assert report["dialogues"]["by_split"]["test"] == 1342  # the official test split stays test
    assert report["dialogues"]["by_split"]["train"] + report["dialogues"]["by_split"]["validation"] == 1000
    assert report["profiles"]["total"] == len(redial.profiles)
    assert report["sft"]["user"]["train"] == len(redial.sft["user"]["train"])


def test_dialogues_are_normalized(redial: PreprocessResult) -> None:
    for d in redial.dialogues:
        assert all(a.role != b.role for a, b in zip(d.messages, d.messages[1:]))
        assert all(m.content.strip() and "@" not in m.content.split()[0][:1] for m in d.messages[:1])
        assert all(0 <= m.turn < len(d.messages) for m in d.item_mentions)
    first = redial.dialogues[0]
    assert first.messages[0].content == "Hi I am looking for a movie like Super Troopers (2001)"


def test_one_profile_per_dialogue_with_a_target(redial: PreprocessResult) -> None:
    with_target = {d.dialogue_id for d in redial.dialogues if d.target_item_ids}
    assert {p.dialogue_id for p in redial.profiles} == with_target
    assert len(redial.profiles) == len(with_target) > 2000
    p = next(p for p in redial.profiles if p.dialogue_id == "redial-20001")
    assert p.split == "test" and p.opening_role == "user"
    assert set(p.target_titles) >= {"Police Academy (1984)"}
    assert p.preference_summary.startswith("You love comedies such as Super Troopers (2001)")
    assert p.target_attributes.decade == "1980s" and "comedy" in p.target_attributes.genres
    assert "genres:" not in p.target_attributes_text and p.target_attributes_text.startswith("You ")


def test_no_target_title_in_any_summary_or_attribute_text(redial: PreprocessResult) -> None:
    pre = Params().preprocess
    for p in redial.profiles:
        # The prompt's fixed instructions are left out: "it" in them is not the movie "It".
        both = f"{p.preference_summary} {p.target_attributes_text}"
        for title in p.target_titles:
            for text in (p.preference_summary, p.target_attributes_text, both):
                assert not names_title(text, title, pre.title_match_threshold), (p.profile_id, title)
    assert redial.report["title_removals"]["total"] > 0


def test_sft_sets_train_each_role_on_its_own_turns(redial: PreprocessResult) -> None:
    end, accept = Params().preprocess.end_marker, Params().preprocess.accept_marker
    profiles = {p.dialogue_id: p for p in redial.profiles}
    decided = {d.dialogue_id: d.seeker_accepted for d in redial.dialogues}
    closings = Counter[str]()
    for row in redial.sft["user"]["train"]:
        system, *turns = row.messages
        profile = profiles[row.dialogue_id]
        assert system["role"] == "system" and profile.preference_summary in system["content"]
        # The seeker's last turn carries their decision, from the corpus's labels.
        marker = accept if decided[row.dialogue_id] else end
        assert turns[-1]["role"] == "assistant" and turns[-1]["content"].endswith(f" {marker}")
        assert not any(t["content"].endswith((end, accept)) for t in turns[:-1])
        closings[marker] += 1
    assert closings[accept] > 0 and closings[end] > 0  # both decisions are learned
    for row in redial.sft["recommender"]["validation"]:
        assert row.messages[0] == {"role": "system", "content": RECOMMENDER_SYSTEM_PROMPT}
        assert row.messages[-1]["role"] == "assistant"
        assert not any(end in m["content"] or accept in m["content"] for m in row.messages)
    test_ids = {d.dialogue_id for d in redial.dialogues if d.split == "test"}
    sft_ids = {r.dialogue_id for role in redial.sft.values() for rows in role.values() for r in rows}
    assert not sft_ids & test_ids


def test_script_writer_learns_both_sides_told_the_target(redial: PreprocessResult) -> None:
    """The trained reference-dependent baseline: each profiled train dialogue, from each side, under
    instructions naming its first target title; only the seeker's side ends with the marker."""
    markers = (Params().preprocess.end_marker, Params().preprocess.accept_marker)
    profiles = {p.dialogue_id: p for p in redial.profiles}
    rows = redial.sft["script"]["train"]
    assert len(rows) > len(redial.sft["user"]["train"])  # both sides of (nearly) each dialogue
    sides = {"user": 0, "recommender": 0}
    for row in rows:
        system, *turns = row.messages
        profile = profiles[row.dialogue_id]
        assert profile.target_titles[0] in system["content"]
        side = "user" if system["content"].startswith("You are a person") else "recommender"
        sides[side] += 1
        assert turns[-1]["role"] == "assistant"
        assert turns[-1]["content"].endswith(markers) == (side == "user")
    assert sides["user"] > 0 and sides["recommender"] > 0


def test_inspired_dev_preprocesses_into_all_three_splits(corpora: Path) -> None:
    params = Params.model_validate({"corpus": {"name": "inspired"}})
    result = preprocess_corpus(corpora / "inspired", corpora / "redial", params)
    report = result.report
    assert report["total"]["read"] == 99 and report["total"]["kept"] == 99
    assert all(report["dialogues"]["by_split"][s] > 0 for s in ("train", "validation", "test"))
    assert 0 < report["profiles"]["total"] <= 85
    assert report["sft"]["user"]["train"] > 0


def test_max_dialogues_per_file_limits_deterministically(corpora: Path) -> None:
    params = Params.model_validate({"preprocess": {"max_dialogues_per_file": 20}})
    a = preprocess_corpus(corpora / "redial", corpora / "redial", params)
    assert a.report["total"]["kept"] == 40
    assert a.report["total"]["skipped"] == {"max_dialogues_per_file": 2302}
    _assert_accounts_for_every_record(a.report)
    b = preprocess_corpus(corpora / "redial", corpora / "redial", params)
    assert [d.dialogue_id for d in a.dialogues] == [d.dialogue_id for d in b.dialogues]


def _corrupt(line: bytes, kind: str) -> bytes:
    record = json.loads(line)
    if kind == "malformed_json":
        return line[: len(line) // 2]
    if kind == "missing_field":
        del record["messages"]
    elif kind == "unresolved_mention":
        record["messages"][0]["text"] += " and @999999999"
    elif kind == "empty_dialogue":
        for message in record["messages"]:
            message["text"] = "  "
    elif kind == "undecodable":
        return line.replace(b'"text": "', b'"text": "\xff\xfe', 1)
    return json.dumps(record).encode()


@pytest.mark.parametrize(
    "kind", ["malformed_json", "missing_field", "unresolved_mention", "empty_dialogue", "undecodable"]
)
def test_bad_input_fails_with_file_and_line_or_is_counted(tmp_path: Path, corpora: Path, kind: str) -> None:
    lines = (corpora / "redial" / "test_data.jsonl").read_bytes().splitlines()[:30]
    lines[6] = _corrupt(lines[6], kind)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    # A training file: a corpus of test dialogues alone is refused before any record is judged.
    (corpus / "train_data.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    catalog = corpora / "redial"

    with pytest.raises(BadRecordError) as info:
        preprocess_corpus(corpus, catalog, Params())
    assert "train_data.jsonl:7:" in str(info.value)
    assert info.value.reason == kind

    params = Params.model_validate({"preprocess": {"on_bad_record": "skip"}})
    report = preprocess_corpus(corpus, catalog, params).report
    assert report["total"] == {"read": 30, "kept": 29, "skipped": {kind: 1}}
    assert report["files"]["train_data.jsonl"]["skipped"] == {kind: 1}


def test_same_inputs_give_the_same_bytes(tmp_path: Path, corpora: Path, redial: PreprocessResult) -> None:
    again = preprocess_corpus(corpora / "redial", corpora / "redial", Params())
    for name, result in (("a", redial), ("b", again)):
        write_outputs(result, tmp_path / name / "processed", tmp_path / name / "preprocess.json")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 10  # + sft/script/{train,validation}
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
