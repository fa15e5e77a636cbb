"""ReDial reader and item catalog on the real shared files (both raw variants) and on bad records."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from interplay.corpus.catalog import Catalog, build_catalog, load_catalog
from interplay.corpus.redial import parse_record, read_redial
from interplay.corpus.schema import Dialogue
from interplay.errors import BadRecordError


@pytest.fixture(scope="module")
def catalog(corpora: Path) -> Catalog:
    return load_catalog(corpora / "redial")


@pytest.fixture(scope="module")
def dialogues(corpora: Path, catalog: Catalog) -> dict[str, list[Dialogue | BadRecordError]]:
    return {
        name: list(read_redial(corpora / "redial" / name, catalog))
        for name in ("test_data.jsonl", "train_sample_1000.jsonl")
    }


def _record(**overrides: object) -> dict:
    record = {
        "conversationId": "1",
        "initiatorWorkerId": 1,
        "respondentWorkerId": 2,
        "messages": [
            {"text": "hi, something like @111776 please", "senderWorkerId": 1},
            {"text": "try @151656", "senderWorkerId": 2},
        ],
        "movieMentions": {"111776": "Super Troopers (2001)", "151656": "Police Academy  (1984)"},
        "initiatorQuestions": {
            "111776": {"suggested": 0, "seen": 1, "liked": 1},
            "151656": {"suggested": 1, "seen": 0, "liked": 1},
        },
        "respondentQuestions": [],
    }
    record.update(overrides)
    return record


def test_catalog_merges_metadata_and_mention_names(catalog: Catalog) -> None:
    item = catalog.get("151656")
    assert item is not None and item.title == "Police Academy (1984)"
    assert item.genres == ("comedy",) and item.directors == ("Hugh Wilson",)
    assert len(catalog) > 6900  # ids known only to movies_with_mentions.csv are kept
    built = build_catalog({"1": {"name": "Why Him?", "genre": ["Comedy"]}}, {"1": "Why Him%3F (2016)", "2": "Up  (2009)"})
    assert built.get("1").title == "Why Him? (2016)" and built.get("1").genres == ("comedy",)
    assert built.get("2").title == "Up (2009)"


def test_a_namesakes_record_gives_no_facts(catalog: Catalog) -> None:
    """ReDial's Beauty and the Beast (1992) record is the 2017 remake's: the notes must not say
    Emma Watson stars in it. The 2017 film keeps its facts."""
    old = catalog.get("163708")
    assert old is not None and old.title == "Beauty and the Beast (1992)"
    assert old.actors == () and old.genres == () and old.plot == ""
    remake = next(i for i in catalog.items if i.title == "Beauty and the Beast (2017)")
    assert "Emma Watson" in remake.actors


def test_both_raw_variants_read_without_errors(dialogues: dict[str, list]) -> None:
    assert len(dialogues["test_data.jsonl"]) == 1342
    assert len(dialogues["train_sample_1000.jsonl"]) == 1000
    assert not [r for rs in dialogues.values() for r in rs if isinstance(r, BadRecordError)]


def test_seeker_is_user_and_mentions_are_linked(dialogues: dict[str, list]) -> None:
    first = dialogues["test_data.jsonl"][0]
    assert first.dialogue_id == "redial-20001" and first.source == "redial"
    assert first.messages[0].role == "user" and first.messages[1].role == "recommender"
    assert first.item_mentions[0].item_id == "111776"
    assert first.item_mentions[0].title == "Super Troopers (2001)"
    assert (first.raw_file.endswith("test_data.jsonl"), first.raw_line) == (True, 1)


def test_targets_liked_and_disliked_follow_the_questionnaire(dialogues: dict[str, list]) -> None:
    first = dialogues["test_data.jsonl"][0]
    # suggested == 1 and liked == 1 per the seeker; 101794 is a seeker "liked: 2"
    assert set(first.target_item_ids) == {"151656", "94688"}
    assert set(first.liked_item_ids) == {"111776", "134643", "192131"}
    assert first.disliked_item_ids == ()


@pytest.mark.parametrize(
    ("answer", "accepted"),
    [
        ({"suggested": 1, "seen": 0, "liked": 1}, True),  # liked a suggestion they had not seen
        ({"suggested": 1, "seen": 2, "liked": 1}, True),  # ... or did not say they had
        ({"suggested": 1, "seen": 1, "liked": 1}, False),  # agreed about one already seen: no movie taken
        ({"suggested": 1, "seen": 0, "liked": 0}, False),  # turned it down
    ],
)
def test_the_seekers_decision_comes_from_the_questionnaire(catalog: Catalog, answer: dict, accepted: bool) -> None:
    record = _record(initiatorQuestions={"111776": {"suggested": 0, "seen": 1, "liked": 1}, "151656": answer})
    assert parse_record(record, catalog, "x.jsonl", 1).seeker_accepted is accepted
    no_answers = parse_record(_record(initiatorQuestions=[]), catalog, "x.jsonl", 1)
    assert no_answers.seeker_accepted is None  # no questionnaire: no decision, not a refusal


def test_real_seekers_accept_in_most_but_not_all_dialogues(dialogues: dict[str, list]) -> None:
    read = [d for d in dialogues["train_sample_1000.jsonl"] if isinstance(d, Dialogue)]
    decisions = Counter(d.seeker_accepted for d in read)
    assert 0.5 < decisions[True] / len(read) < 0.8 and decisions[False] > 200


def test_recommender_answers_stand_in_when_the_seekers_are_missing(catalog: Catalog) -> None:
    record = _record(
        initiatorQuestions=[],
        respondentQuestions={"151656": {"suggested": 1, "seen": 0, "liked": 1}},
    )
    dialogue = parse_record(record, catalog, "x.jsonl", 7)
    assert dialogue.target_item_ids == ("151656",)
    assert dialogue.quirks.count("questions_empty_list") == 1


def test_known_quirks_are_recorded_not_rejected(dialogues: dict[str, list]) -> None:
    quirks = Counter(q for rs in dialogues.values() for d in rs for q in set(d.quirks))
    assert quirks["questions_empty_list"] == 49
    assert quirks["null_movie_title"] == 1
    assert quirks["mention_resolved_by_catalog"] == 1


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"messages": None}, "messages", "bad_value"),
        ({"movieMentions": {}, "messages": [{"text": "see @999999999", "senderWorkerId": 1}]},
         "messages[0].text", "unresolved_mention"),
        ({"messages": [{"text": "hi", "senderWorkerId": 99}]}, "messages[0].senderWorkerId", "unknown_sender"),
        ({"messages": [{"senderWorkerId": 1}]}, "messages[0].text", "missing_field"),
    ],
)
def test_bad_records_name_line_field_and_reason(catalog: Catalog, overrides: dict, field: str, reason: str) -> None:
    with pytest.raises(BadRecordError) as info:
        parse_record(_record(**overrides), catalog, "data.jsonl", 12)
    assert (info.value.line, info.value.field, info.value.reason) == (12, field, reason)
    assert str(info.value).startswith("data.jsonl:12:")


def test_missing_top_level_field_and_bad_lines(tmp_path: Path, catalog: Catalog) -> None:
    record = _record()
    del record["initiatorWorkerId"]
    path = tmp_path / "d.jsonl"
    path.write_bytes(
        json.dumps(_record()).encode() + b"\n{not json\n" + json.dumps(record).encode() + b"\n\xff\xfe\n"
    )
    results = list(read_redial(path, catalog))
    assert isinstance(results[0], Dialogue)
    assert [(r.line, r.reason, r.field) for r in results[1:]] == [
        (2, "malformed_json", "(line)"),
        (3, "missing_field", "initiatorWorkerId"),
        (4, "undecodable", "(line)"),
    ]


def test_a_byte_order_mark_is_read_as_the_file_without_it(tmp_path: Path, corpora: Path, catalog: Catalog) -> None:
    lines = (corpora / "redial" / "test_data.jsonl").read_bytes().splitlines(keepends=True)[:3]
    plain, marked = tmp_path / "plain.jsonl", tmp_path / "marked.jsonl"
    plain.write_bytes(b"".join(lines))
    marked.write_bytes(b"\xef\xbb\xbf" + b"".join(lines))  # as Windows editors save UTF-8
    without, with_bom = list(read_redial(plain, catalog)), list(read_redial(marked, catalog))
    assert all(isinstance(d, Dialogue) for d in with_bom) and len(with_bom) == 3
    assert [d.messages for d in with_bom] == [d.messages for d in without]
    assert with_bom[0].quirks == without[0].quirks + ("byte_order_mark",)  # counted in reports/preprocess.json
    assert [d.quirks for d in with_bom[1:]] == [d.quirks for d in without[1:]]


def test_a_worker_id_written_as_a_string_is_the_same_worker(catalog: Catalog) -> None:
    """An export that quotes some ids ("959") but not others (959) names one worker, not two."""
    quoted = parse_record(_record(initiatorWorkerId="1"), catalog, "f.jsonl", 1)
    plain = parse_record(_record(), catalog, "f.jsonl", 1)
    assert [m.role for m in quoted.messages] == [m.role for m in plain.messages] == ["user", "recommender"]
    assert "worker_id_types_differ" in quoted.quirks and "worker_id_types_differ" not in plain.quirks
    with pytest.raises(BadRecordError) as err:  # a sender that is neither, named beside both
        parse_record(_record(initiatorWorkerId="7"), catalog, "f.jsonl", 1)
    assert "sender 1 is neither the initiator ('7') nor the respondent (2)" in str(err.value)
