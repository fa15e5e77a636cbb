"""Pushes a release folder to a Hub through ``huggingface_hub.HfApi`` and tags its version.

- Endpoint: ``HF_ENDPOINT`` (read when :func:`push_release` is called), else the public Hub.
- Token: only what ``huggingface_hub`` finds itself — ``HF_TOKEN`` or the user's login. It is never
  logged, written, or put in an error message (messages from the client are scrubbed of it).
- Idempotent: the local files are compared (git blob id, or sha256 for LFS/xet files) with the
  tree at the version's tag. Same files: nothing to do — also when only the card's build
  provenance differs (the same data rebuilt from a later commit: the published card keeps the
  commit that made it). Other files: refused — a version is immutable. No tag yet: one commit
  with every file (and the deletion of files the release no longer has) on ``main``, skipped when
  ``main`` already holds exactly these files, then the tag.
- Transient failures (connection errors, timeouts, 408/425/429/5xx) retry the whole push with
  exponential backoff; as every step is idempotent, a retry completes a partial push and never
  duplicates a commit.
- Every request has connect and read timeouts (``timeout_s``): ``huggingface_hub``'s own client
  waits forever (``timeout=None``), so a server that accepts a connection and never answers
  would hang the stage; it now fails the attempt, which is retried like any transient failure.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx2
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants, get_token, set_client_factory
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from huggingface_hub.hf_api import RepoFile

from interplay.publish.card import comparable_card
from interplay.publish.errors import PublishError
from interplay.text.redaction import redact, redact_url

log = logging.getLogger(__name__)

REPO_TYPE = "dataset"
BRANCH = "main"
README = "README.md"
#: Files the Hub manages itself; ignored on the Hub side when comparing contents.
HUB_MANAGED = frozenset({".gitattributes"})
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 60.0


@dataclass(frozen=True)
class LocalFile:
    size: int
    sha256: str
    git_oid: str  # what the Hub reports as a regular (non-LFS) file's blob id


@dataclass(frozen=True)
class PushResult:
    """What a push did: ``committed`` (a new commit, then the tag), ``tagged`` (``main`` already
    held these files: tag only) or ``unchanged`` (the version was already published as is)."""

    repo_id: str
    version: str
    commit: str
    action: Literal["committed", "tagged", "unchanged"]
    url: str


class _Replan(Exception):
    """The Hub changed under us (a concurrent tag or commit): look again before acting."""


def local_manifest(folder: Path) -> dict[str, LocalFile]:
    """Every file of the folder, by its path relative to it (POSIX), with the hashes the Hub uses."""
    manifest = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        size = path.stat().st_size
        sha256, git_oid = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % size)
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha256.update(block)
                git_oid.update(block)
        manifest[path.relative_to(folder).as_posix()] = LocalFile(size, sha256.hexdigest(), git_oid.hexdigest())
    return manifest


def differences(local: dict[str, LocalFile], remote: dict[str, RepoFile]) -> list[str]:
    """How the Hub's files differ from the local ones; empty when the contents are the same."""
    out = []
    for path in sorted(set(local) | set(remote)):
        if path not in local:
            if path not in HUB_MANAGED:
                out.append(f"{path} (only on the Hub)")
        elif path not in remote:
            out.append(f"{path} (not on the Hub)")
        else:
            entry, mine = remote[path], local[path]
            same = entry.lfs.sha256 == mine.sha256 if entry.lfs is not None else entry.blob_id == mine.git_oid
            if not same:
                out.append(f"{path} (changed)")
    return out


class _Pusher:
    def __init__(self, api: HfApi, folder: Path, repo_id: str, version: str, private: bool) -> None:
        self.api = api
        self.folder = folder
        self.repo_id = repo_id
        self.version = version
        self.private = private
        self.step = "starting"
        self.local = local_manifest(folder)
        if README not in self.local:
            raise PublishError(f"{folder} has no README.md: build the release folder first")

    def remote_files(self, revision: str) -> dict[str, RepoFile]:
        entries = self.api.list_repo_tree(self.repo_id, revision=revision, recursive=True, repo_type=REPO_TYPE)
        return {e.path: e for e in entries if isinstance(e, RepoFile)}

    def same_card(self, revision: str) -> bool:
        """Whether the Hub's card at ``revision`` says what ours says, build provenance aside."""
        with tempfile.TemporaryDirectory() as tmp:
            path = self.api.hf_hub_download(
                self.repo_id, README, repo_type=REPO_TYPE, revision=revision, local_dir=tmp
            )
            remote = Path(path).read_text(encoding="utf-8")
        local = (self.folder / README).read_text(encoding="utf-8")
        return comparable_card(remote) == comparable_card(local)

    def push(self) -> PushResult:
        api, repo_id, version = self.api, self.repo_id, self.version
        url = f"{redact_url(api.endpoint)}/datasets/{repo_id}/tree/{version}"

        self.step = "creating the repository"
        api.create_repo(repo_id, repo_type=REPO_TYPE, private=self.private, exist_ok=True)

        self.step = "reading the repository's refs"
        refs = api.list_repo_refs(repo_id, repo_type=REPO_TYPE)
        tags = {ref.name: ref.target_commit for ref in refs.tags}
        branches = {ref.name: ref.target_commit for ref in refs.branches}

        if version in tags:
            self.step = f"reading the files of {version}"
            diff = differences(self.local, self.remote_files(tags[version]))
            if diff == [f"{README} (changed)"] and self.same_card(tags[version]):
                diff = []  # the same data and card, built from another commit
            if diff:
                shown = "; ".join(diff[:8]) + (f"; and {len(diff) - 8} more" if len(diff) > 8 else "")
                raise PublishError(
                    f"version {version} of {repo_id} is already published with different content "
                    f"({shown}). A published version never changes: set publish.version to a new "
                    f"version (e.g. the next one after {version}) in params.yaml and publish again."
                )
            log.info("%s of %s is already published with this content: nothing to do", version, repo_id)
            return PushResult(repo_id, version, tags[version], "unchanged", url)

        head = branches.get(BRANCH)
        self.step = f"reading the files of {BRANCH}"
        remote = self.remote_files(head) if head else {}
        if head and not differences(self.local, remote):
            commit, action = head, "tagged"
            log.info("%s of %s already holds this release (%s): tagging it", BRANCH, repo_id, head)
        else:
            operations: list[CommitOperationAdd | CommitOperationDelete] = [
                CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(self.folder / path)) for path in self.local
            ]
            stale = sorted(p for p in remote if p not in self.local and p not in HUB_MANAGED)
            operations += [CommitOperationDelete(path_in_repo=p) for p in stale]
            self.step = "uploading the release (one commit)"
            try:
                info = api.create_commit(
                    repo_id,
                    operations,
                    commit_message=f"Interplay release {version}",
                    commit_description=f"{len(self.local)} files; {len(stale)} stale files removed.",
                    repo_type=REPO_TYPE,
                    revision=BRANCH,
                    parent_commit=head,
                )
            except HfHubHTTPError as exc:
                if _status(exc) in (409, 412):  # main moved since we read it
                    raise _Replan(str(exc)) from exc
                raise
            commit, action = info.oid, "committed"
            log.info("committed %d files (%d stale removed) to %s as %s", len(self.local), len(stale), repo_id, commit)

        self.step = f"tagging {version}"
        try:
            api.create_tag(
                repo_id, tag=version, revision=commit, tag_message=f"Interplay release {version}", repo_type=REPO_TYPE
            )
        except HfHubHTTPError as exc:
            if _status(exc) == 409:  # tagged concurrently: compare with what it points to
                raise _Replan(str(exc)) from exc
            raise
        log.info("tagged %s of %s as %s", commit, repo_id, version)
        return PushResult(repo_id, version, commit, action, url)


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OfflineModeIsEnabled):
        return False
    if isinstance(exc, HfHubHTTPError):
        return _status(exc) in TRANSIENT_STATUS
    return isinstance(exc, httpx2.TransportError | ConnectionError | TimeoutError)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HfHubHTTPError):
        status = _status(exc)
        detail = exc.server_message or str(exc).strip().splitlines()[0]
        return f"HTTP {status}: {detail}" if status else detail
    return f"{type(exc).__name__}: {exc}"


def _client_with_timeout(timeout_s: float) -> Callable[[], httpx2.Client]:
    """A factory of ``huggingface_hub``'s usual client (its request hooks, redirects) whose
    requests time out after ``timeout_s`` (connect, read, write and pool each)."""
    from huggingface_hub.utils._http import default_client_factory

    def make() -> httpx2.Client:
        client = default_client_factory()
        client.timeout = httpx2.Timeout(timeout_s)
        return client

    return make


def _scrub(text: str, secret: str | None) -> str:
    return redact(text, (secret,))


def push_release(
    folder: Path,
    repo_id: str,
    version: str,
    *,
    private: bool = False,
    retries: int = 4,
    backoff_s: float = 2.0,
    timeout_s: float = 60.0,
    endpoint: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PushResult:
    """Publish ``folder`` as ``version`` of the Hub dataset ``repo_id``; see the module docstring.

    Raises :class:`PublishError` with what to do on any failure a user can act on.
    """
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
    shown_endpoint = redact_url(endpoint)
    token = get_token()  # only to scrub it from messages; HfApi finds it the same way itself
    if constants.is_offline_mode():
        raise PublishError(
            "publish.target is 'hub' but Hub access is off (HF_HUB_OFFLINE=1, the project's offline "
            "default): run the stage with HF_HUB_OFFLINE=0 to publish, or set publish.target: local"
        )
    set_client_factory(_client_with_timeout(timeout_s))  # the process's Hub client, from here on
    api = HfApi(endpoint=endpoint)
    pusher = _Pusher(api, folder, repo_id, version, private)
    log.info("publishing %s to %s at %s as %s", folder, repo_id, shown_endpoint, version)
    attempts = max(1, retries)
    last: BaseException | None = None
    for attempt in range(1, attempts + 1):
        try:
            return pusher.push()
        except PublishError as exc:
            raise PublishError(_scrub(str(exc), token)) from None
        except _Replan as exc:
            last = exc
            log.info("the repository changed while publishing (%s); looking again", pusher.step)
            continue
        except Exception as exc:
            if not _is_transient(exc):
                raise PublishError(_scrub(_fatal_message(exc, pusher, shown_endpoint, token), token)) from None
            last = exc
            if attempt < attempts:
                wait = min(backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S)
                log.warning(
                    "%s failed (%s); attempt %d of %d, retrying in %.1f s",
                    pusher.step,
                    _scrub(_describe(exc), token),
                    attempt,
                    attempts,
                    wait,
                )
                sleep(wait)
    reason = _describe(last) if last is not None else "unknown error"
    raise PublishError(
        _scrub(
            f"publishing {version} to {repo_id} at {shown_endpoint} failed after {attempts} attempts "
            f"while {pusher.step}: {reason}. The Hub is unreachable or failing: check HF_ENDPOINT, the "
            "network and the Hub's status, then run the publish stage again — it is idempotent and "
            "completes a partial push without duplicating it (publish.retries / publish.backoff_s / "
            "publish.timeout_s set how hard it tries).",
            token,
        )
    )


def _fatal_message(exc: BaseException, pusher: _Pusher, endpoint: str, token: str | None) -> str:
    where = f"{pusher.repo_id} at {endpoint}"
    status = _status(exc)
    if isinstance(exc, OfflineModeIsEnabled):
        return "Hub access is off (HF_HUB_OFFLINE=1): run the stage with HF_HUB_OFFLINE=0 to publish"
    if status == 401:
        found = "the token found was rejected" if token else "no token was found"
        return (
            f"the Hub refused the credentials while {pusher.step} for {where} ({found}): set HF_TOKEN "
            "to a token with write access, or run `hf auth login`, then publish again"
        )
    if status == 403:
        return (
            f"no permission while {pusher.step} for {where} ({_describe(exc)}): use a token with write "
            "access to that namespace, or change publish.repo_id"
        )
    if isinstance(exc, HfHubHTTPError):
        return f"the Hub answered an error while {pusher.step} for {where}: {_describe(exc)}"
    if isinstance(exc, OSError):
        return f"cannot read the release folder while {pusher.step}: {exc}"
    return f"unexpected error while {pusher.step} for {where}: {_describe(exc)}"
