"""Stage publish: the release folder, its card, and the push to a (loopback) Hub.

Publishing runs in this process against the loopback Hub of ``tests/loopback_hub.py`` (the Hub
client's import-time constants are pointed at it with monkeypatch); consumers (``datasets``,
``DatasetCard``) and the token-hygiene run use fresh processes configured only by environment
variables, as a user's would be.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from dialogue_fixtures import write_dialogues
from hub_fixtures import FAKE_TOKEN, LoopbackHub, loopback_hub  # noqa: F401  (fixture)

from interplay.config.params import Params, ParamsError, load_params
from interplay.models.adapters import ADAPTER_FILE, adapter_dir
from interplay.publish import PublishError
from interplay.publish.folder import build_release, dvc_lock_digest
from interplay.publish.hub import push_release

REPO = Path(__file__).resolve().parents[2]


# -- synthetic inputs --------------------------------------------------------------------------


def make_params(**publish: Any) -> Params:
    return Params.model_validate({"publish": {"backoff_s": 0.01, **publish}})


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def release_rows(folder: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((folder / "data").glob("*.parquet")):
        out.setdefault(path.name.split("-")[0], []).extend(pq.read_table(path).to_pylist())
    return as_json(out)


# -- the release folder ------------------------------------------------------------------------


def test_release_folder_is_deterministic_and_loads(tmp_path: Path) -> None:
    root = tmp_path / "project"
    rows = write_dialogues(root, {"test": 5, "train": 3})
    params = make_params()
    first = build_release(params, root)
    snapshot = folder_bytes(first.path)
    second = build_release(params, root)
    assert folder_bytes(second.path) == snapshot, "same inputs must give the same bytes"
    from tasks.publish import run

    run(params, root)  # publish.target: local writes the folder only
    assert folder_bytes(root / "release") == snapshot
    assert first.files == (
        "README.md",
        "data/test-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet",
    )
    assert [(s.name, s.num_rows) for s in first.splits] == [("train", 3), ("test", 5)]

    import datasets

    loaded = datasets.load_dataset(str(first.path), cache_dir=str(tmp_path / "cache"))
    assert sorted(loaded) == ["test", "train"]
    for split in ("train", "test"):
        want = sorted((r for r in rows if r["split"] == split), key=lambda r: r["dialogue_id"])
        assert as_json(loaded[split].to_list()) == as_json(want)

    card = (first.path / "README.md").read_text()
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["license"] == "cc-by-4.0"
    assert meta["size_categories"] == ["n<1K"]
    assert meta["configs"][0]["data_files"] == [
        {"split": "train", "path": "data/train-*.parquet"},
        {"split": "test", "path": "data/test-*.parquet"},
    ]
    needed_sections = ("## Example dialogues", "## Evaluation", "## Validation", "## Provenance", "## Limitations")
    for needed in (*needed_sections, "li2018redial"):
        assert needed in card
    assert "not available" in card  # no reports, adapters or dvc.lock in this project


def test_card_includes_the_optional_inputs_that_exist(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_dialogues(root, {"test": 4})
    (root / "reports").mkdir()
    (root / "reports" / "evaluation.md").write_text(
        "# Evaluation\n\n## Metrics\n\n| system | success_rate |\n| --- | --- |\n| interplay | 0.42 |\n\n"
        "![recall](figures/recall.png)\n"
    )
    validation = {
        "success": True,
        "gated": ["interplay"],
        "datasets": {"interplay": {"num_dialogues": 4, "expectations": 9, "critical_failed": 0}},
        "critical_failures": [],
        "warnings": [{"dataset": "interplay", "description": "distinct-2 of each role", "observed_value": 0.1}],
    }
    (root / "reports" / "validation.json").write_text(json.dumps(validation))
    for role in ("user", "recommender"):
        adapter_dir(root, role).mkdir(parents=True)
        (adapter_dir(root, role) / ADAPTER_FILE).write_bytes(role.encode())
    (root / "models" / "base").mkdir()
    (root / "models" / "base" / "provenance.json").write_text(json.dumps({"spec": "packaged:smollm2"}))
    lock = {"schema": "2.0", "stages": {"simulate": {"cmd": "interplay simulate"}}}
    (root / "dvc.lock").write_text(yaml.safe_dump(lock))

    folder = build_release(make_params(repo_id="acme/dialogues", version="v1.2.3", splits=["test"]), root)
    card = (folder.path / "README.md").read_text()
    assert "### Metrics" in card and "| interplay | 0.42 |" in card  # headings nested under ours
    assert "figures/recall.png" not in card
    assert "**passed**" in card and "| `interplay` | 4 |" in card
    assert "- `interplay`: distinct-2 of each role; observed 0.1" in card
    import hashlib

    assert hashlib.sha256(b"user").hexdigest() in card
    assert "packaged:smollm2" in card
    assert 'load_dataset("acme/dialogues", revision="v1.2.3")' in card
    digest = dvc_lock_digest(root / "dvc.lock")
    assert digest and digest in card

    # dvc.lock's own publish entry does not count: DVC rewrites it after each publish.
    lock["stages"]["publish"] = {"cmd": "interplay publish", "outs": [{"path": "release", "md5": "x"}]}
    (root / "dvc.lock").write_text(yaml.safe_dump(lock))
    assert dvc_lock_digest(root / "dvc.lock") == digest


def test_card_shows_three_interplay_examples_and_still_parses(tmp_path: Path) -> None:
    import random

    from huggingface_hub import DatasetCard

    root = tmp_path / "project"
    rows = write_dialogues(root, {"test": 5, "train": 3})
    hostile = "---\nlicense: mit\n---\n# Not a heading | <script>alert(1)</script>\n```\n| a | b |"
    path = root / "data" / "simulated" / "dialogues.parquet"
    for row in rows:
        if row["dialogue_id"] == "test-000":
            row["messages"][0]["content"] = hostile
    pq.write_table(pa.Table.from_pylist(rows), path)
    (root / "reports").mkdir()
    (root / "reports" / "evaluation.md").write_text(
        "# Evaluation\n\n| System | N |\n| --- | ---: |\n| Interplay (ours) | 8 |\n\n## Figures\n\n"
        "## Example dialogues\n\nUp to 3 dialogues per generated system.\n\n### Zero-shot\n\n"
        "#### `zs-1` (`max_turns`)\n\n- **User:** report-only example\n"
    )

    folder = build_release(make_params(), root)
    card = (folder.path / "README.md").read_text()
    assert card.count("## Example dialogues") == 1
    assert "report-only example" not in card and "| Interplay (ours) | 8 |" in card  # the report's own left out
    assert "The report's example dialogues of each system are in `reports/evaluation.md`" in card
    section = card.split("## Example dialogues", 1)[1].split("\n## ", 1)[0]
    assert "random.Random(13)" in section
    heads = [line for line in section.splitlines() if line.startswith("### ")]
    rest = ["test-002", "test-003", "test-004", "train-000", "train-001", "train-002"]
    third = random.Random(13).sample(rest, 1)[0]
    assert [h.split("`")[1] for h in heads] == ["test-000", "test-001", third]
    assert heads[:2] == ["### `test-000` (`accepted`)", "### `test-001` (`gave_up`)"]
    assert "**Profile summary:** You love slapstick comedies such as Beerfest (2006)." in section
    assert "**Target titles:** Super Troopers (2001)" in section
    assert "the user accepted **Super Troopers (2001)** (`1`)" in section
    assert "- **Recommender:** Have you seen **Super Troopers (2001)**?" in section
    assert "<script>" not in card and "\\`\\`\\`" in section
    assert not any(line.startswith(("---", "license:", "# Not")) for line in section.splitlines())

    loaded = DatasetCard.load(folder.path / "README.md")
    assert loaded.data.license == "cc-by-4.0"
    assert loaded.data.configs[0]["data_files"][0] == {"split": "train", "path": "data/train-*.parquet"}
    assert "## Example dialogues" in loaded.text and "### `test-001` (`gave_up`)" in loaded.text


def test_missing_or_unpublishable_inputs_are_clear(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="run the simulate stage"):
        build_release(make_params(), tmp_path)
    write_dialogues(tmp_path, {"test": 2})
    with pytest.raises(PublishError, match=r"publish.splits asks for \['train'\]"):
        build_release(make_params(splits=["train", "test"]), tmp_path)


def test_hub_target_needs_a_repo_id(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("publish:\n  target: hub\n")
    with pytest.raises(ParamsError, match="publish.repo_id is required"):
        load_params(path)


# -- the Hub ---------------------------------------------------------------------------------


@pytest.fixture
def hub_client(loopback_hub: LoopbackHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> LoopbackHub:
    """This process's Hub client pointed at the loopback Hub, online, with the fake token."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_ENDPOINT", loopback_hub.url)
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", loopback_hub.url)  # as if HF_ENDPOINT was set at import
    template = loopback_hub.url + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp_path / "agent_harnesses.json"))
    return loopback_hub


CONSUMER = """
import json, sys
from datasets import load_dataset
from huggingface_hub import DatasetCard
repo_id, revision, cache = sys.argv[1:4]
dataset = load_dataset(repo_id, revision=revision, cache_dir=cache)
card = DatasetCard.load(repo_id, repo_type="dataset")
print(json.dumps({"rows": {s: dataset[s].to_list() for s in dataset}, "card": card.data.to_dict(),
                  "text": card.text}, default=str))
"""


def consume(hub: LoopbackHub, tmp_path: Path, repo_id: str, revision: str) -> dict[str, Any]:
    env = hub.client_env(tmp_path / "consumer_hf_home")
    proc = subprocess.run(
        [sys.executable, "-c", CONSUMER, repo_id, revision, str(tmp_path / "consumer_cache")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_publish_load_and_idempotence(hub_client: LoopbackHub, tmp_path: Path) -> None:
    from tasks.publish import run

    repo_id = "interplay-tests/dialogues"
    root = tmp_path / "project"
    write_dialogues(root, {"train": 3, "test": 4})
    params = make_params(target="hub", repo_id=repo_id, version="v0.1.0")
    run(params, root)

    state = hub_client.repo_state(repo_id)
    tagged = state["tags"]["v0.1.0"]
    assert tagged == state["branches"]["main"]
    commits = len(state["commits"])  # the repo's initial commit + the release

    published = release_rows(root / "release")
    consumed = consume(hub_client, tmp_path, repo_id, "v0.1.0")
    assert as_json(consumed["rows"]) == published
    assert consumed["card"]["license"] == "cc-by-4.0"
    assert consumed["card"]["pretty_name"] == params.publish.pretty_name
    assert consumed["card"]["configs"][0]["data_files"][0] == {"split": "train", "path": "data/train-*.parquet"}
    assert f'load_dataset("{repo_id}", revision="v0.1.0")' in consumed["text"]
    assert "## Example dialogues" in consumed["text"] and "### `test-000` (`accepted`)" in consumed["text"]

    # The same version with the same content: no new commit, nothing changes.
    again = build_release(params, root)
    result = push_release(again.path, repo_id, "v0.1.0", retries=1)
    assert (result.action, result.commit) == ("unchanged", tagged)
    assert hub_client.repo_state(repo_id) == state

    # The same data built from another commit (only the card's build provenance differs): the
    # version stays as published.
    (root / "dvc.lock").write_text("schema: '2.0'\nstages:\n  simulate:\n    cmd: interplay simulate\n")
    rebuilt = build_release(params, root)
    assert str(dvc_lock_digest(root / "dvc.lock")) in (rebuilt.path / "README.md").read_text()
    assert push_release(rebuilt.path, repo_id, "v0.1.0", retries=1).action == "unchanged"
    assert hub_client.repo_state(repo_id) == state

    # Another content under the same version: refused, naming the version and what to do.
    write_dialogues(root, {"train": 3, "test": 4}, variant=" (changed)")
    with pytest.raises(PublishError, match=r"v0\.1\.0 .*already published with different content") as err:
        run(params, root)
    assert "publish.version" in str(err.value) and "data/test-00000-of-00001.parquet (changed)" in str(err.value)
    assert hub_client.repo_state(repo_id) == state

    # A new version: one commit, files the release no longer has are deleted, the old tag stays.
    write_dialogues(root, {"test": 4}, variant=" (changed)")
    bumped = make_params(target="hub", repo_id=repo_id, version="v0.2.0")
    folder = build_release(bumped, root)
    result = push_release(folder.path, repo_id, "v0.2.0", retries=1)
    state = hub_client.repo_state(repo_id)
    assert result.action == "committed" and len(state["commits"]) == commits + 1
    head_tree = state["commits"][state["branches"]["main"]]["tree"]
    assert sorted(head_tree) == [".gitattributes", "README.md", "data/test-00000-of-00001.parquet"]
    assert state["tags"] == {"v0.1.0": tagged, "v0.2.0": result.commit}


def test_transient_errors_are_retried_then_explained(hub_client: LoopbackHub, tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_dialogues(root, {"test": 2})
    folder = build_release(make_params(), root)
    waits: list[float] = []
    hub_client.fail_next(2, status=503)
    result = push_release(
        folder.path, "interplay-tests/retried", "v0.1.0", retries=4, backoff_s=0.5, sleep=waits.append
    )
    assert result.action == "committed" and waits == [0.5, 1.0]

    hub_client.fail_next(3, status=502)
    try:
        with pytest.raises(PublishError) as err:
            push_release(folder.path, "interplay-tests/down", "v0.1.0", retries=3, backoff_s=0, sleep=waits.append)
    finally:
        hub_client.fail_next(0)
    message = str(err.value)
    assert "failed after 3 attempts" in message and "HTTP 502" in message
    assert "run the publish stage again" in message


def test_offline_mode_refuses_to_push(hub_client: LoopbackHub, tmp_path: Path, monkeypatch) -> None:
    from huggingface_hub import constants

    write_dialogues(tmp_path, {"test": 1})
    folder = build_release(make_params(), tmp_path)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(PublishError, match="HF_HUB_OFFLINE=0"):
        push_release(folder.path, "interplay-tests/offline", "v0.1.0")


PUBLISHER = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
from interplay.config.params import load_params
from interplay.publish import PublishError
from tasks.publish import run
try:
    run(load_params(sys.argv[1]), Path(sys.argv[2]))
except PublishError as exc:
    print(f"interplay publish: error: {exc}", file=sys.stderr)
    sys.exit(2)
"""


def test_token_never_appears_in_logs_or_files(loopback_hub: LoopbackHub, tmp_path: Path) -> None:
    """A whole publish in a fresh process, debug logging on: the fake token is sent (the hub
    accepts nothing else) but is in no output and no file."""
    root = tmp_path / "project"
    write_dialogues(root, {"test": 3})
    params_file = tmp_path / "params.yaml"
    params_file.write_text(
        "publish:\n  target: hub\n  repo_id: interplay-tests/hygiene\n  version: v0.1.0\n  backoff_s: 0.01\n"
    )
    hf_home = tmp_path / "hf_home"
    env = loopback_hub.client_env(hf_home)

    def publish(extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", PUBLISHER, str(params_file), str(root)],
            cwd=REPO,
            env={**env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    runs = [publish(), publish()]  # published, then "nothing to do"
    assert [p.returncode for p in runs] == [0, 0], runs[0].stderr[-3000:]
    assert "nothing to do" in runs[1].stderr
    write_dialogues(root, {"test": 3}, variant="!")
    refused = publish()
    assert refused.returncode == 2 and "already published with different content" in refused.stderr
    wrong_token = "hf_WRONGfakeTOKEN9876543210zyxwvu"
    rejected = publish({"HF_TOKEN": wrong_token})
    assert rejected.returncode == 2 and "refused the credentials" in rejected.stderr
    assert wrong_token not in rejected.stdout + rejected.stderr
    assert "Hub access is off" in publish({"HF_HUB_OFFLINE": "1"}).stderr

    for proc in runs + [refused, rejected]:
        assert FAKE_TOKEN not in proc.stdout + proc.stderr
    scanned = 0
    for base in (root, hf_home, loopback_hub.root, loopback_hub.log.parent):
        for path in base.rglob("*"):
            if path.is_file():
                scanned += 1
                assert FAKE_TOKEN.encode() not in path.read_bytes(), path
    assert scanned > 5


def test_publish_logs_without_the_token(hub_client: LoopbackHub, tmp_path: Path, caplog) -> None:
    write_dialogues(tmp_path, {"test": 2})
    folder = build_release(make_params(), tmp_path)
    with caplog.at_level(logging.DEBUG):
        push_release(folder.path, "interplay-tests/logged", "v0.1.0", retries=1)
    assert "tagged" in caplog.text and FAKE_TOKEN not in caplog.text


def test_a_failed_push_leaves_the_release_folder_as_it_was(hub_client: LoopbackHub, tmp_path: Path) -> None:
    """The folder bound for the Hub is built aside and replaces ``release/`` only once pushed: a
    card that loads from the Hub repository never stands in ``release/`` for a version not there."""
    from tasks.publish import STAGING_DIR, run

    root = tmp_path / "project"
    write_dialogues(root, {"test": 2})
    run(make_params(), root)  # publish.target: local
    before = folder_bytes(root / "release")
    params = make_params(target="hub", repo_id="interplay-tests/failed", version="v0.1.0", retries=2)
    hub_client.fail_next(2, status=503)
    with pytest.raises(PublishError, match="failed after 2 attempts"):
        run(params, root)
    assert folder_bytes(root / "release") == before
    assert sorted(p.name for p in root.iterdir()) == ["data", "release"], "nothing left aside"

    run(params, root)  # the Hub answers again: pushed, then release/ holds what was pushed
    card = (root / "release" / "README.md").read_text()
    assert 'load_dataset("interplay-tests/failed", revision="v0.1.0")' in card
    assert not (root / STAGING_DIR).exists()


class _SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never answers: a Hub behind a stuck proxy."""

    def __init__(self) -> None:
        import socket
        import threading

        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return  # closed
            self.held.append(connection)  # read nothing, write nothing, keep it open

    def close(self) -> None:
        self.socket.close()
        for connection in self.held:
            connection.close()


def test_a_hub_that_never_answers_fails_after_the_retries_instead_of_hanging(
    hub_client: LoopbackHub, tmp_path: Path
) -> None:
    import threading
    import time

    write_dialogues(tmp_path, {"test": 1})
    folder = build_release(make_params(), tmp_path)
    server = _SilentServer()
    outcome: dict[str, Any] = {}
    waits: list[float] = []

    def publish() -> None:
        try:
            push_release(folder.path, "interplay-tests/silent", "v0.1.0", retries=2, backoff_s=0.2,
                         timeout_s=0.5, endpoint=server.url, sleep=waits.append)
        except PublishError as exc:
            outcome["error"] = str(exc)

    started = time.monotonic()
    worker = threading.Thread(target=publish, daemon=True)
    worker.start()
    worker.join(timeout=60)
    server.close()
    assert not worker.is_alive(), "publishing to a silent server hung"
    assert time.monotonic() - started < 30 and waits == [0.2]  # two attempts, one backoff between
    message = outcome["error"]
    assert message.startswith("publishing v0.1.0 to interplay-tests/silent at http://127.0.0.1:")
    assert "failed after 2 attempts while creating the repository" in message and "Timeout" in message
    assert "publish.timeout_s" in message and FAKE_TOKEN not in message


def test_a_staging_folder_a_killed_publish_left_is_never_published(hub_client: LoopbackHub, tmp_path: Path) -> None:
    """A kill during a push leaves ``.release.staging`` (and the build's aside folders); the next
    run builds the folder afresh over them, so nothing of the old one reaches the Hub."""
    from tasks.publish import STAGING_DIR, run

    root = tmp_path / "project"
    write_dialogues(root, {"test": 2})
    for leftover in (STAGING_DIR, Path(f".{STAGING_DIR}.tmp"), Path(f".{STAGING_DIR}.old")):
        (root / leftover / "data").mkdir(parents=True)
        (root / leftover / "data" / "stale-00000-of-00001.parquet").write_bytes(b"from a killed run")
        (root / leftover / "README.md").write_text("a card of another run\n")
    run(make_params(), root)  # publish.target: local cleans the staging folder up
    assert not (root / STAGING_DIR).exists()
    for leftover in (STAGING_DIR, Path(f".{STAGING_DIR}.tmp"), Path(f".{STAGING_DIR}.old")):
        (root / leftover / "data").mkdir(parents=True, exist_ok=True)
        (root / leftover / "data" / "stale-00000-of-00001.parquet").write_bytes(b"from a killed run")
        (root / leftover / "README.md").write_text("a card of another run\n")
    params = make_params(target="hub", repo_id="interplay-tests/restaged", version="v0.1.0")
    run(params, root)
    state = hub_client.repo_state("interplay-tests/restaged")
    tree = state["commits"][state["tags"]["v0.1.0"]]["tree"]
    assert sorted(tree) == [".gitattributes", "README.md", "data/test-00000-of-00001.parquet"]
    assert sorted(p.name for p in root.iterdir()) == ["data", "release"], "nothing left aside"
