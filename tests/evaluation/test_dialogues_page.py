"""``reports/dialogues.html``: the page's content (pure) and the page in a real headless Chromium.

The browser test starts the system's Chromium itself (headless, remote debugging on 127.0.0.1),
drives it over the DevTools protocol (the ``websockets`` client, installed with Prefect), and stops
it by its pid. Without a Chromium it skips and says how to install one.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from html import escape
from pathlib import Path
from typing import Any

import pytest
from dialogue_fixtures import CATALOG, clean_dialogues

from interplay.evaluation.page import PAGE_PATH, render_page, write_page

HOSTILE = "<script>alert(1)</script> | <img src=x onerror=\"window.pwned=1\"> & more"
NOTE = "[Candidates: Super Troopers (2001): comedy | Beerfest (2006)]"
TITLES = {row["item_id"]: row["title"] for row in CATALOG}
#: How long the whole browser test may take, start to stop.
BROWSER_BUDGET_S = 20.0


def _systems() -> dict[str, list[dict[str, Any]]]:
    """Four Interplay dialogues (two accepted) and three zero-shot ones, one of them hostile."""
    interplay = clean_dialogues()
    interplay[0]["candidates"] = [
        {"turn": 0, "item_ids": ["1", "2"], "note": NOTE}
    ]
    zero_shot = clean_dialogues("zero_shot")[1:]
    for row in zero_shot:
        row["dialogue_id"] = "z-" + row["dialogue_id"]
        row["accepted_item_id"], row["outcome"], row["termination_reason"] = None, "max_turns", "max_turns"
    hostile = zero_shot[0]
    hostile["messages"][1]["content"] = HOSTILE
    hostile["preference_summary"] = "</dd><script>window.pwned=2</script>"
    hostile["target_titles"] = ['"><b>x</b>']
    return {"interplay": interplay, "zero_shot": zero_shot}


def test_page_lists_every_dialogue_escaped_and_deterministic() -> None:
    systems = _systems()
    page = render_page(systems, TITLES)
    assert page.count('<article class="dialogue"') == 7
    assert page.count('data-system="interplay"') == 4 and page.count('data-system="zero_shot"') == 3
    assert page.count('data-outcome="accepted"') == 2 and page.count('data-outcome="max_turns"') == 4
    assert "7 dialogues shown" in page
    # Every row text is escaped: the only script is the page's own, no raw markup from a row.
    assert page.count("<script") == 1 and "alert(1)</script>" not in page and "<img" not in page
    assert escape(HOSTILE) in page
    assert escape(HOSTILE).startswith("&lt;script&gt;alert(1)&lt;/script&gt; | &lt;img src=x onerror=&quot;")
    assert "&lt;/dd&gt;&lt;script&gt;window.pwned=2&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;b&gt;x&lt;/b&gt;" in page
    # Linked titles marked, the candidate note shown, nothing loaded from elsewhere.
    assert "<mark>Beerfest (2006)</mark>" in page
    assert f'<li class="note">offered: {NOTE}</li>' in page
    assert "http://" not in page and "https://" not in page
    assert re.findall(r"<[a-z][^>]*\b(?:src|href)=[^>]*>", page) == ['<link rel="icon" href="data:,">']
    # Sorted by system, then dialogue_id, whatever order the rows come in.
    order = [line.split('data-system="')[1].split('"')[0] for line in page.splitlines() if "<article" in line]
    assert order == ["interplay"] * 4 + ["zero_shot"] * 3
    shuffled = {name: list(reversed(rows)) for name, rows in reversed(list(systems.items()))}
    assert render_page(shuffled, dict(reversed(list(TITLES.items())))) == page
    assert render_page(copy.deepcopy(systems), TITLES).encode() == page.encode()


def test_write_page_writes_the_dvc_output(tmp_path: Path) -> None:
    path = write_page(_systems(), TITLES, tmp_path)
    assert path == tmp_path / PAGE_PATH == tmp_path / "reports/dialogues.html"
    assert path.read_bytes() == render_page(_systems(), TITLES).encode("utf-8")


def test_empty_page_still_renders() -> None:
    page = render_page({}, {})
    assert "0 dialogues shown" in page and '<p id="none">' in page and "<article" not in page


# -- the page in headless Chromium ---------------------------------------------------------------


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium installed: apt-get install chromium")


class _DevTools:
    """A minimal DevTools-protocol client over one page target's websocket."""

    def __init__(self, url: str, deadline: float) -> None:
        from websockets.sync.client import connect

        self.deadline = deadline
        self.ws = connect(url, proxy=None, compression=None, max_size=None, open_timeout=self._left())
        self.events: list[dict[str, Any]] = []
        self._id = 0

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the browser test ran past its {BROWSER_BUDGET_S:.0f} s budget")
        return left

    def _receive(self) -> dict[str, Any]:
        message = json.loads(self.ws.recv(timeout=self._left()))
        if "method" in message:
            self.events.append(message)
        return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = self._receive()
            if message.get("id") == self._id:
                assert "error" not in message, f"{method}: {message['error']}"
                return message.get("result", {})

    def wait_for(self, method: str, since: int) -> dict[str, Any]:
        while True:
            for event in self.events[since:]:
                if event["method"] == method:
                    return event
            self._receive()

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries (CSP, failed loads) so far."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                args = (str(a.get("value", a.get("description"))) for a in params["args"])
                found.append("console: " + " ".join(args))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                thrown = details.get("exception", {}).get("description") or details["text"]
                found.append(f"exception: {thrown}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"log ({params['entry'].get('source')}): {params['entry'].get('text')}")
        return found

    def close(self) -> None:
        self.ws.close()


def _start(binary: str, profile: Path, log: Any) -> subprocess.Popen[bytes]:
    args = [
        binary,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",  # Chromium takes a free port and writes it to DevToolsActivePort
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--no-default-browser-check",
        "--no-proxy-server",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--mute-audio",
        "about:blank",
    ]
    # Its own process group, so that its helper processes can be stopped with it (by its pid).
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    try:  # helpers (renderer, zygote) left behind, in the group whose id is the browser's pid
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _page_socket(proc: subprocess.Popen[bytes], profile: Path, log_path: Path, deadline: float) -> str:
    """The websocket URL of the browser's page target, once its DevTools endpoint is up."""
    active = profile / "DevToolsActivePort"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        if proc.poll() is not None:
            tail = log_path.read_text("utf-8", "replace")[-2000:]
            raise AssertionError(f"Chromium exited with {proc.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise AssertionError("Chromium's DevTools endpoint did not come up in time")
        lines = active.read_text().split() if active.is_file() else []
        if lines:
            try:
                with opener.open(f"http://127.0.0.1:{int(lines[0])}/json/list", timeout=2) as response:
                    targets = json.load(response)
            except OSError:
                targets = []
            pages = [t for t in targets if t.get("type") == "page" and t.get("webSocketDebuggerUrl")]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.1)


def test_page_opens_in_headless_chromium_without_console_errors(tmp_path: Path) -> None:
    binary = _chromium()
    pytest.importorskip("websockets.sync.client", reason="no websockets package (a Prefect dependency)")
    page = write_page(_systems(), TITLES, tmp_path)
    profile, log_path = tmp_path / "chromium-profile", tmp_path / "chromium.log"
    profile.mkdir()
    deadline = time.monotonic() + BROWSER_BUDGET_S
    with log_path.open("wb") as log:
        proc = _start(binary, profile, log)
        devtools = None
        try:
            devtools = _DevTools(_page_socket(proc, profile, log_path, deadline), deadline)
            for domain in ("Page", "Runtime", "Log"):
                devtools.call(f"{domain}.enable")
            since = len(devtools.events)
            devtools.call("Page.navigate", url=page.as_uri())
            devtools.wait_for("Page.loadEventFired", since)

            assert devtools.evaluate("location.href") == page.as_uri()
            assert devtools.evaluate("document.querySelectorAll('article.dialogue').length") == 7
            assert devtools.evaluate("document.getElementById('shown').textContent") == "7 dialogues shown"
            # The hostile message is shown as text and ran nothing.
            assert devtools.evaluate("window.pwned === undefined")
            assert HOSTILE in devtools.evaluate("document.querySelector('main').textContent")

            choose = (
                "(() => {{ const s = document.getElementById('{id}'); s.value = '{value}';"
                " s.dispatchEvent(new Event('change'));"
                " const shown = [...document.querySelectorAll('article.dialogue')]"
                ".filter(a => a.offsetParent !== null);"
                " return [document.getElementById('shown').textContent, shown.length,"
                " !document.getElementById('none').hidden]; }})()"
            )
            steps = [  # (select, value chosen) -> (counter, dialogues visible, "none match" shown)
                ("filter-system", "zero_shot", ["3 dialogues shown", 3, False]),
                ("filter-outcome", "accepted", ["0 dialogues shown", 0, True]),
                ("filter-system", "interplay", ["2 dialogues shown", 2, False]),
                ("filter-outcome", "gave_up", ["1 dialogue shown", 1, False]),
                ("filter-system", "", ["1 dialogue shown", 1, False]),
                ("filter-outcome", "", ["7 dialogues shown", 7, False]),
            ]
            for select, value, expected in steps:
                assert devtools.evaluate(choose.format(id=select, value=value)) == expected, (select, value)

            assert devtools.errors() == []
            # The listener does catch errors: a deliberate one is reported.
            devtools.evaluate("console.error('probe'), 1")
            devtools.evaluate("1")  # lets the console event arrive before the next look
            assert any("probe" in e for e in devtools.errors()), devtools.events[-5:]
        finally:
            if devtools is not None:
                devtools.close()
            _stop(proc)
