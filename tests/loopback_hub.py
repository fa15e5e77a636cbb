"""A loopback Hugging Face Hub for tests: the subset of the Hub HTTP API the real clients call.

Run it as its own process (``python tests/loopback_hub.py --port N --root DIR``); the test fixture
in ``tests/hub_fixtures.py`` starts it on 127.0.0.1 and stops it by its process. With
``HF_ENDPOINT=http://127.0.0.1:N`` and ``HF_HUB_DISABLE_XET=1``, ``huggingface_hub`` and
``datasets`` work against it unchanged.

What it stores, under ``--root``:

- ``objects/<sha256>``: file contents, addressed by their sha256;
- ``repos/<type>s/<namespace>/<name>.json``: one repo each — its commits (parent, message, date,
  and the tree as ``path -> {sha256, size, oid}``), its branches and its tags.

Files are always "regular" git blobs (the preupload answer), so no LFS or xet transfer is needed.
Errors carry the Hub's ``X-Error-Code`` headers (``RepoNotFound``, ``RevisionNotFound``,
``EntryNotFound``) so that the clients raise their usual exceptions. With ``LOOPBACK_HUB_TOKEN``
set, every request must carry ``Authorization: Bearer <token>``; requests are logged by method and path only
(never a header), and an unknown route answers 404 with ``X-Error-Message: unhandled route`` and is
logged as ``UNHANDLED`` so that tracing a client shows what is missing. ``POST /_loopback/fail``
(test control, not Hub API) makes the next requests fail, to exercise retries;
``POST /_loopback/echo {"credentials": true}`` makes it a careless server that echoes each
request's ``Authorization`` header back (response headers, error messages and bodies), to check
that no client log repeats it.
"""

from __future__ import annotations

import argparse
import base64
import os
import hashlib
import json
import sys
import threading
import time
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
USER = "loopback-user"
#: If set in the server's environment, the only bearer token it accepts (kept off the command line).
TOKEN_ENV = "LOOPBACK_HUB_TOKEN"
GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"


def git_oid(data: bytes) -> str:
    """The git blob id of a content (what the Hub reports as a regular file's ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class Store:
    """Repos, commits and refs as JSON files; contents addressed by sha256. One lock for all."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()

    # -- objects --------------------------------------------------------------------------------
    def put_object(self, data: bytes) -> dict[str, Any]:
        sha = hashlib.sha256(data).hexdigest()
        path = self.objects / sha
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return {"sha256": sha, "size": len(data), "oid": git_oid(data)}

    def get_object(self, sha: str) -> bytes:
        return (self.objects / sha).read_bytes()

    # -- repos ----------------------------------------------------------------------------------
    def _repo_path(self, repo_type: str, repo_id: str) -> Path:
        return self.root / "repos" / f"{repo_type}s" / f"{repo_id}.json"

    def load(self, repo_type: str, repo_id: str) -> dict[str, Any]:
        path = self._repo_path(repo_type, repo_id)
        if not path.is_file():
            raise HubError(404, "Repository not found", "RepoNotFound")
        return json.loads(path.read_text())

    def save(self, repo: dict[str, Any]) -> None:
        path = self._repo_path(repo["type"], repo["id"])
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(repo, indent=1, sort_keys=True))
        tmp.replace(path)

    def create(self, repo_type: str, repo_id: str, private: bool) -> dict[str, Any]:
        if self._repo_path(repo_type, repo_id).is_file():
            raise HubError(409, "You already created this repo")
        repo: dict[str, Any] = {
            "type": repo_type,
            "id": repo_id,
            "private": private,
            "createdAt": _now(),
            "commits": {},
            "branches": {},
            "tags": {},
        }
        # Like the Hub, a new repo starts with one commit holding a .gitattributes file.
        tree = {".gitattributes": self.put_object(GITATTRIBUTES)}
        oid = self._add_commit(repo, None, tree, "initial commit", "")
        repo["branches"]["main"] = oid
        self.save(repo)
        return repo

    @staticmethod
    def _add_commit(repo: dict, parent: str | None, tree: dict, title: str, message: str) -> str:
        body = json.dumps([parent, tree, title, message, time.time_ns()], sort_keys=True)
        oid = hashlib.sha1(body.encode()).hexdigest()
        repo["commits"][oid] = {
            "parent": parent,
            "tree": tree,
            "title": title,
            "message": message,
            "date": _now(),
        }
        return oid

    @staticmethod
    def resolve(repo: dict[str, Any], revision: str) -> str:
        """A branch, a tag (bare or as ``refs/...``) or a full commit id -> the commit id."""
        rev = revision
        for prefix, table in (("refs/heads/", "branches"), ("refs/tags/", "tags")):
            if rev.startswith(prefix) and rev[len(prefix) :] in repo[table]:
                return repo[table][rev[len(prefix) :]]
        if rev in repo["branches"]:
            return repo["branches"][rev]
        if rev in repo["tags"]:
            return repo["tags"][rev]
        if rev in repo["commits"]:
            return rev
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


class Handler(BaseHTTPRequestHandler):
    server_version = "LoopbackHub/1.0"
    protocol_version = "HTTP/1.1"
    store: Store
    token: str | None = None
    faults: dict[str, int]

    # -- plumbing ------------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        pass  # requests are logged by _dispatch: method and path only, never headers

    def _log(self, text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, ctype: str = "application/json"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        echoed = self._echoed()
        if echoed:
            headers = {**(headers or {}), "Authorization": echoed, "X-Echo-Authorization": echoed}
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def _echoed(self) -> str | None:
        """The request's Authorization header when credentials are echoed (test control), else None."""
        if not self.faults.get("echo_credentials"):
            return None
        return self.headers.get("Authorization") or None

    def _error(self, err: HubError) -> None:
        echoed = self._echoed()
        message = f"{err.message} (you sent Authorization: {echoed})" if echoed else err.message
        headers = {"X-Error-Message": message}
        if err.code:
            headers["X-Error-Code"] = err.code
        self._json(err.status, {"error": message, "authorization": echoed}, headers)

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        # Split the raw path first: a quoted revision (refs%2Fconvert%2Fparquet) is one segment.
        parts = [unquote(p) for p in url.path.split("/") if p]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self._log(f"{self.command} {url.path}")
        if parts[:1] == ["_loopback"]:  # test control, not part of the Hub API
            self._control(parts[1:], json.loads(self._body() or b"{}"))
            return
        if self._inject_failure():
            return
        try:
            self._check_auth()
            with self.store.lock:
                if not self._route(parts, query):
                    self._log(f"UNHANDLED {self.command} {self.path}")
                    self._body()
                    raise HubError(404, "unhandled route")
        except HubError as err:
            self._error(err)
        except Exception as exc:  # a bug of this server: say so, loudly
            self._log(f"ERROR {self.command} {self.path}: {exc!r}")
            self._error(HubError(500, f"loopback hub error: {exc!r}"))

    def _control(self, parts: list[str], payload: dict[str, Any]) -> None:
        """``POST /_loopback/fail {"count": N, "status": 503}``: the next N requests fail;
        ``POST /_loopback/echo {"credentials": true}``: echo credentials back from now on."""
        if self.command == "POST" and parts == ["fail"]:
            with self.store.lock:
                self.faults["count"] = int(payload.get("count", 1))
                self.faults["status"] = int(payload.get("status", 503))
            self._json(200, {})
        elif self.command == "POST" and parts == ["echo"]:
            with self.store.lock:
                self.faults["echo_credentials"] = bool(payload.get("credentials"))
            self._json(200, {})
        else:
            self._error(HubError(404, "unknown control route"))

    def _inject_failure(self) -> bool:
        with self.store.lock:
            if self.faults.get("count", 0) <= 0:
                return False
            self.faults["count"] -= 1
            status = self.faults["status"]
        self._log(f"INJECTED {status} {self.command} {self.path}")
        self._body()
        self._error(HubError(status, "injected failure (loopback hub test control)"))
        return True

    def _check_auth(self) -> None:
        if self.token is None:
            return
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            self._body()  # read it, or it would be taken for the next request on this connection
            raise HubError(401, "Invalid credentials in Authorization header")

    # -- routing -------------------------------------------------------------------------------
    def _route(self, parts: list[str], query: dict[str, str]) -> bool:
        method = self.command
        if parts[:1] == ["api"]:
            rest = parts[1:]
            if rest == ["whoami-v2"] and method == "GET":
                self._json(200, {"type": "user", "name": USER, "fullname": USER, "orgs": [], "auth": {}})
                return True
            if rest == ["agent-harnesses"] and method == "GET":  # the client's best-effort registry
                self._json(200, {"standardEnvVars": [], "harnesses": {}})
                return True
            if rest == ["repos", "create"] and method == "POST":
                self._create_repo(json.loads(self._body() or b"{}"))
                return True
            if rest == ["validate-yaml"] and method == "POST":
                self._validate_yaml(json.loads(self._body() or b"{}"))
                return True
            if len(rest) >= 3 and rest[0] in REPO_TYPES:
                repo_type = REPO_TYPES[rest[0]]
                repo_id = f"{rest[1]}/{rest[2]}"
                return self._repo_api(repo_type, repo_id, rest[3:], query)
            return False
        # File downloads: /{repo}/resolve/..., /datasets/{repo}/resolve/..., /spaces/{repo}/resolve/...
        repo_type = "model"
        if parts[:1] in (["datasets"], ["spaces"]):
            repo_type = REPO_TYPES[parts[0]]
            parts = parts[1:]
        if len(parts) >= 5 and parts[2] == "resolve" and method in ("GET", "HEAD"):
            self._resolve(repo_type, f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]))
            return True
        return False

    def _repo_api(self, repo_type: str, repo_id: str, rest: list[str], query: dict[str, str]) -> bool:
        method = self.command
        if method == "GET" and not rest:
            self._info(repo_type, repo_id, "main", query)
        elif method == "GET" and len(rest) == 2 and rest[0] == "revision":
            self._info(repo_type, repo_id, rest[1], query)
        elif method == "GET" and rest == ["refs"]:
            self._refs(repo_type, repo_id, query)
        elif method == "GET" and len(rest) >= 2 and rest[0] == "tree":
            self._tree(repo_type, repo_id, rest[1], "/".join(rest[2:]), query)
        elif method == "POST" and len(rest) == 2 and rest[0] == "paths-info":
            self._paths_info(repo_type, repo_id, rest[1])
        elif method == "POST" and len(rest) == 2 and rest[0] == "preupload":
            self._preupload(repo_type, repo_id, rest[1], json.loads(self._body() or b"{}"))
        elif method == "POST" and len(rest) == 2 and rest[0] == "commit":
            self._commit(repo_type, repo_id, rest[1], query)
        elif method == "POST" and len(rest) == 2 and rest[0] == "tag":
            self._create_tag(repo_type, repo_id, rest[1], json.loads(self._body() or b"{}"))
        elif method == "DELETE" and len(rest) == 2 and rest[0] == "tag":
            self._delete_tag(repo_type, repo_id, rest[1])
        else:
            return False
        return True

    # -- endpoints -----------------------------------------------------------------------------
    def _create_repo(self, payload: dict[str, Any]) -> None:
        repo_type = payload.get("type") or "model"
        namespace = payload.get("organization") or USER
        repo_id = f"{namespace}/{payload['name']}"
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"{self._base()}/{prefix}{repo_id}"
        try:
            self.store.create(repo_type, repo_id, private)
        except HubError as err:  # the Hub's 409 still names the repo's url (create_repo reads it)
            self._json(err.status, {"error": err.message, "url": url}, {"X-Error-Message": err.message})
            return
        self._json(200, {"url": url, "name": repo_id, "id": repo_id})

    def _validate_yaml(self, payload: dict[str, Any]) -> None:
        content = payload.get("content") or ""
        errors: list[dict[str, str]] = []
        warnings: list[dict[str, str]] = []
        if content.startswith("---"):
            end = content.find("\n---", 3)
            if end < 0:
                errors.append({"message": "the YAML metadata block is not closed"})
            else:
                try:
                    meta = yaml.safe_load(content[3:end])
                except yaml.YAMLError as exc:
                    errors.append({"message": f"invalid YAML: {exc}"})
                else:
                    if meta is None:
                        warnings.append({"message": "empty or missing yaml metadata in repo card"})
                    elif not isinstance(meta, dict):
                        errors.append({"message": "the YAML metadata must be a mapping"})
        else:
            warnings.append({"message": "empty or missing yaml metadata in repo card"})
        if errors:
            self._json(400, {"error": "; ".join(e["message"] for e in errors), "errors": errors})
        else:
            self._json(200, {"errors": [], "warnings": warnings})

    def _base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _commit_of(self, repo_type: str, repo_id: str, revision: str) -> tuple[dict, str, dict]:
        repo = self.store.load(repo_type, repo_id)
        oid = Store.resolve(repo, revision)
        return repo, oid, repo["commits"][oid]

    def _last_commit(self, repo: dict, oid: str) -> dict[str, str]:
        commit = repo["commits"][oid]
        return {"id": oid, "title": commit["title"], "date": commit["date"]}

    def _info(self, repo_type: str, repo_id: str, revision: str, query: dict[str, str]) -> None:
        repo, oid, commit = self._commit_of(repo_type, repo_id, revision)
        tree = commit["tree"]
        card_data = None
        if "README.md" in tree:
            text = self.store.get_object(tree["README.md"]["sha256"]).decode("utf-8", "replace")
            if text.startswith("---"):
                end = text.find("\n---", 3)
                try:
                    card_data = yaml.safe_load(text[3:end]) if end > 0 else None
                except yaml.YAMLError:
                    card_data = None
        blobs = query.get("blobs", "").lower() in ("1", "true")
        siblings = []
        for path in sorted(tree):
            entry: dict[str, Any] = {"rfilename": path}
            if blobs:
                entry.update(size=tree[path]["size"], blobId=tree[path]["oid"])
            siblings.append(entry)
        self._json(
            200,
            {
                "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
                "id": repo_id,
                "author": repo_id.split("/")[0],
                "sha": oid,
                "lastModified": commit["date"],
                "createdAt": repo["createdAt"],
                "private": repo["private"],
                "gated": False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "cardData": card_data,
                "siblings": siblings,
                "usedStorage": sum(e["size"] for e in tree.values()),
            },
        )

    def _refs(self, repo_type: str, repo_id: str, query: dict[str, str]) -> None:
        repo = self.store.load(repo_type, repo_id)

        def refs(table: str, kind: str) -> list[dict[str, str]]:
            return [
                {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": oid}
                for name, oid in sorted(repo[table].items())
            ]

        data = {"branches": refs("branches", "heads"), "converts": [], "tags": refs("tags", "tags")}
        data["pullRequests"] = []
        self._json(200, data)

    def _file_entry(self, repo: dict, path: str, blob: dict, expand: bool, commit_oid: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"type": "file", "oid": blob["oid"], "size": blob["size"], "path": path}
        if expand:
            entry["lastCommit"] = self._last_commit(repo, commit_oid)
        return entry

    def _dir_entry(self, repo: dict, tree: dict, path: str, expand: bool, commit_oid: str) -> dict[str, Any]:
        below = sorted((p, tree[p]["oid"]) for p in tree if p.startswith(path + "/"))
        entry: dict[str, Any] = {
            "type": "directory",
            "oid": hashlib.sha1(json.dumps(below).encode()).hexdigest(),
            "size": 0,
            "path": path,
        }
        if expand:
            entry["lastCommit"] = self._last_commit(repo, commit_oid)
        return entry

    def _tree(self, repo_type: str, repo_id: str, revision: str, path: str, query: dict[str, str]) -> None:
        repo, oid, commit = self._commit_of(repo_type, repo_id, revision)
        tree = commit["tree"]
        path = path.strip("/")
        recursive = query.get("recursive", "").lower() in ("1", "true")
        expand = query.get("expand", "").lower() in ("1", "true")
        prefix = f"{path}/" if path else ""
        if path and not any(p.startswith(prefix) for p in tree):
            raise HubError(404, f"{path} does not exist on {revision}", "EntryNotFound")
        files: list[dict[str, Any]] = []
        folders: dict[str, dict[str, Any]] = {}
        for file_path in sorted(tree):
            if not file_path.startswith(prefix):
                continue
            rel = file_path[len(prefix) :].split("/")
            # every folder between path and the file (only the first when not recursive)
            for depth in range(1, len(rel) if recursive else min(2, len(rel))):
                folder = prefix + "/".join(rel[:depth])
                if folder not in folders:
                    folders[folder] = self._dir_entry(repo, tree, folder, expand, oid)
            if recursive or len(rel) == 1:
                files.append(self._file_entry(repo, file_path, tree[file_path], expand, oid))
        entries = list(folders.values()) + files
        self._json(200, sorted(entries, key=lambda e: e["path"]))

    def _paths_info(self, repo_type: str, repo_id: str, revision: str) -> None:
        raw = self._body()
        ctype = self.headers.get("Content-Type") or ""
        if "json" in ctype:
            payload = json.loads(raw or b"{}")
            paths, expand = payload.get("paths", []), bool(payload.get("expand"))
        else:
            form = parse_qs(raw.decode())
            paths = form.get("paths", [])
            expand = (form.get("expand") or ["False"])[-1].lower() in ("1", "true")
        repo, oid, commit = self._commit_of(repo_type, repo_id, revision)
        tree = commit["tree"]
        out = []
        for path in paths:
            path = path.strip("/")
            if path in tree:
                out.append(self._file_entry(repo, path, tree[path], expand, oid))
            elif any(p.startswith(path + "/") for p in tree) or path == "":
                out.append(self._dir_entry(repo, tree, path, expand, oid))
        self._json(200, out)

    def _preupload(self, repo_type: str, repo_id: str, revision: str, payload: dict[str, Any]) -> None:
        _repo, _oid, commit = self._commit_of(repo_type, repo_id, revision)
        tree = commit["tree"]
        files = [
            {
                "path": f["path"],
                "uploadMode": "regular",
                "shouldIgnore": False,
                "oid": tree[f["path"]]["oid"] if f["path"] in tree else None,
            }
            for f in payload.get("files", [])
        ]
        self._json(200, {"files": files, "commitOid": _oid})

    def _commit(self, repo_type: str, repo_id: str, revision: str, query: dict[str, str]) -> None:
        lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
        repo = self.store.load(repo_type, repo_id)
        if query.get("create_pr"):
            raise HubError(400, "pull requests are not supported by the loopback hub")
        if revision not in repo["branches"]:
            if revision in repo["tags"] or revision in repo["commits"]:
                raise HubError(400, f"Invalid rev id: {revision} is not a branch")
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        head = repo["branches"][revision]
        header = next((line["value"] for line in lines if line.get("key") == "header"), None)
        if header is None:
            raise HubError(400, "the commit payload has no header line")
        parent = header.get("parentCommit")
        if parent is not None and parent != head:
            raise HubError(412, f"A commit has happened since {parent}: the parent commit is not the head")
        tree = dict(repo["commits"][head]["tree"])
        for line in lines:
            key, value = line.get("key"), line.get("value") or {}
            if key == "header":
                continue
            path = str(value.get("path", "")).strip("/")
            if key == "file":
                if value.get("encoding", "base64") != "base64":
                    raise HubError(400, f"unsupported encoding {value.get('encoding')!r}")
                tree[path] = self.store.put_object(base64.b64decode(value["content"]))
            elif key == "deletedFile":
                if path not in tree:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                del tree[path]
            elif key == "deletedFolder":
                doomed = [p for p in tree if p.startswith(path + "/")]
                if not doomed:
                    raise HubError(404, "A folder with this name doesn't exist", "EntryNotFound")
                for p in doomed:
                    del tree[p]
            elif key == "lfsFile":
                raise HubError(400, "LFS files are not supported: the loopback hub answers regular uploads")
            else:
                raise HubError(400, f"unsupported commit operation {key!r}")
        oid = Store._add_commit(repo, head, tree, header.get("summary") or "", header.get("description") or "")
        repo["branches"][revision] = oid
        self.store.save(repo)
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        self._json(
            200,
            {
                "success": True,
                "commitOid": oid,
                "commitUrl": f"{self._base()}/{prefix}{repo_id}/commit/{oid}",
                "hookOutput": "",
            },
        )

    def _create_tag(self, repo_type: str, repo_id: str, revision: str, payload: dict[str, Any]) -> None:
        repo = self.store.load(repo_type, repo_id)
        oid = Store.resolve(repo, revision)
        tag = payload.get("tag")
        if not tag:
            raise HubError(400, "no tag name given")
        if tag in repo["tags"]:
            raise HubError(409, f"Tag {tag} already exists")
        repo["tags"][tag] = oid
        self.store.save(repo)
        self._json(200, {})

    def _delete_tag(self, repo_type: str, repo_id: str, tag: str) -> None:
        repo = self.store.load(repo_type, repo_id)
        if tag not in repo["tags"]:
            raise HubError(404, f"Invalid rev id: {tag}", "RevisionNotFound")
        del repo["tags"][tag]
        self.store.save(repo)
        self._json(200, {})

    def _resolve(self, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        self._body()
        _repo, oid, commit = self._commit_of(repo_type, repo_id, revision)
        blob = commit["tree"].get(path)
        if blob is None:
            raise HubError(404, "Entry not found", "EntryNotFound")
        data = self.store.get_object(blob["sha256"])
        headers = {"X-Repo-Commit": oid, "ETag": f'"{blob["oid"]}"', "Accept-Ranges": "bytes"}
        status = 200
        ranges = self.headers.get("Range")
        if ranges and ranges.startswith("bytes=") and "," not in ranges:
            start_s, _, end_s = ranges[len("bytes=") :].partition("-")
            size = len(data)
            if start_s:
                start, end = int(start_s), min(int(end_s), size - 1) if end_s else size - 1
            else:  # suffix range: the last N bytes
                start, end = max(size - int(end_s), 0), size - 1
            if start >= size and size > 0:
                headers["Content-Range"] = f"bytes */{size}"
                self._send(416, b"", headers, ctype="application/octet-stream")
                return
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            data = data[start : end + 1]
            status = 206
        self._send(status, data, headers, ctype="application/octet-stream")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed on stdout)")
    parser.add_argument("--root", required=True, help="directory holding the repos and objects")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    bound = {"store": Store(Path(args.root)), "token": os.environ.get(TOKEN_ENV) or None, "faults": {}}
    handler = type("BoundHandler", (Handler,), bound)
    server = ThreadingHTTPServer((args.host, args.port), handler)
    server.daemon_threads = True
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
