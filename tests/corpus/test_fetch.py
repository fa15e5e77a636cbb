"""The fetch stage: a local copy or a download, always with a manifest of checksums."""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from interplay.config.params import CorpusParams
from interplay.corpus.fetch import fetch_corpus
from interplay.errors import FetchError

TEST_SHA = "d7781750787d104ac005e829cc7e6277d25b14644a223b0c2445aaaded6b19ac"


def test_local_copy_writes_corpus_catalog_and_manifest(tmp_path: Path, corpora: Path) -> None:
    params = CorpusParams(source="local", local_dir=str(corpora / "redial"))
    manifest = fetch_corpus(params, tmp_path / "raw", base_dir=tmp_path)
    raw = tmp_path / "raw"
    assert (raw / "corpus" / "test_data.jsonl").is_file()
    assert (raw / "catalog" / "id2info.json").is_file() and (raw / "catalog" / "movies_with_mentions.csv").is_file()
    assert manifest["files"]["corpus/test_data.jsonl"]["sha256"] == TEST_SHA
    assert json.loads((raw / "manifest.json").read_text()) == manifest
    # Fetching again gives the same manifest bytes (no timestamps).
    before = (raw / "manifest.json").read_bytes()
    fetch_corpus(params, raw, base_dir=tmp_path)
    assert (raw / "manifest.json").read_bytes() == before


def test_inspired_takes_its_catalog_from_catalog_dir(tmp_path: Path, corpora: Path) -> None:
    params = CorpusParams(name="inspired", local_dir=str(corpora / "inspired"))
    with pytest.raises(FetchError, match="catalog_dir"):
        fetch_corpus(params, tmp_path / "raw", base_dir=tmp_path)
    params = CorpusParams(name="inspired", local_dir=str(corpora / "inspired"), catalog_dir=str(corpora / "redial"))
    manifest = fetch_corpus(params, tmp_path / "raw", base_dir=tmp_path)
    assert set(manifest["files"]) == {"corpus/dev.tsv", "catalog/id2info.json", "catalog/movies_with_mentions.csv"}


def test_missing_local_dir_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="corpus.local_dir"):
        fetch_corpus(CorpusParams(local_dir="nowhere"), tmp_path / "raw", base_dir=tmp_path)


@pytest.fixture()
def served_zip(tmp_path: Path, corpora: Path) -> Iterator[tuple[str, str]]:
    """A zip of a small ReDial corpus on a loopback HTTP server: (url, sha256)."""
    site = tmp_path / "site"
    site.mkdir()
    archive = site / "redial_dataset.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("test_data.jsonl", b"".join((corpora / "redial" / "test_data.jsonl").read_bytes().splitlines(True)[:5]))
        zf.write(corpora / "redial" / "movies_with_mentions.csv", "movies_with_mentions.csv")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(site), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/redial_dataset.zip", hashlib.sha256(archive.read_bytes()).hexdigest()
    finally:
        server.shutdown()
        server.server_close()


def test_url_download_unzips_and_verifies_sha256(tmp_path: Path, served_zip: tuple[str, str], corpora: Path) -> None:
    url, sha = served_zip
    params = CorpusParams(
        source="url", url=url, sha256=sha, local_dir="downloads/redial",
        extra_urls={"id2info.json": (corpora / "redial" / "id2info.json").as_uri()},
    )
    manifest = fetch_corpus(params, tmp_path / "raw", base_dir=tmp_path)
    assert set(manifest["files"]) == {"corpus/test_data.jsonl", "catalog/id2info.json", "catalog/movies_with_mentions.csv"}
    assert len((tmp_path / "raw" / "corpus" / "test_data.jsonl").read_bytes().splitlines()) == 5
    # The download is kept in local_dir (DVC's input of the stage): a rerun needs no network.
    assert (tmp_path / "downloads" / "redial" / "redial_dataset.zip").is_file()
    offline = params.model_copy(update={"url": url.replace("127.0.0.1", "127.0.0.2")})
    assert fetch_corpus(offline, tmp_path / "raw2", base_dir=tmp_path)["files"] == manifest["files"]


def test_sha256_mismatch_fails_clearly(tmp_path: Path, served_zip: tuple[str, str]) -> None:
    url, _ = served_zip
    params = CorpusParams(source="url", url=url, sha256="0" * 64, local_dir="dl")
    with pytest.raises(FetchError, match="checksum mismatch.*expected sha256 0{64}"):
        fetch_corpus(params, tmp_path / "raw", base_dir=tmp_path)


def test_unreachable_url_suggests_a_local_copy(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    params = CorpusParams(source="url", url=f"http://127.0.0.1:{port}/redial_dataset.zip", timeout_s=5, local_dir="dl")
    with pytest.raises(FetchError) as info:
        fetch_corpus(params, tmp_path / "raw", base_dir=tmp_path)
    message = str(info.value)
    assert "corpus.source: local" in message and "corpus.local_dir" in message


def _two_sources(corpora: Path, root: Path) -> Path:
    """A corpus folder like ../shared/corpora: ReDial with its catalog, and more train dialogues beside it."""
    shared = root / "corpora"
    (shared / "redial").mkdir(parents=True)
    (shared / "more").mkdir()
    (shared / "inspired").mkdir()  # not included: never read
    (shared / "inspired" / "dev.tsv").write_text("dialog_id\tspeaker\ttext\n")
    for name in ("movies_with_mentions.csv", "id2info.json"):
        (shared / "redial" / name).write_bytes((corpora / "redial" / name).read_bytes())
    train = (corpora / "redial" / "train_sample_1000.jsonl").read_bytes().splitlines(keepends=True)
    more = (corpora / "redial_more" / "train_more_813.jsonl").read_bytes().splitlines(keepends=True)
    (shared / "redial" / "train_sample_1000.jsonl").write_bytes(b"".join(train[:30]))
    (shared / "redial" / "test_data.jsonl").write_bytes(b"".join((corpora / "redial" / "test_data.jsonl").read_bytes().splitlines(keepends=True)[:10]))
    (shared / "more" / "train_more_813.jsonl").write_bytes(b"".join(more[:20] + train[3:4]))  # line 21: met in both
    return shared


@pytest.mark.parametrize("on_bad_record", ["fail", "skip"])
def test_several_folders_are_one_corpus_and_an_id_met_twice_names_both_places(
    tmp_path: Path, corpora: Path, on_bad_record: str
) -> None:
    from interplay.config.params import Params
    from interplay.errors import BadRecordError
    from interplay.preprocess.pipeline import preprocess_raw

    shared = _two_sources(corpora, tmp_path)
    corpus = CorpusParams(local_dir=str(shared), include=["redial", "more"])
    manifest = fetch_corpus(corpus, tmp_path / "raw", base_dir=tmp_path)
    assert sorted(manifest["files"]) == [
        "catalog/id2info.json", "catalog/movies_with_mentions.csv", "corpus/more/train_more_813.jsonl",
        "corpus/redial/test_data.jsonl", "corpus/redial/train_sample_1000.jsonl",
    ]
    params = Params.model_validate(
        {"corpus": corpus.model_dump(), "preprocess": {"on_bad_record": on_bad_record}, "simulation": {"grounding": "none"}}
    )
    if on_bad_record == "fail":
        with pytest.raises(BadRecordError) as err:
            preprocess_raw(tmp_path / "raw", params)
        message = str(err.value)
        assert message.startswith(f"{shared / 'redial' / 'train_sample_1000.jsonl'}:4: field 'dialogue_id'"), message
        assert f"was already read at {shared / 'more' / 'train_more_813.jsonl'}:21" in message
        return
    report = preprocess_raw(tmp_path / "raw", params).report
    assert report["total"] == {"read": 61, "kept": 60, "skipped": {"duplicate_id": 1}}
    assert {name: info["split"] for name, info in report["files"].items()} == {
        "more/train_more_813.jsonl": "carved", "redial/test_data.jsonl": "test", "redial/train_sample_1000.jsonl": "carved"
    }


def test_an_included_path_that_is_not_there_is_named(tmp_path: Path, corpora: Path) -> None:
    shared = _two_sources(corpora, tmp_path)
    with pytest.raises(FetchError, match=r"corpus.include: .*/corpora/redial_more does not exist; .*\(there: inspired, more, redial\)"):
        fetch_corpus(CorpusParams(local_dir=str(shared), include=["redial", "redial_more"]), tmp_path / "raw", base_dir=tmp_path)
    with pytest.raises(FetchError, match=r"'\.\./elsewhere' is not a file or folder inside corpus.local_dir"):
        fetch_corpus(CorpusParams(local_dir=str(shared), include=["../elsewhere"]), tmp_path / "raw", base_dir=tmp_path)
