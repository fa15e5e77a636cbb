"""Reading a params file into a plain mapping, refusing what PyYAML would accept in silence.

``yaml.safe_load`` turns an empty or comment-only file into ``None`` (every stage would then run on
built-in defaults), keeps the last of two values given for one key, and reports a syntax error as a
multi-line parser dump; reading bytes that are not UTF-8, or a folder, raises a bare ``OSError`` or
``UnicodeDecodeError``. Each of these becomes one :class:`ParamsError` line naming the file, and the
line (and key) where that makes sense, so that the command exits with a message instead of a
traceback. Validation of the values is :mod:`interplay.config.params`' job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_MERGE_TAG = "tag:yaml.org,2002:merge"


class ParamsError(ValueError):
    """A params file that cannot be used; the message names the file and each bad key."""


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParamsError(
            f"{path}:{line}:{column}: not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ParamsError(f"{path}: no such params file") from None
    except IsADirectoryError:
        raise ParamsError(f"{path}: is a folder, not a params file; give the path of a YAML file") from None
    except OSError as exc:
        raise ParamsError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def _syntax_error(path: Path, exc: yaml.YAMLError) -> ParamsError:
    """The parser's own words on one line, at the position it points to."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    reason = f"{context}, {problem}" if context else problem
    return ParamsError(f"{where}: not valid YAML: {reason}")


def _duplicate_key(node: Node, path: tuple[str, ...] = (), seen_nodes: set[int] | None = None) -> str | None:
    """The first key given twice in one mapping, as ``key.path (lines a and b)``; None if there is none.

    Merge keys (``<<: *anchor``) are left out: overriding a merged value is what they are for.
    """
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if id(node) in seen_nodes:  # an alias of a node already checked
        return None
    seen_nodes.add(id(node))
    if isinstance(node, MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = key_node.value if isinstance(key_node, ScalarNode) else str(key_node.start_mark)
            line = key_node.start_mark.line + 1
            if key in first_line:
                dotted = ".".join((*path, key))
                return f"{line}: key '{dotted}' is given twice (lines {first_line[key]} and {line}); keep one"
            first_line[key] = line
            found = _duplicate_key(value_node, (*path, key), seen_nodes)
            if found:
                return found
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            found = _duplicate_key(item, (*path, str(index)), seen_nodes)
            if found:
                return found
    return None


def read_params_mapping(path: Path) -> dict[str, Any]:
    """The top-level mapping of a params file, or a one-line :class:`ParamsError` saying why not."""
    text = _decode(path, _read_bytes(path))
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            duplicate = _duplicate_key(node)
            if duplicate:
                raise ParamsError(f"{path}:{duplicate}")
        raw = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise _syntax_error(path, exc) from None
    finally:
        loader.dispose()
    if raw is None or raw == {}:
        raise ParamsError(
            f"{path}: holds no parameters (empty, or only comments); every stage would run on built-in "
            "defaults. Copy params.yaml from the repository, or a profile from profiles/, and edit that"
        )
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of sections at the top level, found {type(raw).__name__}")
    return raw
