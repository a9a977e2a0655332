"""Secrets never reach the log, whatever logs them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.logging_config import (
    SecretRedactor,
    configure_logging,
    logging_redirected,
    redact_also,
)
from bot.settings import Settings

TOKEN = "424242:AAE-made-up-token"  # noqa: S105 - a made-up token


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging(
        Settings(_env_file=None, telegram_token=SecretStr(TOKEN), log_level="DEBUG"),  # type: ignore[call-arg]  # pydantic-settings' init-only option
        stream,
    )
    yield stream
    root.handlers[:], root.level = saved
    logging.getLogger("httpx").setLevel(logging.NOTSET)


def test_a_token_in_a_message_or_a_traceback_is_redacted(log_output: io.StringIO) -> None:
    logger = logging.getLogger("tests.secret")
    logger.info("POST https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"failed at /bot{TOKEN}/sendMessage")
    except RuntimeError:
        logger.exception("sending failed")

    written = log_output.getvalue()
    assert TOKEN not in written
    assert "bot[secret]/getMe" in written
    assert "failed at /bot[secret]/sendMessage" in written


def test_http_client_request_lines_are_not_logged_at_info(log_output: io.StringIO) -> None:
    logging.getLogger("httpx").info("HTTP Request: POST https://example/bot%s/getUpdates", "x")

    assert "HTTP Request" not in log_output.getvalue()


def test_a_malformed_log_call_passes_through_the_redactor_unchanged() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "%s and %s", ("one",), None)

    # Left to logging, which reports "--- Logging error ---" instead of raising at the call.
    assert SecretRedactor([TOKEN]).filter(record)
    assert record.args == ("one",)


def test_a_secret_made_while_running_is_redacted_too(log_output: io.StringIO) -> None:
    redact_also("generated-webhook-secret")
    logging.getLogger("tests.secret").debug("setWebhook secret_token=generated-webhook-secret")

    assert "generated-webhook-secret" not in log_output.getvalue()
    assert "secret_token=[secret]" in log_output.getvalue()


def test_records_go_to_the_file_alone_while_redirected_then_back(
    log_output: io.StringIO, tmp_path: Path
) -> None:
    logger = logging.getLogger("tests.redirect")
    log_file = tmp_path / "newsbot.log"
    settings = Settings(_env_file=None, telegram_token=SecretStr(TOKEN))  # type: ignore[call-arg]  # pydantic-settings' init-only option
    redact_also("made-at-start")

    with logging_redirected(settings, log_file):
        logger.info("refused /breaking with token %s and %s", TOKEN, "made-at-start")
    logger.info("after the chat")

    written = log_file.read_text(encoding="utf-8")
    assert "INFO tests.redirect: refused /breaking with token [secret] and [secret]" in written
    assert "after the chat" not in written
    assert "refused /breaking" not in log_output.getvalue()
    assert "after the chat" in log_output.getvalue()


def test_a_log_file_that_cannot_be_opened_changes_nothing(
    log_output: io.StringIO, tmp_path: Path
) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]  # pydantic-settings' init-only option
    handlers = logging.getLogger().handlers[:]

    with pytest.raises(IsADirectoryError), logging_redirected(settings, tmp_path):
        pass

    assert logging.getLogger().handlers == handlers
    logging.getLogger("tests.redirect").info("still here")
    assert "still here" in log_output.getvalue()
