"""``reports/dialogues.html``: every generated dialogue on one static page, filterable in a browser.

One self-contained file (inline CSS and a small inline script, no external resource, no server):
open it from disk. Each dialogue is an ``<article class="dialogue" data-system=… data-outcome=…>``
with its profile summary, target attributes, target titles, outcome and messages (role-labelled,
linked titles in ``<mark>``, each seeker turn's candidate note after it in a muted style). Two
``<select>`` filters (system, outcome) hide the dialogues that do not match and update the
"N dialogues shown" counter; without JavaScript every dialogue is shown and the counter is right.

Pure and deterministic: the same rows (in any order) and titles give the same bytes (systems in
name order, dialogues by ``dialogue_id``; no timestamp). Every text taken from a row is
HTML-escaped: generated text may hold markup such as ``<script>``. A Content-Security-Policy
allows only the page's own script (by its hash) and inline styles, as a second line of defence.
Standard library only, like :mod:`.examples`, whose title marking and labels it shares.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from interplay.evaluation.compute import LABELS
from interplay.evaluation.examples import (
    MAX_NOTE_CHARS, ROLE_LABELS, attributes_text, item_title, mention_titles, outcome_of,
)
from interplay.evaluation.examples import _find as find_title

Row = Mapping[str, Any]

PAGE_PATH = "reports/dialogues.html"

_CSS = """
:root { color-scheme: light; --muted: #667; --line: #dde; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; color: #222; }
header.filters { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line);
  padding: .5rem 0; display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
#shown { font-weight: 600; }
[hidden] { display: none !important; }
article.dialogue { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .9rem; margin: .8rem 0; }
article.dialogue h2 { font-size: 1rem; margin: 0 0 .3rem; }
.tag { display: inline-block; font-size: .8rem; padding: 0 .4rem; border-radius: 3px; background: #eef; }
.tag.accepted { background: #dfd; } .tag.gave_up { background: #fdd; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: .3rem 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
ol.messages { list-style: none; padding: 0; margin: .3rem 0; }
ol.messages li { margin: .25rem 0; white-space: pre-wrap; }
.role { font-weight: 600; } .role.user { color: #146; } .role.recommender { color: #614; }
li.note { color: var(--muted); font-size: .85rem; margin-left: 1.5rem !important; }
.linked { color: var(--muted); font-size: .85rem; }
mark { background: #ffec99; }
"""

_SCRIPT = """
(function () {
  var system = document.getElementById("filter-system");
  var outcome = document.getElementById("filter-outcome");
  var shown = document.getElementById("shown");
  var none = document.getElementById("none");
  var dialogues = document.querySelectorAll("article.dialogue");
  function update() {
    var n = 0;
    for (var i = 0; i < dialogues.length; i++) {
      var d = dialogues[i];
      var show = (system.value === "" || d.dataset.system === system.value) &&
        (outcome.value === "" || d.dataset.outcome === outcome.value);
      d.hidden = !show;
      if (show) { n++; }
    }
    shown.textContent = n + (n === 1 ? " dialogue" : " dialogues") + " shown";
    none.hidden = n !== 0;
  }
  system.addEventListener("change", update);
  outcome.addEventListener("change", update);
  update();
})();
"""

_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
_CSP = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{_SCRIPT_HASH}'"


def _text(value: Any) -> str:
    return escape("" if value is None else str(value).strip())


def _shown(n: int) -> str:
    return f"{n} dialogue shown" if n == 1 else f"{n} dialogues shown"


def _outcome_of(row: Row) -> str:
    return str(row.get("outcome") or "unknown")


def _attributes(row: Row) -> str:
    return _text(attributes_text(row)) if attributes_text(row) else "none"


def _outcome_text(row: Row, titles: Mapping[str, str]) -> str:
    end = outcome_of(row)
    how = f"{_text(end.reason)}, " if end.reason else ""
    text = f"{_text(end.outcome)} ({how}{_text(end.messages)} messages)"
    if end.accepted:
        text += f": the user accepted <mark>{_text(item_title(end.accepted, titles, row))}</mark>"
    else:
        text += ": no item accepted"
    if end.targets:
        hits = [_text(item_title(t, titles, row)) for t in end.hits]
        text += "; a target was recommended: " + (f"yes ({', '.join(hits)})" if hits else "no")
    return text


def _marked(text: str, linked: Sequence[str]) -> tuple[str, list[str]]:
    """``text`` HTML-escaped with each linked title in ``<mark>``; and the titles not found."""
    text = text.strip()
    spans: list[tuple[int, int]] = []
    missing: list[str] = []
    for title in sorted(dict.fromkeys(t for t in linked if t), key=len, reverse=True):
        found = [s for s in find_title(text, title) if all(s[1] <= a or s[0] >= b for a, b in spans)]
        if found:
            spans += found
        else:
            missing.append(title)
    out, at = [], 0
    for start, end in sorted(spans):
        out += [escape(text[at:start]), "<mark>", escape(text[start:end]), "</mark>"]
        at = end
    out.append(escape(text[at:]))
    order = {t: i for i, t in enumerate(linked)}
    return "".join(out), sorted(missing, key=lambda t: order.get(t, 0))


def _note(entry: Mapping[str, Any], titles: Mapping[str, str], row: Row) -> str:
    note = str(entry.get("note") or "").strip()
    if not note:
        note = "; ".join(item_title(i, titles, row) for i in entry.get("item_ids") or [])
    if len(note) > MAX_NOTE_CHARS:
        note = note[: MAX_NOTE_CHARS - 1].rstrip() + "…"
    return _text(note)


def render_dialogue(system: str, row: Row, titles: Mapping[str, str]) -> str:
    """One dialogue as an ``<article class="dialogue">`` (every row text escaped)."""
    titles = {**mention_titles([row]), **{str(k): v for k, v in titles.items() if v}}
    outcome = _outcome_of(row)
    targets = row.get("target_titles") or []
    label = LABELS.get(system, system)
    lines = [
        f'<article class="dialogue" data-system="{escape(system)}" data-outcome="{escape(outcome)}">',
        f"<h2>{_text(row.get('dialogue_id') or '?')} <span class=\"tag\">{escape(label)}</span> "
        f'<span class="tag {escape(outcome)}">{escape(outcome)}</span></h2>',
        '<dl class="facts">',
        f"<dt>Profile summary</dt><dd>{_text(row.get('preference_summary')) or 'none'}</dd>",
        f"<dt>Target attributes</dt><dd>{_attributes(row)}</dd>",
        "<dt>Target titles</dt><dd>" + ("; ".join(_text(t) for t in targets) if targets else "none") + "</dd>",
        f"<dt>Outcome</dt><dd>{_outcome_text(row, titles)}</dd>",
        "</dl>",
    ]
    mentions: dict[int, list[str]] = {}
    for mention in row.get("item_mentions") or []:
        title = mention.get("title") or titles.get(str(mention.get("item_id")))
        if title and mention.get("turn") is not None:
            mentions.setdefault(int(mention["turn"]), []).append(str(title))
    offered = {int(c["turn"]): c for c in row.get("candidates") or [] if c.get("turn") is not None}
    messages = row.get("messages") or []
    lines.append('<ol class="messages">')
    for turn, message in enumerate(messages):
        role = str(message.get("role") or "")
        role_label = escape(ROLE_LABELS.get(role, role) or "?")
        text, unfound = _marked(str(message.get("content") or ""), mentions.get(turn, []))
        item = f'<li><span class="role {escape(role)}">{role_label}:</span> {text or "(empty)"}'
        if unfound:
            item += ' <span class="linked">[linked: ' + "; ".join(f"<mark>{_text(t)}</mark>" for t in unfound)
            item += "]</span>"
        lines.append(item + "</li>")
        if turn in offered:
            note = _note(offered[turn], titles, row)
            if note:
                lines.append(f'<li class="note">offered: {note}</li>')
    if not messages:
        lines.append("<li>(no messages)</li>")
    lines += ["</ol>", "</article>"]
    return "\n".join(lines)


def _options(values: Sequence[tuple[str, str, int]], everything: str) -> str:
    total = sum(n for _, _, n in values)
    options = [f'<option value="">{escape(everything)} ({total})</option>']
    options += [f'<option value="{escape(v)}">{escape(label)} ({n})</option>' for v, label, n in values]
    return "\n".join(options)


def render_page(systems: Mapping[str, Sequence[Row]], titles: Mapping[str, str]) -> str:
    """The whole page for ``system -> rows`` (``titles``: catalog item_id -> title)."""
    ordered = [
        (name, row)
        for name in sorted(systems)
        for row in sorted(systems[name], key=lambda r: str(r.get("dialogue_id") or ""))
    ]
    outcomes: dict[str, int] = {}
    for _, row in ordered:
        outcomes[_outcome_of(row)] = outcomes.get(_outcome_of(row), 0) + 1
    system_options = [(n, LABELS.get(n, n), len(systems[n])) for n in sorted(systems)]
    outcome_options = [(o, o, outcomes[o]) for o in sorted(outcomes)]
    body = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        "<title>Interplay: generated dialogues</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<h1>Generated dialogues</h1>",
        "<p>Every dialogue the evaluated systems generated, written by the <code>evaluate</code> stage. "
        "Linked catalog titles are <mark>marked</mark>; a muted “offered” line after a seeker turn is "
        "the candidate note the grounded recommender read (not part of the messages). Targets are for "
        "evaluation only: neither model saw them.</p>",
        '<header class="filters">',
        '<label>System <select id="filter-system">',
        _options(system_options, "all systems"),
        "</select></label>",
        '<label>Outcome <select id="filter-outcome">',
        _options(outcome_options, "all outcomes"),
        "</select></label>",
        f'<span id="shown" aria-live="polite">{_shown(len(ordered))}</span>',
        "</header>",
        f'<p id="none"{"" if not ordered else " hidden"}>No dialogue matches these filters.</p>',
        "<main>",
        *(render_dialogue(name, row, titles) for name, row in ordered),
        "</main>",
        f"<script>{_SCRIPT}</script>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(body)


def write_page(systems: Mapping[str, Sequence[Row]], titles: Mapping[str, str], root: Path) -> Path:
    """Render the page and write it to ``root / PAGE_PATH``; returns that path."""
    path = root / PAGE_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(systems, titles), "utf-8", newline="\n")
    return path


__all__ = ["PAGE_PATH", "render_dialogue", "render_page", "write_page"]
