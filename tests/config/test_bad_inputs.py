"""Inputs that used to crash with a traceback or pass in silence (issue 15, section 3).

Each gets a one-line error naming the file (and line, key or column) and a non-zero exit, or is
handled as the issue describes: INSPIRED's other TSV files are ignored and said to be, a file
named as a split keeps that split, and bad records name the user's file, not the workspace copy.
"""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pytest

from interplay import cli
from interplay.config.params import CorpusParams, Params, ParamsError, load_params
from interplay.corpus.catalog import Catalog, load_catalog
from interplay.corpus.fetch import fetch_corpus
from interplay.errors import BadRecordError
from interplay.preprocess.pipeline import preprocess_corpus, preprocess_raw, read_dialogues
from interplay.preprocess.splits import named_split, plan_splits

GIT = ["git", "-c", "user.name=Interplay Test", "-c", "user.email=test@example.invalid"]


@pytest.fixture(scope="module")
def catalog(corpora: Path) -> Catalog:
    return load_catalog(corpora / "redial")


def _params_file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "params.yaml"
    path.write_bytes(data)
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(ParamsError) as err:
        load_params(path)
    message = str(err.value)
    assert "\n" not in message, message
    assert message.startswith(str(path)), message
    return message


# --- params.yaml ------------------------------------------------------------------------------


def test_a_params_file_that_is_not_utf8_names_its_line_and_column(tmp_path: Path) -> None:
    path = _params_file(tmp_path, "seed: 13\ncorpus:\n  name: rédial\n".encode("latin-1"))
    assert _refusal(path) == f"{path}:3:10: not UTF-8 (byte 0xe9); save the file as UTF-8"


def test_a_folder_given_as_params_is_refused(tmp_path: Path) -> None:
    assert "is a folder, not a params file" in _refusal(tmp_path)


@pytest.mark.parametrize("text", ["", "# all settings commented out\n#seed: 13\n\n", "{}\n", "---\n"])
def test_an_empty_or_comment_only_params_file_is_refused(tmp_path: Path, text: str) -> None:
    assert "holds no parameters" in _refusal(_params_file(tmp_path, text.encode()))


def test_a_key_given_twice_is_refused_naming_key_and_lines(tmp_path: Path) -> None:
    text = "seed: 13\npreprocess:\n  on_bad_record: skip\n  max_actors: 2\n  on_bad_record: fail\n"
    path = _params_file(tmp_path, text.encode())
    assert _refusal(path) == (
        f"{path}:5: key 'preprocess.on_bad_record' is given twice (lines 3 and 5); keep one"
    )
    top = _params_file(tmp_path, b"seed: 13\nseed: 14\n")
    assert "key 'seed' is given twice (lines 1 and 2)" in _refusal(top)


def test_a_merge_key_override_is_not_a_duplicate(tmp_path: Path) -> None:
    text = (
        "simulation:\n  user: &sampling {temperature: 0.5, top_k: 20}\n"
        "  recommender:\n    <<: *sampling\n    top_k: 30\n"
    )
    params = load_params(_params_file(tmp_path, text.encode()))
    assert (params.simulation.recommender.temperature, params.simulation.recommender.top_k) == (0.5, 30)


def test_a_yaml_syntax_error_is_one_line_with_line_and_column(tmp_path: Path) -> None:
    path = _params_file(tmp_path, b"seed: 13\npreprocess:\n  splits: {validation: 0.1\n  max_actors: 2\n")
    message = _refusal(path)
    assert message.startswith(f"{path}:4:13: not valid YAML: "), message
    assert "expected ',' or '}'" in message


def test_the_cli_prints_one_line_and_exits_2_for_each_bad_params_file(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    bad = {
        "latin": "name: rédial\n".encode("latin-1"),
        "empty": b"# nothing\n",
        "twice": b"seed: 1\nseed: 2\n",
        "syntax": b"seed: [1,\n",
    }
    for name, data in bad.items():
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(data)
    folder = tmp_path / "profiles"
    folder.mkdir()
    for path in [*(tmp_path / f"{name}.yaml" for name in bad), folder]:
        assert cli.main(["--params", str(path), "fetch"]) == 2
        err = capfd.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert err.startswith(f"interplay fetch: error: {path}"), err


# --- release --tag of a version that exists ----------------------------------------------------


def test_a_second_release_tag_is_refused_in_one_line_before_prefect_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "params.yaml").write_text("seed: 13\npublish:\n  version: v0.1.0\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    subprocess.run(GIT + ["add", "params.yaml"], cwd=tmp_path, check=True)
    subprocess.run(GIT + ["commit", "-qm", "release"], cwd=tmp_path, check=True)
    subprocess.run(GIT + ["tag", "-a", "v0.1.0", "-m", "v0.1.0"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)

    assert cli.main(["release", "--tag"]) == 2
    captured = capfd.readouterr()
    assert captured.err == (
        "interplay release: error: git tag v0.1.0 exists already: set publish.version to a new version\n"
    )
    assert "Traceback" not in captured.out

    from flows import release as release_flow  # `make run` goes through this entry point

    with pytest.raises(SystemExit) as exit_info:
        release_flow.main(["--tag"])
    assert exit_info.value.code == 1
    assert capfd.readouterr().err == (
        "release failed: git tag v0.1.0 exists already: set publish.version to a new version\n"
    )


# --- INSPIRED: only the dialogue files are read -------------------------------------------------


def _inspired_rows(corpora: Path, dialogues: int) -> list[bytes]:
    lines = (corpora / "inspired" / "dev.tsv").read_bytes().split(b"\n")
    ids: list[bytes] = []
    rows = [lines[0]]
    for line in lines[1:]:
        dialog_id = line.split(b"\t", 1)[0]
        if dialog_id not in ids:
            if len(ids) == dialogues:
                break
            ids.append(dialog_id)
        rows.append(line)
    return rows


@pytest.mark.parametrize("on_bad_record", ["fail", "skip"])
def test_inspired_reads_its_dialogue_files_and_says_which_it_ignored(
    tmp_path: Path, corpora: Path, catalog: Catalog, caplog: pytest.LogCaptureFixture, on_bad_record: str
) -> None:
    rows = _inspired_rows(corpora, 3)
    (tmp_path / "dialog_data").mkdir()
    (tmp_path / "dialog_data" / "dev.tsv").write_bytes(b"\n".join(rows) + b"\n")
    # The authors' release beside the dialogues: the movie database and a survey table keyed by dialog_id.
    (tmp_path / "movie_database.tsv").write_text(
        "title\tyear\tgenre\tdirector\tactors\tvideo_id\nThe Matrix\t1999\tAction\tThe Wachowskis\tKeanu Reeves\tabc\n",
        encoding="utf-8",
    )
    (tmp_path / "survey.tsv").write_text(
        "dialog_id\trec_survey_id\tcoarse_label\n20191129-044536_702_live.pkl\tfirst_batch_429\treject_new\n",
        encoding="utf-8",
    )
    params = Params.model_validate({"corpus": {"name": "inspired"}, "preprocess": {"on_bad_record": on_bad_record}})
    with caplog.at_level(logging.INFO, logger="interplay.preprocess.pipeline"):
        dialogues, report = read_dialogues(tmp_path, catalog, params)
    assert len(dialogues) == 3 and list(report["files"]) == ["dialog_data/dev.tsv"]
    assert report["total"] == {"read": 3, "kept": 3, "skipped": {}}
    assert report["ignored_files"] == {
        "movie_database.tsv": "not a dialogue file: its header has no dialog_id, speaker, text column",
        "survey.tsv": "not a dialogue file: its header has no speaker, text column",
    }
    logged = caplog.text
    assert "movie_database.tsv: ignored, not a dialogue file" in logged
    assert "reading dialog_data/dev.tsv (carved)" in logged


def test_an_inspired_file_named_as_a_split_is_read_even_with_a_broken_header(
    tmp_path: Path, corpora: Path, catalog: Catalog
) -> None:
    rows = _inspired_rows(corpora, 1)
    rows[0] = rows[0].replace(b"speaker", b"who", 1)
    (tmp_path / "train.tsv").write_bytes(b"\n".join(rows) + b"\n")
    params = Params.model_validate({"corpus": {"name": "inspired"}, "preprocess": {"on_bad_record": "skip"}})
    with pytest.raises(BadRecordError, match=r"train\.tsv:1: field 'speaker'"):
        read_dialogues(tmp_path, catalog, params)


# --- a file named as a split keeps that split --------------------------------------------------


def test_split_words_in_file_names() -> None:
    cases = {
        "test_data.jsonl": "test",
        "valid_data.jsonl": "validation",
        "dev.tsv": "validation",
        "train_data.jsonl": "train",
        "train_sample_1000.jsonl": "train",
        "redial_dialogues.jsonl": None,
        "latest.jsonl": None,  # a word, not a substring
        "train_test.jsonl": None,  # two splits: none
    }
    assert {name: named_split(name) for name in cases} == cases


def _redial_lines(corpora: Path, name: str, start: int, count: int) -> bytes:
    lines = (corpora / "redial" / name).read_bytes().splitlines(keepends=True)
    return b"".join(lines[start : start + count])


def test_redial_valid_data_stays_validation_and_never_feeds_fine_tuning(tmp_path: Path, corpora: Path) -> None:
    (tmp_path / "train_data.jsonl").write_bytes(_redial_lines(corpora, "train_sample_1000.jsonl", 0, 40))
    (tmp_path / "valid_data.jsonl").write_bytes(_redial_lines(corpora, "train_sample_1000.jsonl", 40, 15))
    (tmp_path / "test_data.jsonl").write_bytes(_redial_lines(corpora, "test_data.jsonl", 0, 10))
    params = Params.model_validate({"simulation": {"grounding": "none"}})
    result = preprocess_corpus(tmp_path, corpora / "redial", params)
    by_file: dict[str, set[str]] = {}
    for dialogue in result.dialogues:
        by_file.setdefault(Path(dialogue.raw_file).name, set()).add(dialogue.split or "")
    assert by_file == {"train_data.jsonl": {"train"}, "valid_data.jsonl": {"validation"}, "test_data.jsonl": {"test"}}
    assert {f: info["split"] for f, info in result.report["files"].items()} == {
        "test_data.jsonl": "test", "train_data.jsonl": "train", "valid_data.jsonl": "validation"
    }
    valid_ids = {d.dialogue_id for d in result.dialogues if Path(d.raw_file).name == "valid_data.jsonl"}
    trained = {row.dialogue_id for role in result.sft.values() for row in role["train"]}
    assert trained and not trained & valid_ids


def test_splits_no_file_is_named_for_are_carved_and_a_corpus_with_nothing_to_train_on_is_refused() -> None:
    default = plan_splits(["test_data.jsonl", "train_sample_1000.jsonl"])  # the shipped corpus: as before
    assert (default.carve_validation, default.carve_test) == (True, False)
    assert default.describe("train_sample_1000.jsonl") == "carved"
    lone_dev = plan_splits(["dev.tsv"])  # INSPIRED's dev split alone is all the data there is
    assert lone_dev.kept == {"dev.tsv": None} and lone_dev.carve_validation and lone_dev.carve_test
    with pytest.raises(FileNotFoundError, match=r"no file to train on: valid_data\.jsonl \(validation\), test_data"):
        plan_splits(["valid_data.jsonl", "test_data.jsonl"])
    for test_only in (["test_data.jsonl"], ["test.tsv"], ["dev.tsv", "test.tsv"]):  # nothing left to fine-tune on
        with pytest.raises(FileNotFoundError, match=r"no file to train on: .*add a training file"):
            plan_splits(test_only)


def test_a_corpus_of_test_dialogues_alone_is_refused_before_anything_is_trained(tmp_path: Path, corpora: Path) -> None:
    (tmp_path / "test_data.jsonl").write_bytes(_redial_lines(corpora, "test_data.jsonl", 0, 10))
    params = Params.model_validate({"simulation": {"grounding": "none"}})
    with pytest.raises(FileNotFoundError) as err:
        preprocess_corpus(tmp_path, corpora / "redial", params)
    assert str(err.value) == (
        "no file to train on: test_data.jsonl (test) keeps the split its name says; add a training file "
        "(e.g. train_data.jsonl) or rename one that is not a validation or test split"
    )


def test_training_files_whose_records_are_all_skipped_are_refused(tmp_path: Path, corpora: Path) -> None:
    (tmp_path / "train_data.jsonl").write_bytes(b"{not json\n[1, 2]\n")
    (tmp_path / "test_data.jsonl").write_bytes(_redial_lines(corpora, "test_data.jsonl", 0, 10))
    params = Params.model_validate({"simulation": {"grounding": "none"}, "preprocess": {"on_bad_record": "skip"}})
    with pytest.raises(FileNotFoundError, match=r"no train dialogues to fine-tune on: test_data\.jsonl \(10 of 10 kept, test\), "
                       r"train_data\.jsonl \(0 of 2 kept, carved\); add a training file"):
        preprocess_corpus(tmp_path, corpora / "redial", params)


# --- bad-record messages --------------------------------------------------------------------------


def test_a_truncated_record_says_so_and_names_the_users_file(tmp_path: Path, corpora: Path) -> None:
    user = tmp_path / "my corpus"
    user.mkdir()
    lines = (corpora / "redial" / "test_data.jsonl").read_bytes().splitlines(keepends=True)[:8]
    cut = lines[6].index(b'"text": "') + len(b'"text": "') + 3
    lines[6] = lines[6][:cut] + b"\n"  # cut inside a string, as a partial download leaves a line
    (user / "train_data.jsonl").write_bytes(b"".join(lines))  # a corpus with something to train on
    for name in ("movies_with_mentions.csv", "id2info.json"):
        (user / name).write_bytes((corpora / "redial" / name).read_bytes())
    corpus = CorpusParams(local_dir=str(user))
    fetch_corpus(corpus, tmp_path / "raw", base_dir=tmp_path)
    params = Params(corpus=corpus)
    with pytest.raises(BadRecordError) as err:
        preprocess_raw(tmp_path / "raw", params)
    message = str(err.value)
    expected = f"{user / 'train_data.jsonl'}:7: field '(line)': invalid JSON: Unterminated string starting at column"
    assert message.startswith(expected), message
    assert "at at" not in message and "control character" not in message
    assert "truncated?" in message and "raw/corpus" not in message
    assert json.loads(lines[0])  # the other lines are intact records
