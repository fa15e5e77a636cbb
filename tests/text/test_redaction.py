"""No credential in any log line: our messages, other libraries' records, tracebacks, and the raw
HTTP headers of a server that echoes the ``Authorization`` header back, at every verbosity."""

from __future__ import annotations

import logging
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from hub_fixtures import FAKE_TOKEN, LoopbackHub, loopback_hub  # noqa: F401  (fixture)

from interplay.text.redaction import MASK, redact, redact_record, redacting_factory

SECRET = "sk-known-secret-0123456789"


@pytest.mark.parametrize(
    "text, masked",
    [
        (f"token {SECRET} sent", f"token {MASK} sent"),  # known value, anywhere
        ("(b'Authorization', b'Bearer someone-elses-token-42')", f"(b'Authorization', b'Bearer {MASK}')"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", f"Authorization: Basic {MASK}"),
        ('{"token": "abcdef123456", "password": "hunter2hunter2"}', f'{{"token": "{MASK}", "password": "{MASK}"}}'),
        ("hf_" + "a1" * 17 + " leaked", f"{MASK} leaked"),
        ("https://user:pa55word@hub.example/api", f"https://{MASK}@hub.example/api"),
    ],
)
def test_credentials_are_masked(text: str, masked: str) -> None:
    assert redact(text, [SECRET]) == masked


@pytest.mark.parametrize(
    "text",
    ["the token found was rejected", "Basic authentication failed", "pad token: <|endoftext|>",
     "stage key: 0123456789abcdef", "Bearer ok"],
)
def test_prose_is_left_alone(text: str) -> None:
    assert redact(text, [SECRET]) == text


def test_records_of_any_logger_are_masked_and_others_untouched() -> None:
    handler_records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            handler_records.append(self.format(record))

    logger = logging.getLogger("some.http.library")
    handler = Keep()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    previous = logging.getLogRecordFactory()
    logging.setLogRecordFactory(redacting_factory(previous, [SECRET]))
    logging.setLogRecordFactory(redacting_factory(logging.getLogRecordFactory(), [SECRET]))  # twice: wraps once
    try:
        # an earlier in-process `interplay` call may have installed one already: still one layer
        assert logging.getLogRecordFactory().redaction_inner is getattr(previous, "redaction_inner", previous)
        logger.warning("headers=%s", [(b"authorization", f"Bearer {SECRET}".encode())])
        try:
            raise RuntimeError(f"server said: {SECRET}")
        except RuntimeError:
            logger.exception("request failed")
        record = logging.makeLogRecord({"msg": "%s %s", "args": ("GET", "/api")})
        assert redact_record(record, [SECRET]).args == ("GET", "/api")  # nothing to mask: as made
    finally:
        logging.setLogRecordFactory(previous)
        logger.removeHandler(handler)
        logger.propagate = True
    assert len(handler_records) == 2 and "RuntimeError: server said: ***" in handler_records[1]
    assert all(SECRET not in text for text in handler_records)


def test_echoing_server_puts_the_token_in_no_log(loopback_hub: LoopbackHub, tmp_path: Path) -> None:  # noqa: F811
    """``interplay publish`` in fresh processes, quiet, ``-v`` and with ``HF_DEBUG``, against a Hub
    that echoes the Authorization header in every response (headers, error messages, bodies)."""
    from dialogue_fixtures import write_dialogues

    root = tmp_path / "project"
    write_dialogues(root, {"test": 2})
    (root / "params.yaml").write_text(
        "publish:\n  target: hub\n  repo_id: interplay-tests/echo\n  version: v0.1.0\n  backoff_s: 0.01\n"
    )
    env = loopback_hub.client_env(tmp_path / "hf_home")
    wrong = "hf_WRONGechoTOKEN9876543210zyxwvu"

    def publish(*flags: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "interplay.cli", *flags, "publish"], cwd=root, env={**env, **extra},
            capture_output=True, text=True, timeout=120, check=False,
        )

    loopback_hub.echo_credentials(True)
    try:
        request = urllib.request.Request(f"{loopback_hub.url}/api/whoami-v2",
                                         headers={"Authorization": f"Bearer {FAKE_TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert FAKE_TOKEN in response.headers["X-Echo-Authorization"]  # the server does echo it
        runs = [publish(), publish("-v"), publish("-v", HF_DEBUG="1")]
        rejected = [publish("-v", HF_TOKEN=wrong), publish(HF_TOKEN=wrong)]
    finally:
        loopback_hub.echo_credentials(False)

    assert [p.returncode for p in runs] == [0, 0, 0], runs[0].stderr[-2000:]
    assert "nothing to do" in runs[1].stderr
    assert "receive_response_headers" in runs[1].stderr and f"Bearer {MASK}" in runs[1].stderr  # logged, masked
    assert [p.returncode for p in rejected] == [2, 2] and "refused the credentials" in rejected[1].stderr
    for proc in runs + rejected:
        output = proc.stdout + proc.stderr
        assert FAKE_TOKEN not in output and wrong not in output
