"""Credentials kept out of every log line and error message, at any verbosity.

Masking our own messages is not enough: with ``-v`` the HTTP stack logs raw response headers
(``httpcore``'s ``receive_response_headers``), and a server that echoes the ``Authorization``
header back puts the token in the log. So redaction happens where every record is made — a log
record factory installed once by the command line — and covers records of any library and any
handler, including handlers added later (Prefect's).

What is masked, and why each:

- the secrets known to this process (the Hub token ``huggingface_hub`` would send), by value:
  whatever a server does with them, they never show;
- ``Bearer``/``Basic`` credentials and ``token=…``/``"password": …`` values, by pattern: a
  credential we do not know (someone else's, echoed) is masked too;
- Hub-style tokens (``hf_`` + 30 or more letters and digits), by pattern;
- the ``user:password@`` part of a URL.

A record is changed only when its text holds something to mask, so records of libraries that
read ``record.args`` themselves (uvicorn's access log) keep working.
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
#: Known secrets shorter than this are not masked by value: masking a 3-letter word everywhere
#: would garble the log and protect nothing a real token (30+ characters) needs.
MIN_SECRET_LENGTH = 8
#: Environment variables that hold a Hub token (``huggingface_hub`` reads them).
TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{MASK}"),
    # base64 with a digit or +/=, so that prose ("Basic authentication") stays as it is
    (re.compile(r"(?i)\b(basic\s+)(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}"), rf"\1{MASK}"),
    # key-value credentials; the value token-like (with a digit), so that prose stays as it is
    (
        re.compile(
            r"(?i)\b((?:access_token|auth_token|token|api_key|apikey|password|passwd|secret)[\"']?\s*[:=]\s*[\"']?)"
            r"(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{8,}"
        ),
        rf"\1{MASK}",
    ),
    (re.compile(r"\bhf_[A-Za-z0-9]{30,}"), MASK),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@'\"]+:[^/\s@'\"]+@"), rf"\1{MASK}@"),
)

RecordFactory = Callable[..., logging.LogRecord]


def known_secrets() -> tuple[str, ...]:
    """The Hub token this process would send (environment or ``hf auth login``), if any."""
    found = [os.environ.get(name) for name in TOKEN_VARIABLES]
    try:
        from huggingface_hub import get_token

        found.append(get_token())
    except (ImportError, OSError):  # no client, or an unreadable token file: nothing more to know
        pass
    return tuple(sorted({s.strip() for s in found if s and len(s.strip()) >= MIN_SECRET_LENGTH}, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with the given secrets and anything that looks like a credential masked."""
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_url(url: str) -> str:
    """The URL without any ``user:password@`` part (for showing an endpoint)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def redact_record(record: logging.LogRecord, secrets: Iterable[str]) -> logging.LogRecord:
    """Mask credentials in a record's message, traceback and stack, in place; untouched when
    there is nothing to mask."""
    secrets = tuple(secrets)
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: logging reports it itself when it formats it
        return record
    masked = redact(message, secrets)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[0] is not None:
        # Formatted now, so that no handler (a rich traceback with locals) renders the raw one.
        text = record.exc_text or "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        masked = redact(text, secrets)
        if masked != text:
            record.exc_text, record.exc_info = masked, None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text, secrets)
    if record.stack_info:
        record.stack_info = redact(record.stack_info, secrets)
    return record


def redacting_factory(inner: RecordFactory, secrets: Iterable[str]) -> RecordFactory:
    """A log record factory that makes records with ``inner`` and masks them."""
    secrets = tuple(secrets)
    inner = getattr(inner, "redaction_inner", inner)  # installed twice: wrap the original once

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        return redact_record(inner(*args, **kwargs), secrets)

    factory.redaction_inner = inner  # type: ignore[attr-defined]
    factory.redaction_secrets = secrets  # type: ignore[attr-defined]
    return factory


def install_redaction(secrets: Iterable[str] | None = None) -> None:
    """Mask credentials in every log record of this process from now on (the command line calls
    it once, after configuring logging); ``secrets`` defaults to :func:`known_secrets`."""
    chosen = known_secrets() if secrets is None else tuple(secrets)
    logging.setLogRecordFactory(redacting_factory(logging.getLogRecordFactory(), chosen))
